"""The chart pages in a real headless Chromium (Debian's ``chromium`` + ``chromedriver``).

Each page (heatmap and map; plotly.js shared beside the page or inlined, opened from disk
with the network off) must draw with no console error, and look exactly like the page
plotly.py writes for the same figure dict: the same traces and axis ranges as plotly.js
lays them out, the same screenshot pixels.
"""

from __future__ import annotations

import base64
import io
import shutil
from pathlib import Path

import numpy as np
import pytest

from liqmap.plots import _html
from liqmap.plots import _style as st
from liqmap.plots import heatmap as H
from liqmap.plots import mapchart as M

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
WAIT_S = 30
CHROME_ARGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--disable-background-networking", "--disable-component-update",
               "--no-first-run", "--window-size=1200,800", "--hide-scrollbars")

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
go = pytest.importorskip("plotly.graph_objects")
pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason="needs Debian's chromium and chromedriver (apt-get install chromium chromium-driver)",
)

from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

DRAWN = """
const gd = document.querySelector('.plotly-graph-div');
if (!gd || !gd._fullLayout || !document.querySelector('.main-svg')) return null;
return {types: gd._fullData.map(t => t.type), names: gd._fullData.map(t => t.name || ''),
        x: gd._fullLayout.xaxis.range.map(String), y: gd._fullLayout.yaxis.range,
        bg: gd._fullLayout.paper_bgcolor, legend: gd._fullLayout.showlegend};
"""


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    from tests.service.test_service_dashboard_chromium import chromium_driver

    drv = chromium_driver(tmp_path_factory.mktemp("chromium-profile"), CHROME_ARGS, WAIT_S)
    try:
        yield drv
    finally:
        drv.quit()


def _render(drv, path: Path) -> tuple[dict, np.ndarray]:
    """Open ``path``, wait until plotly.js has drawn it; its layout facts and screenshot."""
    from PIL import Image

    drv.get_log("browser")
    drv.get(path.as_uri())
    facts = WebDriverWait(drv, WAIT_S).until(lambda d: d.execute_script(DRAWN))
    errors = [e for e in drv.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
    png = base64.b64decode(drv.get_screenshot_as_base64())
    return facts, np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _figures(synth, synth_map) -> dict[str, dict]:
    hm, realized, _ = synth
    m, marks = synth_map
    return {"heatmap": H._html_figure(hm, "both", None, realized, True, None, 400, 200),
            "map": M._html_figure(m, marks["imbalance"], marks["clusters"], marks["zone"],
                                  marks["max_pain"], None, None, 6, None, None, ())}


@pytest.mark.parametrize("self_contained", [False, True])
def test_pages_draw_as_plotly_pys_pages_do(driver, synth, synth_map, tmp_path, self_contained):
    for name, fig in _figures(synth, synth_map).items():
        ours = st.write_html(fig, tmp_path / f"{name}.html", self_contained=self_contained)
        js = True if self_contained else st.plotly_js_name()
        theirs = tmp_path / f"{name}_plotly.html"
        go.Figure(fig).write_html(theirs, include_plotlyjs=js, full_html=True,
                                  config=dict(_html.CONFIG))
        facts, shot = _render(driver, ours)
        ref_facts, ref_shot = _render(driver, theirs)
        assert facts == ref_facts
        assert facts["bg"] == st.BG and len(facts["types"]) == len(fig["data"])
        np.testing.assert_array_equal(shot, ref_shot)
