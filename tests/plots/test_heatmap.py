"""The liquidation heatmap PNG and HTML, checked on their pixels and markup."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from liqmap._exceptions import ConfigError
from liqmap.plots import heatmap_figure, plot_heatmap_html, plot_heatmap_png
from liqmap.plots.heatmap import _mpl_days

SIZE = dict(figsize_in=(12.0, 6.0), dpi=100)


@pytest.fixture(scope="module")
def drawn(synth, tmp_path_factory, px):
    """The default heatmap: (figure, heat axes, image) drawn once."""
    hm = synth[0]
    path = plot_heatmap_png(hm, tmp_path_factory.mktemp("hm") / "heatmap.png", **SIZE)
    fig = heatmap_figure(hm, **SIZE)
    return fig, fig.axes[0], px.read(path)


def test_png_has_the_requested_pixel_size(synth, tmp_path, px):
    path = plot_heatmap_png(synth[0], tmp_path / "sub" / "hm.png")
    assert path.exists() and path.stat().st_size > 50_000
    assert px.read(path).shape[:2] == (910, 1820)  # 14 x 7 in at 130 dpi
    small = plot_heatmap_png(synth[0], tmp_path / "small.png", figsize_in=(8, 4), dpi=50)
    assert px.read(small).shape[:2] == (200, 400)


def test_background_is_dark(drawn, px):
    _, _, img = drawn
    assert px.border_luminance(img) < 0.1


def test_dense_wall_is_the_yellow_band(drawn, synth, px):
    fig, ax, img = drawn
    hm, _, wall = synth
    rows, cols = px.panel(fig, ax)
    yellow = px.yellow(img[rows, cols])
    assert yellow.mean() < 0.05  # yellow is reserved for the densest levels
    wall_row, _ = px.at(fig, ax, _mpl_days(hm.ts_ms[len(hm.ts_ms) // 2]), wall)
    best_row = rows.start + int(np.argmax(yellow.sum(axis=1)))
    assert abs(best_row - wall_row) <= 4
    assert yellow[best_row - rows.start].mean() > 0.9  # the wall spans the whole week


def test_price_line_is_drawn_in_light_pixels(drawn, synth, px):
    fig, ax, img = drawn
    hm = synth[0]
    white = px.white(img)
    rows, cols = px.panel(fig, ax)
    assert white[rows, cols].mean() < 0.03  # a line, not a wash
    picks = np.linspace(10, hm.price_ts_ms.size - 10, 25).astype(int)
    hits = 0
    for i in picks:
        r, c = px.at(fig, ax, _mpl_days(hm.price_ts_ms[i]), hm.price_close_usd[i])
        hits += bool(white[r - 3:r + 4, c - 1:c + 2].any())
    assert hits >= 23


def test_one_hot_pixel_does_not_dim_the_chart(synth, tmp_path, px):
    hm, _, wall = synth
    long_hot = hm.long_usd.copy()
    long_hot[5, 100] = 1e15
    hot = dataclasses.replace(hm, long_usd=long_hot)
    fig = heatmap_figure(hot, **SIZE)
    img = px.read(plot_heatmap_png(hot, tmp_path / "hot.png", **SIZE))
    rows, cols = px.panel(fig, fig.axes[0])
    r, _ = px.at(fig, fig.axes[0], _mpl_days(hm.ts_ms[300]), wall)
    assert px.yellow(img[r - 3:r + 4, cols]).any(axis=0).mean() > 0.9


def test_linear_scale_and_one_side(synth, tmp_path, px):
    hm, _, wall = synth
    fig = heatmap_figure(hm, side="long", log_scale=False, **SIZE)
    img = px.read(plot_heatmap_png(hm, tmp_path / "long.png", side="long", log_scale=False, **SIZE))
    _, cols = px.panel(fig, fig.axes[0])
    r, _ = px.at(fig, fig.axes[0], _mpl_days(hm.ts_ms[300]), wall)
    assert not px.yellow(img[r - 3:r + 4, cols]).any()  # the wall holds shorts only
    assert "longs" in fig.get_suptitle()


def test_realized_liquidations_show_as_red_and_green_bubbles(synth, tmp_path, px):
    hm, realized, _ = synth
    plain = px.read(plot_heatmap_png(hm, tmp_path / "plain.png", **SIZE))
    img = px.read(plot_heatmap_png(hm, tmp_path / "real.png", realized=realized, **SIZE))
    assert px.red(plain).sum() < 50  # the heat colours hold no red
    assert px.red(img).sum() > 2_000
    fig = heatmap_figure(hm, realized=realized, **SIZE)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["price (close)", "realized long liq.", "realized short liq."]


def test_labels_are_readable(synth):
    fig = heatmap_figure(synth[0], **SIZE)
    fig.canvas.draw()
    ax, cbar = fig.axes[0], fig.axes[1]
    ylabels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert ylabels and all(re.fullmatch(r"\d{2,3},\d{3}", s) for s in ylabels)
    cb_labels = [t.get_text() for t in cbar.get_yticklabels() if t.get_text()]
    assert cb_labels and all(re.fullmatch(r"\\?\$\d+(\.\d)?[KMB]", s) for s in cb_labels)
    assert "UTC" in ax.get_xlabel() and "$50 bin" in cbar.get_ylabel().replace("\\", "")


def test_unknown_side_is_a_config_error(synth, tmp_path):
    with pytest.raises(ConfigError):
        plot_heatmap_png(synth[0], tmp_path / "x.png", side="longs")


def test_html_is_self_contained_with_hover(synth, tmp_path):
    hm, realized, _ = synth
    path = plot_heatmap_html(hm, tmp_path / "hm.html", realized=realized)
    html = path.read_text(encoding="utf-8")
    assert 'class="plotly-graph-div"' in html
    assert re.search(r"plotly\.js v\d", html)  # the library is inlined ...
    assert not re.search(r"<script[^>]*\bsrc=", html)  # ... and nothing is fetched
    assert "longs %{customdata[0]:$,.0f}" in html and "shorts %{customdata[1]:$,.0f}" in html
    assert '"type":"heatmap"' in html and "realized long liq." in html
    assert path.stat().st_size < 12_000_000
