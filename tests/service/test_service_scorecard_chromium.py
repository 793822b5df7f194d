"""The dashboard's scorecard panel on a store with live predictions (Debian chromium):
the rolling figures and the small predicted-vs-realized series."""

from __future__ import annotations

import pytest
from tests.scorecard.test_running import fill
from tests.service.test_service_dashboard_chromium import (
    SLOW_CI_DEADLINE_S,
    _console,
    _data,
    _open,
    _Server,
    _unexpected,
    _wait,
    driver,  # noqa: F401 - the browser fixture
    pytestmark,  # noqa: F401 - skipped where chromium is missing
)

from liqmap.io.sample import load_sample
from liqmap.scorecard.running import running_scorecard
from liqmap.service.sources import StoreSource
from liqmap.store import DuckDBStore


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    from liqmap.service.app import create_app

    store = DuckDBStore(tmp_path_factory.mktemp("dash") / "live.duckdb")
    fill(store, bars=load_sample().take(slice(0, 4 * 288)))
    app = create_app(StoreSource(store), deadline_s=SLOW_CI_DEADLINE_S,
                     scorecard_dir=tmp_path_factory.mktemp("no-files"))
    with _Server(app) as url:
        yield url, running_scorecard(store)
    store.close()


def test_scorecard_panel_shows_the_running_figures_and_series(running, driver):  # noqa: F811
    from selenium.webdriver.common.by import By

    url, card = running
    _open(driver, url)
    _wait(driver, lambda d: _data(d, "scorecard").get("state") in ("loaded", "missing", "error"),
          "the scorecard panel")
    panel = driver.find_element(By.ID, "scorecard")
    assert _data(driver, "scorecard")["state"] == "loaded", panel.text
    assert _data(driver, "scorecard")["kind"] == "running"
    rows = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in driver.find_elements(By.CSS_SELECTOR, "#scorecard tbody tr")]
    spans = [s for s, sp in card["spans"].items() if sp["metrics"]]
    assert {r[0] for r in rows} == set(spans) and len(rows) == len(spans) * 2 * 4
    m = card["spans"]["24h"]["metrics"]["long"]["model"]
    assert f"{m['spearman']:.3f}" in next(r for r in rows if r[:3] == ["24h", "long", "model"])
    assert card["spans"]["24h"]["verdict"]["short"]["excursion"]["statement"] in panel.text
    assert "lower bound" in panel.text
    points = _data(driver, "scorecard-series").get("points")
    assert points == str(len(card["series"]["ts_ms"]))
    assert driver.execute_script(
        "return document.getElementById('scorecard-series').data.length") == 4
    assert not _unexpected(_console(driver)), _console(driver)
