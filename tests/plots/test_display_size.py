"""The heatmap at display size (one rule for the charts and the API) and lean offline HTML.

Issue #16: the HTML pages of an output folder share one local plotly.js (each page holds
its data only, <= 1.5 MB on the bundled 30-day sample), ``--self-contained-html`` inlines
it instead; the downsampling keeps each frame's notional per side and is the function the
API uses. Sizes are checked here, never timings (``benchmarks/bench_plots.py`` times).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as hs
from typer.testing import CliRunner

from liqmap.core import heatgrid
from liqmap.plots._style import plotly_js_name

MAX_HTML_BYTES = 1_500_000
SCRIPT_SRC = re.compile(r'<script[^>]*\bsrc="([^"]+)"')


@given(hs.integers(1, 700), hs.integers(2, 900), hs.integers(1, 400), hs.integers(10, 300),
       hs.integers(0, 2**32 - 1))
def test_downsampling_conserves_notional_per_side(n_frames, n_bins, max_frames, max_bins, seed):
    rng = np.random.default_rng(seed)
    ts = 1_764_547_200_000 + 300_000 * np.arange(n_frames, dtype=np.int64)
    bins = 60_000.0 + 25.0 * np.arange(n_bins)
    long_, short_ = rng.gamma(0.3, 2e6, (2, n_frames, n_bins)) * (rng.random((2, 1, n_bins)) < .7)
    ts_d, grid, (lo, sh) = heatgrid.downsample_heat(ts, bins, [long_, short_],
                                                    max_frames=max_frames, max_bins=max_bins)
    assert ts_d.size <= max_frames and grid.size <= max_bins
    assert np.allclose(np.diff(grid), grid[1] - grid[0]) if grid.size > 1 else True
    rows = np.searchsorted(ts, ts_d)
    for full, small in ((long_, lo), (short_, sh)):
        np.testing.assert_allclose(small.sum(axis=1), full[rows].sum(axis=1), rtol=1e-9)
        assert np.isclose(small.sum(), full[rows].sum(), rtol=1e-9)


def test_the_api_and_the_charts_share_one_downsampling():
    from liqmap.plots import _prep
    from liqmap.service import render, views

    assert views.downsample_heat is heatgrid.downsample_heat  # the API's display grid
    assert _prep.downsample_heat is heatgrid.downsample_heat  # the charts (PNG and HTML)
    assert render.pick_frames is heatgrid.pick_frames  # the API's ?resolution= frames


def test_the_api_view_is_drawn_through_the_shared_function(monkeypatch):
    from liqmap.service import views
    from liqmap.service.sources import BundledSource

    calls = []

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return heatgrid.downsample_heat(*args, **kwargs)

    monkeypatch.setattr(views, "downsample_heat", spy)
    v = views.compute_view(BundledSource(), views.ViewKey("binance", "BTC/USDT:USDT", "24h"))
    assert calls and all(np.array_equal(k["grid"], v.hm_bins_usd) for k in calls)
    assert v.hm_long_usd.shape == (v.hm_ts_ms.size, v.hm_bins_usd.size)


@pytest.fixture(scope="module")
def sample_estimate():
    from liqmap.io.sample import load_sample
    from liqmap.model import LiquidationModel

    return LiquidationModel().run(load_sample("btcusdt-5m-2025-12"))


def _src(html: str) -> list[str]:
    return SCRIPT_SRC.findall(html)


def test_sample_html_is_small_and_loads_a_local_plotly_js(sample_estimate, tmp_path):
    from liqmap.plots.render import render_estimate

    files = render_estimate(sample_estimate, tmp_path)
    for key in ("heatmap_html", "map_html"):
        path = Path(files[key])
        assert path.stat().st_size <= MAX_HTML_BYTES, (key, path.stat().st_size)
        html = path.read_text(encoding="utf-8")
        assert _src(html) == [plotly_js_name()]  # relative: beside the page, no CDN
        assert not re.search(r"plotly\.js v\d", html)  # not inlined
        js = path.parent / plotly_js_name()
        assert js.is_file() and js.stat().st_size > 1_000_000
        assert "plotly.js v" in js.read_text(encoding="utf-8")[:2000]
    html = Path(files["heatmap_html"]).read_text(encoding="utf-8")
    assert '"type":"heatmap"' in html and "longs %{customdata[0]:$,.0f}" in html
    assert [p.name for p in tmp_path.glob("*.js")] == [plotly_js_name()]  # one shared copy


def test_self_contained_html_needs_no_other_file(sample_estimate, tmp_path):
    from liqmap.plots.render import render_estimate

    files = render_estimate(sample_estimate, tmp_path, self_contained=True)
    for key in ("heatmap_html", "map_html"):
        html = Path(files[key]).read_text(encoding="utf-8")
        assert re.search(r"plotly\.js v\d", html) and not _src(html)
    assert not list(tmp_path.glob("*.js"))


def test_cli_self_contained_html_flag(tmp_path):
    from liqmap.cli import app

    runner = CliRunner()
    shared, alone = tmp_path / "shared", tmp_path / "alone"
    for out, extra in ((shared, []), (alone, ["--self-contained-html"])):
        res = runner.invoke(app, ["map", "--lookback", "24h", "--out", str(out), "--json",
                                  *extra])
        assert res.exit_code == 0, res.output
    assert (shared / plotly_js_name()).is_file() and not list(alone.glob("*.js"))
    assert _src((shared / "liqmap_map.html").read_text(encoding="utf-8")) == [plotly_js_name()]
    assert re.search(r"plotly\.js v\d", (alone / "liqmap_map.html").read_text(encoding="utf-8"))
