"""The dashboard's symbol picker and market-scan panel on a store holding two symbols
(generated BTC and ETH bars on the four venues) in Debian's headless chromium.

A screenshot of the page goes to ``build/screenshots/dashboard-scan.png`` (look at it after
a change to the scan panel).
"""

from __future__ import annotations

import pytest
from tests.service.test_service_dashboard_chromium import (
    REPO,
    SLOW_CI_DEADLINE_S,
    _console,
    _data,
    _open,
    _requests,
    _Server,
    _unexpected,
    _wait,
    driver,  # noqa: F401 - the browser fixture
    pytestmark,  # noqa: F401 - skipped where chromium is missing
)

from liqmap.scaleout.market import generated_market
from liqmap.service.sources import StoreSource
from liqmap.store import DuckDBStore

SCREENSHOT = REPO / "build" / "screenshots" / "dashboard-scan.png"


@pytest.fixture(scope="module")
def two_symbols(tmp_path_factory):
    """A DuckDB store of generated BTC and ETH bars on binance, bybit, okx, hyperliquid."""
    from liqmap.service.app import create_app

    store = DuckDBStore(tmp_path_factory.mktemp("scan") / "two.duckdb")
    for series in generated_market(2, n_bars=600):
        store.write_bars(series.bars())
    app = create_app(StoreSource(store), deadline_s=SLOW_CI_DEADLINE_S,
                     scorecard_dir=tmp_path_factory.mktemp("no-files"))
    with _Server(app) as url:
        yield url
    store.close()


def _options(drv, select_id: str) -> list[str]:
    return drv.execute_script(
        f"return [...document.getElementById('{select_id}').options].map(o => o.value)")


def _pick(drv, select_id: str, value: str) -> None:
    drv.execute_script(f"""
        const s = document.getElementById('{select_id}'); s.value = arguments[0];
        s.dispatchEvent(new Event('change'));""", value)


def _scan_rows(drv) -> list[list[str]]:
    from selenium.webdriver.common.by import By

    return [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in drv.find_elements(By.CSS_SELECTOR, "#scan tbody tr")]


def _loaded(drv, sort: str):
    _wait(drv, lambda d: _data(d, "scan").get("state") == "loaded"
          and _data(d, "scan").get("sort") == sort, f"the scan sorted by {sort}")


def test_symbol_picker_lists_the_symbols_and_their_venues(two_symbols, driver):  # noqa: F811
    from selenium.webdriver.common.by import By

    drv = driver
    _open(drv, two_symbols)
    assert drv.find_element(By.ID, "symbol-label").is_displayed()
    assert sorted(_options(drv, "symbol")) == ["BTC/USDC:USDC", "BTC/USDT:USDT",
                                               "ETH/USDC:USDC", "ETH/USDT:USDT"]
    _pick(drv, "symbol", "ETH/USDT:USDT")
    # the venue picker holds the venues of that symbol (hyperliquid lists USDC perpetuals)
    assert _options(drv, "venue") == ["binance", "bybit", "okx", "aggregate"]
    _wait(drv, lambda d: d.execute_script("return document.body.dataset.state") == "ready"
          and "ETH/USDT:USDT" in d.find_element(By.ID, "heatmap-title").text,
          "the ETH heatmap")
    for path in ("/api/v1/heatmap?", "/api/v1/map?", "/api/v1/brief?"):
        assert any("symbol=ETH%2FUSDT%3AUSDT" in u for u in _requests(drv, path)), path
    _pick(drv, "symbol", "ETH/USDC:USDC")
    assert _options(drv, "venue") == ["hyperliquid", "aggregate"]
    _wait(drv, lambda d: d.execute_script("return document.body.dataset.state") == "ready"
          and "ETH/USDC:USDC" in d.find_element(By.ID, "heatmap-title").text,
          "the Hyperliquid ETH heatmap")
    assert not _unexpected(_console(drv), ("/api/v1/scorecard",)), _console(drv)


def test_scan_panel_sorts_and_a_row_picks_the_series(two_symbols, driver):  # noqa: F811
    from selenium.webdriver.common.by import By

    drv = driver
    _open(drv, two_symbols)
    _loaded(drv, "imbalance")
    rows = _scan_rows(drv)
    assert len(rows) == 8  # 2 symbols x 4 venues
    assert {(r[1], r[2]) for r in rows} == {
        (f"{b}/{q}:{q}", v) for b in ("BTC", "ETH")
        for v, q in (("binance", "USDT"), ("bybit", "USDT"), ("okx", "USDT"),
                     ("hyperliquid", "USDC"))}
    api = drv.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('/api/v1/scan?sort=imbalance&top=50').then(r => r.json()).then(done);")
    assert [(r[1], r[2]) for r in rows] == [(r["symbol"], r["venue"]) for r in api["rows"]]
    head = drv.find_element(By.CSS_SELECTOR, "[data-testid=scan-head]").text
    assert "8 of 8 series" in head and "4 symbols × 4 venues" in head  # USDT and USDC

    _pick(drv, "scan-sort", "symbol")
    _loaded(drv, "symbol")
    by_symbol = [(r[1], r[2]) for r in _scan_rows(drv)]
    assert by_symbol == sorted(by_symbol)

    _pick(drv, "scan-top", "3")
    _wait(drv, lambda d: _data(d, "scan").get("rows") == "3", "the top 3 rows")

    # a row click shows that series in the charts
    row = drv.find_elements(By.CSS_SELECTOR, "#scan tbody tr")[-1]
    symbol, venue = row.get_attribute("data-symbol"), row.get_attribute("data-venue")
    row.click()
    assert drv.find_element(By.ID, "symbol").get_attribute("value") == symbol
    assert drv.find_element(By.ID, "venue").get_attribute("value") == venue
    _wait(drv, lambda d: d.execute_script("return document.body.dataset.state") == "ready"
          and f"{symbol} · {venue}" in d.find_element(By.ID, "heatmap-title").text,
          "the picked series' heatmap")
    assert "picked" in row.get_attribute("class")

    _pick(drv, "scan-top", "50")
    _pick(drv, "scan-sort", "imbalance")
    _loaded(drv, "imbalance")
    drv.execute_script("document.querySelector('.scan-panel').scrollIntoView()")
    need = drv.execute_script("return document.documentElement.scrollHeight")
    drv.set_window_size(1600, int(need) + 140)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert drv.save_screenshot(str(SCREENSHOT)), "screenshot not written"
    assert not _unexpected(_console(drv), ("/api/v1/scorecard",)), _console(drv)
