"""The dashboard in a real headless Chromium (Debian's ``chromium`` + ``chromedriver``).

The app (``liqmap.service.app.create_app`` on the bundled sample) is served by uvicorn on
127.0.0.1 with an OS-assigned port in a background thread; Selenium drives Chromium. The
tests wait on the ``data-*`` attributes the page sets when a chart has rendered (no
sleeps) and read the browser console for errors:

- the page loads, the heatmap, map, cascade and scorecard panels render, a new lookback
  issues a new request and redraws a shorter span; a screenshot goes to
  ``build/screenshots/dashboard.png`` (look at it after a change to the page);
- a data change announced on ``/api/v1/stream`` redraws the charts;
- API errors (422, the scorecard's 404) are shown in the panels with the server's words.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / "build" / "screenshots" / "dashboard.png"
WAIT_S = 30  # upper bound for one rendering step; the test waits for attributes, not time
CHROME_ARGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--window-size=1600,1300", "--hide-scrollbars",
)

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason="needs Debian's chromium and chromedriver (apt-get install chromium chromium-driver)",
)

from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

# The production deadline (2 s) answers 503 while a cold numba compile runs on a slow CI
# machine; these tests check answers, not the deadline (tests/service/test_service_faults.py does).
SLOW_CI_DEADLINE_S = 120.0


class _Server:
    """uvicorn serving ``app`` on 127.0.0.1:<free port> in a daemon thread."""

    def __init__(self, app):
        import uvicorn

        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                timeout_graceful_shutdown=1, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + WAIT_S
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _write_scorecard(folder: Path) -> dict:
    """A ``metrics-T.json`` as ``liqmap backtest`` writes it, scored by the real scorecard
    code on synthetic predictions (the shared data are not needed)."""
    from liqmap.scorecard.metrics import compare, score_predictor

    rng = np.random.default_rng(7)
    realized = rng.lognormal(12, 2, 400) * (rng.random(400) < 0.4)
    calib = np.arange(400) < 200
    preds = {"model": (realized * rng.lognormal(0, 0.6, 400) + 1.0, True),
             "range_oi": (rng.lognormal(10, 1, 400), False)}
    metrics = {sp: {sd: {} for sd in ("long", "short")} for sp in ("calibration", "scoring")}
    for sd in ("long", "short"):
        for name, (x, usd) in preds.items():
            for sp, m in score_predictor(x, realized, calib, ~calib, usd=usd).items():
                metrics[sp][sd][name] = m
    verdict = {sd: {"range_oi": {"statement": compare(metrics["scoring"][sd]["model"],
                                                      metrics["scoring"][sd]["range_oi"]
                                                      ).statement(sd, "range_oi")}}
               for sd in ("long", "short")}
    summary = {"window": "T", "verdict": verdict,
               "metrics": {sp: {sd: {p: m.to_dict() for p, m in by.items()}
                                for sd, by in v.items()} for sp, v in metrics.items()}}
    (folder / "metrics-T.json").write_text(json.dumps(summary))
    return summary


@pytest.fixture(scope="module")
def scorecard(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("scorecard")
    return folder, _write_scorecard(folder)


def _source_with_realized():
    """The bundled sample plus liquidation events drawn from its own bars (the sample has
    no realized liquidations): longs liquidated at the lows, shorts at the highs of the
    bars with the widest ranges, sized by a share of the bar's volume."""
    from liqmap.core.realized import RealizedLiquidations
    from liqmap.service.sources import BundledSource

    class WithRealized(BundledSource):
        def realized(self, venue, symbol, start_ms=None, end_ms=None):
            b = self.bars(venue, symbol)
            idx = np.sort(np.argsort(b.low - b.high)[:400])  # the 400 widest bars
            side = np.where(np.arange(idx.size) % 2 == 0, 1, -1).astype(np.int8)
            price = np.where(side > 0, b.low[idx], b.high[idx])
            qty = 0.002 * b.volume[idx]
            keep = ((b.ts_ms[idx] >= (start_ms or 0))
                    & (b.ts_ms[idx] < (end_ms if end_ms is not None else np.inf)))
            return RealizedLiquidations(b.ts_ms[idx][keep], side[keep], price[keep], qty[keep],
                                        (qty * price)[keep], venue=venue, symbol=symbol,
                                        source="test: synthetic from bars")

    return WithRealized()


@pytest.fixture(scope="module")
def base_url(scorecard):
    from liqmap.service.app import create_app

    app = create_app(_source_with_realized(), deadline_s=SLOW_CI_DEADLINE_S, scorecard_dir=scorecard[0])
    with _Server(app) as url:
        yield url


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    drv = chromium_driver(tmp_path_factory.mktemp("chromium-profile"), CHROME_ARGS)
    try:
        yield drv
    finally:
        drv.quit()


def chromium_driver(profile: Path, args, wait_s: float = WAIT_S):
    """Headless Debian chromium with ``args``, a fresh profile and the console log kept."""
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in args:
        opts.add_argument(arg)
    opts.add_argument(f"--user-data-dir={profile}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    drv.set_page_load_timeout(wait_s)
    return drv


def _wait(drv, cond, what: str):
    """Wait for ``cond(drv)`` to be truthy; on timeout say what and show the page's state."""
    try:
        return WebDriverWait(drv, WAIT_S).until(cond)
    except Exception as exc:  # TimeoutException: add the page's own account of itself
        status = drv.execute_script("return document.getElementById('status').textContent")
        errors = drv.execute_script(
            "return [...document.querySelectorAll('.error:not([hidden])')].map(e => e.textContent)")
        raise AssertionError(f"timed out waiting for {what}; status={status!r} errors={errors!r} "
                             f"console={_console(drv)!r}") from exc


def _data(drv, element_id: str) -> dict:
    return drv.execute_script(f"return {{...document.getElementById('{element_id}').dataset}}")


def _console(drv) -> list[dict]:
    return [e for e in drv.get_log("browser") if e["level"] == "SEVERE"]


def _unexpected(entries: list[dict], allowed: tuple[str, ...] = ()) -> list[dict]:
    """SEVERE console entries, less network failures of the URLs in ``allowed``."""
    return [e for e in entries
            if not (e.get("source") == "network" and any(a in e["message"] for a in allowed))]


def _heat_trace(drv) -> dict:
    """The heatmap trace as the page handed it to Plotly: counts of cells, finite cells."""
    return drv.execute_script("""
        const gd = document.getElementById('heatmap');
        const t = (gd.data || []).find(d => d.type === 'heatmap');
        if (!t) return {n_traces: (gd.data || []).length, cells: 0, finite: 0};
        const flat = t.z.flat();
        return {n_traces: gd.data.length, cells: flat.length,
                finite: flat.filter(v => v !== null && Number.isFinite(v)).length,
                svg: document.querySelectorAll('#heatmap .main-svg').length,
                price_points: gd.data.find(d => d.name === 'price (close)').y.length};
    """)


def _requests(drv, fragment: str) -> list[str]:
    return drv.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(n => n.includes(arguments[0]))", fragment)


def _save_screenshot(drv) -> Path:
    """Resize the window to the whole page, then save the screenshot."""
    need = drv.execute_script("return document.documentElement.scrollHeight")
    chrome = drv.execute_script("return window.outerHeight - window.innerHeight")
    drv.set_window_size(1600, int(need) + int(chrome) + 10)
    _wait(drv, lambda d: d.execute_script(
        "return document.documentElement.scrollHeight <= window.innerHeight + 1"), "page resize")
    _wait(drv, lambda d: d.execute_script("""
        const box = (s) => document.querySelector(s).getBoundingClientRect();
        return box('#heatmap .main-svg').bottom <= box('.heat-panel').bottom + 0.5
            && box('#map .main-svg').bottom <= box('.map-panel').bottom + 0.5;"""),
          "the charts to fit inside their panels")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert drv.save_screenshot(str(SCREENSHOT)), "screenshot not written"
    return SCREENSHOT


def test_dashboard_renders_switches_lookback_and_runs_cascade(base_url, scorecard, driver):
    drv = driver
    _open(drv, base_url)

    # the heatmap: Plotly drew it, the trace holds coloured cells, the price line is on it
    first = _data(drv, "heatmap")
    assert first["renderedLookback"] == drv.find_element(By.ID, "lookback").get_attribute("value")
    heat = _heat_trace(drv)
    assert heat["svg"] > 0 and heat["n_traces"] >= 2, heat
    assert heat["finite"] > 0 and int(first["nonzeroCells"]) > 0, heat
    assert heat["price_points"] > 1, heat
    bubbles = drv.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const gd = document.getElementById('heatmap');
        const shown = gd.data.filter(d => d.name.startsWith('realized'))
                             .reduce((n, d) => n + d.x.length, 0);
        const url = performance.getEntriesByType('resource').map(e => e.name)
                               .find(n => n.includes('/api/v1/heatmap?'));
        fetch(url).then(r => r.json()).then(b => done([shown, b.realized.length]));""")
    assert bubbles[0] == bubbles[1] > 0, bubbles  # every realized event in the window drawn
    assert _data(drv, "map")["state"] == "rendered"
    imbalance = drv.find_element(By.ID, "imbalance").text
    assert "of shorts within" in imbalance, imbalance
    assert re.search(r"(\d|∞):\d|n/a", imbalance), imbalance  # the shorts:longs ratio
    assert drv.find_elements(By.CSS_SELECTOR, "#clusters li"), "no cluster listed"

    # a shorter lookback: a new request with it, and a chart spanning less time
    new = "3d" if first["renderedLookback"] != "3d" else "24h"
    Select(drv.find_element(By.ID, "lookback")).select_by_value(new)
    _wait(drv, lambda d: _data(d, "heatmap").get("renderedLookback") == new
          and d.execute_script("return document.body.dataset.state") == "ready",
          f"the heatmap for lookback={new}")
    assert _requests(drv, "/api/v1/heatmap?"), "no heatmap request seen"
    assert any(f"lookback={new}" in u for u in _requests(drv, "/api/v1/heatmap?"))
    assert any(f"lookback={new}" in u for u in _requests(drv, "/api/v1/map?"))
    second = _data(drv, "heatmap")
    span = lambda d: float(d["xToMs"]) - float(d["xFromMs"])  # noqa: E731
    assert span(second) < span(first), (first, second)
    assert _heat_trace(drv)["finite"] > 0

    # the cascade panel: a shock, run, a path and an amplification figure
    drv.execute_script("const s = document.getElementById('shock'); s.value = '-8';"
                       "s.dispatchEvent(new Event('input'))")
    assert "8.0" in drv.find_element(By.ID, "shock-value").text
    drv.find_element(By.ID, "cascade-run").click()
    _wait(drv, lambda d: _data(d, "cascade-chart").get("state") in ("rendered", "error"),
          "the cascade result")
    casc = _data(drv, "cascade-chart")
    assert casc["state"] == "rendered", drv.find_element(By.ID, "cascade-error").text
    assert float(casc["shock"]) == -8.0 and int(casc["points"]) >= 1
    assert any("shock_pct=-8" in u and f"lookback={new}" in u
               for u in _requests(drv, "/api/v1/cascade?"))
    path_len = drv.execute_script(
        "return document.getElementById('cascade-chart').data[1].y.length")
    assert path_len == int(casc["points"])
    amp = drv.find_element(By.CSS_SELECTOR, "[data-testid=cascade-amplification]").text
    sent = drv.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const url = performance.getEntriesByType('resource').map(e => e.name)
                               .filter(n => n.includes('/api/v1/cascade?')).pop();
        fetch(url).then(r => r.json()).then(done);""")
    assert amp == ("n/a" if sent["amplification"] is None else f"{sent['amplification']:.2f}×")
    assert len(sent["path"]) == path_len

    # the scorecard panel: the table of the metrics file the server was given
    _wait(drv, lambda d: _data(d, "scorecard").get("state") in ("loaded", "missing", "error"),
          "the scorecard panel")
    assert _data(drv, "scorecard")["state"] == "loaded", drv.find_element(By.ID, "scorecard").text
    rows = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in drv.find_elements(By.CSS_SELECTOR, "#scorecard tbody tr")]
    assert {(r[0], r[1]) for r in rows} == {(sd, p) for sd in ("long", "short")
                                            for p in ("model", "range_oi")}
    model_long = scorecard[1]["metrics"]["scoring"]["long"]["model"]
    assert f"{model_long['spearman']:.3f}" in next(r for r in rows if r[:2] == ["long", "model"])
    statement = scorecard[1]["verdict"]["long"]["range_oi"]["statement"]
    assert statement in drv.find_element(By.ID, "scorecard").text

    assert not _unexpected(_console(drv)), _console(drv)
    assert _save_screenshot(drv).stat().st_size > 20_000


class _Growing:
    """Mixin for a source whose data version the test moves on (``edition``)."""

    edition = 0

    def catalog(self):
        from dataclasses import replace

        cat = super().catalog()
        return replace(cat, version=f"{cat.version}-{self.edition}")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A second app: a source whose version the test bumps, and no scorecard (404)."""
    from liqmap.service.app import create_app
    from liqmap.service.sources import BundledSource

    src = type("Growing", (_Growing, BundledSource), {})()
    app = create_app(src, deadline_s=SLOW_CI_DEADLINE_S,
                     scorecard_dir=tmp_path_factory.mktemp("no-scorecard"),
                     catalog_ttl_s=0.1, stream_poll_s=0.1)
    with _Server(app) as url:
        yield url, src


def _open(drv, url: str) -> None:
    """Fresh page at the default window size, console drained, first render done."""
    drv.get_log("browser")
    drv.set_window_size(1600, 1300)
    drv.get(url + "/")
    _wait(drv, lambda d: d.execute_script("return document.body.dataset.state") == "ready",
          "the first render")


def test_dashboard_redraws_on_a_live_update(live, driver):
    """A new data version reaches the page through /api/v1/stream and the charts redraw."""
    url, src = live
    _open(driver, url)
    _wait(driver, lambda d: "on" in d.find_element(By.ID, "live").get_attribute("class"),
          "the live stream")
    before = _data(driver, "heatmap")["dataVersion"]
    n_before = len(_requests(driver, "/api/v1/heatmap?"))
    src.edition += 1
    _wait(driver, lambda d: _data(d, "heatmap").get("dataVersion") not in (None, before)
          and d.execute_script("return document.body.dataset.state") == "ready",
          "the redraw after the data changed")
    assert _data(driver, "heatmap")["dataVersion"] == src.catalog().version
    assert len(_requests(driver, "/api/v1/heatmap?")) == n_before + 1


def test_dashboard_shows_api_errors_in_the_panel(live, driver):
    drv = driver
    _open(drv, live[0])
    _wait(drv, lambda d: _data(d, "scorecard").get("state") in ("loaded", "missing", "error"),
          "the scorecard panel")
    assert _data(drv, "scorecard")["state"] == "missing"
    assert "no scorecard" in drv.find_element(By.ID, "scorecard").text  # the server's words
    # a venue the server does not know: the API answers 422 and the page must say why
    drv.execute_script("""
        const s = document.getElementById('venue');
        s.add(new Option('no-such-venue', 'no-such-venue')); s.value = 'no-such-venue';
        s.dispatchEvent(new Event('change'));""")
    _wait(drv, lambda d: d.execute_script("return document.body.dataset.state") == "error",
          "the error state")
    for name in ("heatmap", "map"):
        box = drv.find_element(By.ID, f"{name}-error")
        assert box.is_displayed(), name
        assert "venue" in box.text.split(":", 1)[1], box.text  # the server's reason, not ours
        assert "HTTP 422" in box.text, box.text
        assert _data(drv, name)["state"] == "error"
    assert "some panels failed" in drv.find_element(By.ID, "status").text
    assert "aggregate" not in drv.find_element(By.ID, "heatmap-title").text  # no stale title
    logs = _console(drv)
    assert any("/api/v1/heatmap" in e["message"] for e in logs), logs  # the failed request
    unexpected = _unexpected(logs, ("/api/v1/heatmap", "/api/v1/map", "/api/v1/scorecard",
                                    "/api/v1/brief"))
    assert not unexpected, unexpected


def _ready(drv) -> bool:
    return drv.execute_script("return document.body.dataset.state") == "ready"


def _fetch_json(drv, url: str):
    return drv.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => r.json()).then(done);", url)


def test_dashboard_brief_convention_toggle_and_time_picker(base_url, driver):
    """The brief panel shows the API's paragraph and numbers; the counting toggle re-requests
    map, heatmap and brief in the vendor convention and labels them; the time picker replays
    an earlier moment in all three; the downloads are the map's CSV and the brief's JSON.
    Screenshots of the brief panel and of a 24-hour heatmap (its first column holds the
    standing levels) go to ``build/screenshots/``."""
    drv = driver
    _open(drv, base_url)
    _wait(drv, lambda d: _data(d, "brief").get("state") == "rendered", "the brief panel")
    href = drv.find_element(By.ID, "brief-json").get_attribute("href")
    assert "/api/v1/brief?" in href and "lookback" not in href
    sent = _fetch_json(drv, href)
    assert drv.find_element(By.ID, "brief-text").text == sent["text"]
    numbers = drv.find_element(By.ID, "brief-numbers").text
    assert re.search(r"\d+\.\d:1 (shorts|longs)", numbers), numbers  # the ratio, N:1
    assert "squeeze ceiling" in numbers and "flush floor" in numbers and "watch above" in numbers
    if sent["squeeze_ceiling_usd"] is not None:
        assert f"{round(sent['squeeze_ceiling_usd']):,}" in numbers
    assert "liqmap" in drv.find_element(By.ID, "map-convention").text

    # the counting toggle: vendor-style map, heatmap and brief, labelled as such
    Select(drv.find_element(By.ID, "convention")).select_by_value("vendor")
    _wait(drv, lambda d: _ready(d) and _data(d, "map").get("convention") == "vendor"
          and _data(d, "heatmap").get("convention") == "vendor"
          and _data(d, "brief").get("convention") == "vendor", "the vendor-style redraw")
    assert "vendor" in drv.find_element(By.ID, "map-convention").text
    assert "vendor-style" in drv.find_element(By.ID, "heatmap-title").text
    assert "vendor" in drv.find_element(By.ID, "brief-convention").text
    assert drv.find_element(By.ID, "brief-text").text.startswith("Convention: vendor-style")
    for path in ("/api/v1/heatmap?", "/api/v1/map?", "/api/v1/brief?"):
        assert any("convention=vendor" in u for u in _requests(drv, path)), path

    # the time picker: five days before the end, in every panel
    end = int(drv.execute_script("return Date.parse(document.getElementById('at').max + ':00Z')"))
    at = end - 5 * 86_400_000
    before = _data(drv, "map")["renderedTsMs"]
    drv.execute_script("const a = document.getElementById('at');"
                       "a.value = new Date(arguments[0]).toISOString().slice(0, 16);"
                       "a.dispatchEvent(new Event('change'));", at)
    _wait(drv, lambda d: _ready(d) and _data(d, "map").get("renderedTsMs") == str(at)
          and _data(d, "heatmap").get("toMs") == str(at)
          and _data(d, "brief").get("tsMs") == str(at), "the replay at the picked time")
    assert before != str(at)
    assert any(f"at_ms={at}" in u for u in _requests(drv, "/api/v1/map?"))
    csv_url = drv.find_element(By.ID, "map-csv").get_attribute("href")
    assert "format=csv" in csv_url and f"at_ms={at}" in csv_url and "convention=vendor" in csv_url
    head = drv.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => r.text()).then(t => done(t.split('\\n')[0]));", csv_url)
    assert head.startswith("price_usd,long_usd,short_usd"), head
    assert _fetch_json(drv, drv.find_element(By.ID, "brief-json").get_attribute("href"))[
        "ts_ms"] == at

    # back to the last bar, liqmap's counting, 24 hours: the screenshots
    drv.find_element(By.ID, "at-latest").click()
    Select(drv.find_element(By.ID, "convention")).select_by_value("liqmap")
    Select(drv.find_element(By.ID, "lookback")).select_by_value("24h")
    _wait(drv, lambda d: _ready(d) and _data(d, "heatmap").get("renderedLookback") == "24h"
          and _data(d, "heatmap").get("convention") == "liqmap"
          and _data(d, "brief").get("convention") == "liqmap"
          and d.find_element(By.ID, "at").get_attribute("value") == "", "the 24-hour view")
    assert "Standing levels" in drv.find_element(By.ID, "heatmap-note").text
    _save_screenshot(drv)  # the whole page in the window, so the panels are not cut
    for css, name in ((".brief-panel", "brief-panel.png"), (".heat-panel", "heatmap-24h.png")):
        assert drv.find_element(By.CSS_SELECTOR, css).screenshot(str(SCREENSHOT.parent / name))
    assert not _unexpected(_console(drv)), _console(drv)
