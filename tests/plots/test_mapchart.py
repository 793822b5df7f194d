"""The cumulative liquidation map PNG and HTML, checked on their pixels, text and markup."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest

from liqmap.core.records import Cluster, Imbalance
from liqmap.plots import (
    cluster_label,
    fmt_price,
    imbalance_text,
    map_figure,
    plot_map_html,
    plot_map_png,
)

SIZE = dict(figsize_in=(12.0, 6.0), dpi=100)


def test_imbalance_text_reads_like_a_trader_note():
    imb = Imbalance(short_usd=14e9, long_usd=1e9, ratio=14.0, short_from_usd=90_000.0,
                    short_to_usd=108_000.0, long_from_usd=72_000.0, long_to_usd=90_000.0)
    assert imbalance_text(imb, 90_000.0) == (
        "shorts +0..+20%: $14.0B vs longs −20..0%: $1.00B → 14.0:1")
    flipped = Imbalance(1e9, 4e9, 0.25, 100.0, 105.0, 97.5, 100.0, ratio_low=0.2, ratio_high=0.5)
    assert imbalance_text(flipped, 100.0) == (
        "shorts +0..+5%: $1.00B vs longs −2.5..0%: $4.00B → 1:4.0 (band 1:5.0 – 1:2.0)")
    assert imbalance_text(Imbalance(1e9, 0.0, float("inf"), 1, 2, 0.5, 1), 1.0).endswith("∞:1")
    assert imbalance_text(Imbalance(0.0, 0.0, float("nan"), 1, 2, 0.5, 1), 1.0).endswith("n/a")


def test_cluster_label():
    c = Cluster(side="short", price_usd=94_000.0, notional_usd=1.0e9, from_usd=93_800.0,
                to_usd=94_200.0, distance_pct=4.4)
    assert cluster_label(c) == "$1.00B shorts @ 94,000"


@pytest.fixture(scope="module")
def plain(synth_map, tmp_path_factory, px):
    """The map without marks: (figure, bar axes, image)."""
    m, _ = synth_map
    path = plot_map_png(m, tmp_path_factory.mktemp("map") / "map.png", **SIZE)
    fig = map_figure(m, **SIZE)
    return fig, fig.axes[0], px.read(path)


def test_png_size_and_dark_background(synth_map, tmp_path, px):
    m, marks = synth_map
    img = px.read(plot_map_png(m, tmp_path / "a" / "map.png", **marks))
    assert img.shape[:2] == (910, 1820)
    assert px.border_luminance(img) < 0.1


def test_longs_left_of_the_price_and_shorts_right(plain, synth_map, px):
    fig, ax, img = plain
    m, _ = synth_map
    rows, cols = px.panel(fig, ax)
    _, c_price = px.at(fig, ax, m.price_usd, 0.0)
    panel = img[rows, cols]
    red_cols = np.flatnonzero(px.red(panel).any(axis=0)) + cols.start
    green_cols = np.flatnonzero(px.green(panel).any(axis=0)) + cols.start
    assert red_cols.size > 100 and green_cols.size > 100
    assert red_cols.max() <= c_price + 2
    assert green_cols.min() >= c_price - 2


def test_price_line_is_a_light_vertical(plain, synth_map, px):
    fig, ax, img = plain
    m, _ = synth_map
    rows, _ = px.panel(fig, ax)
    _, c = px.at(fig, ax, m.price_usd, 0.0)
    column = px.white(img[rows, c - 1:c + 2], floor=0.6).any(axis=1)  # antialiased 1.4 pt
    assert column.mean() > 0.4  # dashed


def test_cumulative_curves_end_at_the_side_totals(synth_map):
    m, _ = synth_map
    fig = map_figure(m, **SIZE)
    lines = {ln.get_label(): ln for ln in fig.axes[1].get_lines()}
    x_lo, x_hi = fig.axes[0].get_xlim()
    keep = (m.price_bins_usd >= x_lo - m.bin_usd) & (m.price_bins_usd <= x_hi + m.bin_usd)
    below = keep & (m.price_bins_usd <= m.price_usd)
    above = keep & (m.price_bins_usd >= m.price_usd)
    assert np.isclose(np.nanmax(lines["cumulative longs"].get_ydata()), m.long_usd[below].sum())
    assert np.isclose(np.nanmax(lines["cumulative shorts"].get_ydata()), m.short_usd[above].sum())


def test_marks_are_labelled_without_overlap(synth_map):
    m, marks = synth_map
    fig = map_figure(m, **marks, **SIZE)
    fig.canvas.draw()
    ax, ax2 = fig.axes[0], fig.axes[1]
    texts = [t for a in (ax, ax2) for t in a.texts if t.get_text()]
    words = [t.get_text().replace("\\$", "$") for t in texts]
    shown = sorted(marks["clusters"], key=lambda c: -c.notional_usd)[:6]
    for c in shown:
        assert cluster_label(c) in words
    assert any(w.startswith("densest long zone") for w in words)
    assert any(w.startswith(f"harvest level {fmt_price(marks['max_pain'].price_usd)} (+")
               for w in words)
    boxes = [(t.get_bbox_patch() or t).get_window_extent() for t in texts]  # text, no arrow
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not boxes[i].overlaps(boxes[j]), (words[i], words[j])
    title = ax.get_title(loc="left").replace("\\$", "$")
    assert title == imbalance_text(marks["imbalance"], m.price_usd)


def test_band_is_shaded(synth_map, tmp_path, px):
    m, _ = synth_map
    bare = dataclasses.replace(m, long_low_usd=None, long_high_usd=None, short_low_usd=None,
                               short_high_usd=None)

    def dim_red(img):
        r, g, b = img[..., 0], img[..., 1], img[..., 2]
        return ((r > 0.16) & (r < 0.45) & (r - g > 0.08) & (r - b > 0.03)).sum()

    with_band = dim_red(px.read(plot_map_png(m, tmp_path / "band.png", **SIZE)))
    without = dim_red(px.read(plot_map_png(bare, tmp_path / "bare.png", **SIZE)))
    assert with_band > 5 * max(without, 100)


def test_html_is_self_contained_with_marks(synth_map, tmp_path):
    m, marks = synth_map
    path = plot_map_html(m, tmp_path / "map.html", **marks)
    html = path.read_text(encoding="utf-8")
    assert 'class="plotly-graph-div"' in html
    assert re.search(r"plotly\.js v\d", html)
    assert not re.search(r"<script[^>]*\bsrc=", html)
    assert '"hovermode":"x unified"' in html
    text = imbalance_text(marks["imbalance"], m.price_usd)
    # plotly writes its JSON with orjson (raw UTF-8) when installed, else json (\\u escapes)
    assert text in html or json.dumps(text)[1:-1] in html
    top = max(marks["clusters"], key=lambda c: c.notional_usd)
    assert cluster_label(top) in html
    assert "cumulative longs" in html and "cumulative shorts" in html


def _staircase_map():
    """Price 100,000; short walls at +4, +8, +12 % rising outward (a staircase), long walls at
    -4 and -8 % (the nearer the heavier), each a narrow bump on a light floor."""
    from liqmap.core.records import LiqMap

    b = np.arange(80_000.0, 120_001.0, 50.0)
    bump = lambda c, usd: usd * np.exp(-0.5 * ((b - c) / 150.0) ** 2)  # noqa: E731
    shorts = np.where(b > 100_000, 2e5, 0.0) + bump(104_000, 2e7) + bump(108_000, 4e7) \
        + bump(112_000, 8e7)
    longs = np.where(b < 100_000, 2e5, 0.0) + bump(96_000, 6e7) + bump(92_000, 3e7)
    return LiqMap(1_767_225_600_000, 100_000.0, b, longs, shorts, venue="binance",
                  symbol="BTC/USDT:USDT")


def test_ceiling_floor_and_layers_are_marked(tmp_path):
    from liqmap.core import mapstats
    from liqmap.plots.mapchart import layer_tags, level_label

    m = _staircase_map()
    ceiling, floor = mapstats.squeeze_ceiling(m), mapstats.flush_floor(m)
    layers = tuple(mapstats.layers(m, sd) for sd in ("short", "long"))
    assert layers[0].staircase and not layers[1].staircase
    assert [t for t, _ in layer_tags(layers)][:3] == ["S1", "S2", "S3"]
    marks = dict(clusters=mapstats.clusters(m, top=6), zone=mapstats.densest_zone(m, "short"),
                 max_pain=mapstats.harvest_level(m), imbalance=mapstats.imbalance(m))
    fig = map_figure(m, **marks, ceiling=ceiling, floor=floor, layers=layers, **SIZE)
    fig.canvas.draw()
    texts = [t for a in fig.axes for t in a.texts if t.get_text()]
    words = [t.get_text().replace("\\$", "$") for t in texts]
    assert level_label(ceiling) in words and level_label(floor) in words
    assert level_label(ceiling) == (f"squeeze ceiling {fmt_price(ceiling.price_usd)} "
                                    f"(+{ceiling.distance_pct:.1f} %)")
    assert level_label(floor) == f"flush floor {fmt_price(floor.price_usd)} " \
        f"(−{abs(floor.distance_pct):.1f} %)"
    assert 111_000 < ceiling.price_usd <= 112_500 and 91_000 < floor.price_usd < 92_500
    for tag in ("S1", "S2", "S3", "L1", "L2"):
        assert tag in words, tag
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "short layers S1–S3 (staircase)" in legend and "long layers L1–L2" in legend
    assert "squeeze ceiling" in legend and "flush floor" in legend
    boxes = [(t.get_bbox_patch() or t).get_window_extent() for t in texts]
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not boxes[i].overlaps(boxes[j]), (words[i], words[j])

    # outside the window: the label stands at its edge with an arrow
    fig = map_figure(m, ceiling=ceiling, floor=floor, layers=layers,
                     x_range_usd=(94_000.0, 106_000.0), **SIZE)
    words = [t.get_text() for a in fig.axes for t in a.texts]
    assert f"{level_label(ceiling)} →" in words and f"← {level_label(floor)}" in words

    html = plot_map_html(m, tmp_path / "map.html", **marks, ceiling=ceiling, floor=floor,
                         layers=layers).read_text(encoding="utf-8")
    for text in (level_label(ceiling), "short layers S1–S3 (staircase)"):
        assert text in html or json.dumps(text)[1:-1] in html, text
    assert "<b>S1</b>" in html or "\\u003cb\\u003eS1\\u003c" in html  # the tag, JSON-escaped


def test_tags_and_level_labels_avoid_the_labels_placed_before_them():
    """A low short layer right under the harvest-level label, and a squeeze ceiling just
    above the price: the S1 tag over its peak would cover the harvest-level label and the
    ceiling's top-row label the price label. Those labels are placed before the tags and
    level labels but their boxes are only sized when drawn, so they must be measured on the
    layout, not read as they stand (a unit square at the origin)."""
    from liqmap.core.records import Ceiling, Floor, HarvestLevel, Layers, LiqMap, Zone

    b = np.arange(80_000.0, 120_001.0, 50.0)
    bump = lambda c, usd: usd * np.exp(-0.5 * ((b - c) / 150.0) ** 2)  # noqa: E731
    shorts = np.where(b > 100_000, 2e5, 0.0) + bump(103_000, 1.2e7) + bump(112_000, 1e8)
    longs = np.where(b < 100_000, 2e5, 0.0) + bump(94_000, 6e7) + bump(88_000, 3e7)
    m = LiqMap(1_767_225_600_000, 100_000.0, b, longs, shorts, venue="binance",
               symbol="BTC/USDT:USDT")

    def cluster(side, price, usd):
        return Cluster(side, price, usd, price - 300, price + 300, (price / 1e5 - 1) * 100)

    s1, s2 = cluster("short", 103_000, 3e7), cluster("short", 112_000, 2.5e8)
    l1, l2 = cluster("long", 94_000, 1.5e8), cluster("long", 88_000, 7e7)
    nan = float("nan")
    marks = dict(clusters=(s2, l1, l2, s1), zone=Zone("long", 93_500, 94_500, 1.4e8, -6.0),
                 max_pain=HarvestLevel(103_000, 4e7, 3.0, "short"),
                 ceiling=Ceiling(101_000, 1.0, 4e8, 3.6e8, 0.9, 50.0),
                 floor=Floor(87_000, -13.0, 3e8, 2.7e8, 0.9, 50.0),
                 layers=(Layers("short", (s1, s2), False, nan),
                         Layers("long", (l1, l2), False, nan)))
    fig = map_figure(m, **marks, **SIZE)
    fig.canvas.draw()
    texts = [t for a in fig.axes for t in a.texts if t.get_text()]
    words = [t.get_text().replace("\\$", "$") for t in texts]
    for w in ("S1", "S2", "L1", "L2", "price 100,000", "squeeze ceiling 101,000 (+1.0 %)",
              "flush floor 87,000 (−13.0 %)", "densest long zone 93,500–94,500: $140M"):
        assert w in words, w
    assert any(w.startswith("harvest level 103,000 (+3.0%)") for w in words)
    boxes = [(t.get_bbox_patch() or t).get_window_extent() for t in texts]  # text, no arrow
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not boxes[i].overlaps(boxes[j]), (words[i], words[j])
    s1_tag = texts[words.index("S1")]
    assert s1_tag.get_va() == "top"  # moved under its peak, off the harvest-level label
