"""The cumulative liquidation map: levels per price bin at one moment, and their running totals.

Bars: notional per bin (longs, below the price, red; shorts, above it, green). Curves
(right axis): longs cumulated from the price downward, shorts from the price upward, i.e.
what would be liquidated if price moved there. Optional marks: leverage band (shaded),
clusters, the densest zone, the harvest level (``max_pain=``: the most notional per unit of
push), the squeeze ceiling and flush floor, the layers of each side (tagged S1, S2, .. and
L1, .., outward; the legend says when a side is a staircase) and the up/down imbalance.
The analytics records are
taken as given (``liqmap.core.mapstats`` computes them); nothing here recomputes them.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import FuncFormatter, MaxNLocator

from liqmap.core.records import (
    Ceiling,
    Cluster,
    Floor,
    HarvestLevel,
    Imbalance,
    Layers,
    LiqMap,
    Zone,
)
from liqmap.plots import _style as st
from liqmap.plots._prep import cumulative_from_price, map_x_range

__all__ = ["cluster_label", "imbalance_text", "layer_tags", "level_label", "map_figure",
           "map_title", "plot_map_html", "plot_map_png", "usd_band"]

_ROWS = (0.90, 0.83, 0.76, 0.69, 0.62, 0.55)  # label rows for clusters, axes fraction
#: What the harvest level is, in the legend and the interactive chart's label.
HARVEST_LABEL = "harvest level (most notional per unit of push)"


def _pct(x_usd: float, price_usd: float, signed: bool) -> str:
    """Distance of ``x_usd`` from the price in % ("+20", "−20", "0"), one decimal at most."""
    v = round((x_usd / price_usd - 1) * 100, 1)
    v = 0.0 if v == 0 else v
    text = f"{abs(v):.1f}".removesuffix(".0")
    if v < 0:
        return "−" + text
    return ("+" + text) if signed else text


def _ratio(r: float | None) -> str:
    """Shorts:longs ratio as ``"14.0:1"`` (or ``"1:4.0"`` when below one)."""
    if r is None or math.isnan(r):
        return "n/a"
    if math.isinf(r):
        return "∞:1"
    return f"{r:.1f}:1" if r >= 1 or r == 0 else f"1:{1 / r:.1f}"


def imbalance_text(imb: Imbalance, price_usd: float) -> str:
    """One line: ``"shorts +0..+20%: $14.0B vs longs −20..0%: $1.0B → 14.0:1"``.

    Examples
    --------
    >>> imb = Imbalance(14e9, 1e9, 14.0, 100.0, 120.0, 80.0, 100.0)
    >>> imbalance_text(imb, 100.0)
    'shorts +0..+20%: $14.0B vs longs −20..0%: $1.00B → 14.0:1'
    """
    up = f"{_pct(imb.short_from_usd, price_usd, True)}..{_pct(imb.short_to_usd, price_usd, True)}"
    dn = f"{_pct(imb.long_from_usd, price_usd, False)}..{_pct(imb.long_to_usd, price_usd, False)}"
    text = (f"shorts {up}%: {st.fmt_usd(imb.short_usd)} vs longs {dn}%: "
            f"{st.fmt_usd(imb.long_usd)} → {_ratio(imb.ratio)}")
    if imb.ratio_low is not None and imb.ratio_high is not None:
        text += f" (band {_ratio(imb.ratio_low)} – {_ratio(imb.ratio_high)})"
    return text


def usd_band(notional_usd: float, low_usd: float | None, high_usd: float | None) -> str:
    """A notional with its low/high band when there is one: ``"$1.20B ($800M–$1.90B)"``.

    Examples
    --------
    >>> usd_band(1.2e9, 0.8e9, 1.9e9)
    '$1.20B ($800M–$1.9B)'
    >>> usd_band(1.2e9, None, None)
    '$1.20B'
    """
    text = st.fmt_usd(notional_usd)
    if low_usd is None or high_usd is None:
        return text
    return f"{text} ({st.fmt_usd(low_usd, 2)}–{st.fmt_usd(high_usd, 2)})"


def cluster_label(c: Cluster, *, band: bool = False) -> str:
    """``"$1.00B shorts @ 94,000"`` (with ``band``: ``"$1.00B ($800M–$1.2B) shorts @ ..."``)."""
    side = "shorts" if c.side == "short" else "longs"
    usd = (usd_band(c.notional_usd, c.notional_low_usd, c.notional_high_usd) if band
           else st.fmt_usd(c.notional_usd))
    return f"{usd} {side} @ {st.fmt_price(c.price_usd)}"


def map_title(m: LiqMap) -> str:
    """``BTC/USDT:USDT · binance · liquidation map · 2025-12-31 11:30 UTC · price 88,911``."""
    return _default_title(m)


def _default_title(m: LiqMap) -> str:
    when = np.datetime64(int(m.ts_ms), "ms").astype("datetime64[s]").item()
    return (f"{m.symbol} · {m.venue} · liquidation map · {when:%Y-%m-%d %H:%M} UTC · "
            f"price {st.fmt_price(m.price_usd)}")


def level_label(level: Ceiling | Floor) -> str:
    """``"squeeze ceiling 98,400 (+7.8 %)"`` or ``"flush floor 80,100 (−9.9 %)"``.

    Examples
    --------
    >>> level_label(Ceiling(98_400.0, 7.8, 1e9, 9e8, 0.9, 50.0))
    'squeeze ceiling 98,400 (+7.8 %)'
    """
    name = "squeeze ceiling" if isinstance(level, Ceiling) else "flush floor"
    dist = f"{level.distance_pct:+.1f} %".replace("-", "−")
    return f"{name} {st.fmt_price(level.price_usd)} ({dist})"


def _levels(ceiling, floor) -> list:
    """The ceiling and floor that stand (a finite price), in that order."""
    return [x for x in (ceiling, floor)
            if x is not None and x.price_usd is not None and math.isfinite(x.price_usd)]


def layer_tags(layers) -> list[tuple[str, Cluster]]:
    """``("S1", cluster), ("S2", ...), ("L1", ...)``: each side's layers numbered outward."""
    return [(f"{'S' if lay.side == 'short' else 'L'}{k}", c)
            for lay in layers for k, c in enumerate(lay.layers, start=1)]


def _layers_legend(lay: Layers) -> str:
    """``"short layers S1–S3 (staircase)"``: the legend entry of one side's layers."""
    tag = "S" if lay.side == "short" else "L"
    n = len(lay.layers)
    text = f"{lay.side} layers {tag}1" + (f"–{tag}{n}" if n > 1 else "")
    return text + (" (staircase)" if lay.staircase else "")


def _window(m: LiqMap, imbalance, clusters, zone, max_pain, x_range_usd, extra=()):
    """Price window and the mask of bins inside it."""
    if x_range_usd is None:
        marks = [c.price_usd for c in clusters] + list(extra)
        if imbalance is not None:
            marks += [imbalance.short_to_usd, imbalance.long_from_usd]
        if zone is not None:
            marks += [zone.from_usd, zone.to_usd]
        if max_pain is not None:
            marks.append(max_pain.price_usd)
        x_range_usd = map_x_range(m, marks)
    b = np.asarray(m.price_bins_usd, dtype=float)
    keep = (b >= x_range_usd[0] - m.bin_usd) & (b <= x_range_usd[1] + m.bin_usd)
    return (float(x_range_usd[0]), float(x_range_usd[1])), keep


def _arr(a, keep) -> np.ndarray | None:
    return None if a is None else np.nan_to_num(np.asarray(a, dtype=float))[keep]


def _side_arrays(m: LiqMap, keep) -> dict:
    """Per-side bars, bands and cumulative curves on the kept bins."""
    b = np.asarray(m.price_bins_usd, dtype=float)[keep]
    out = {"bins": b, "edges": np.append(b - m.bin_usd / 2, b[-1] + m.bin_usd / 2)}
    for side, direction in (("long", "down"), ("short", "up")):
        v = np.nan_to_num(np.asarray(getattr(m, f"{side}_usd"), dtype=float))[keep]
        lo = _arr(getattr(m, f"{side}_low_usd"), keep)
        hi = _arr(getattr(m, f"{side}_high_usd"), keep)
        out[side] = v
        out[f"{side}_cum"] = cumulative_from_price(b, v, m.price_usd, direction)
        out[f"{side}_band"] = None if lo is None or hi is None else (lo, hi)
        out[f"{side}_cum_band"] = None if lo is None or hi is None else (
            cumulative_from_price(b, lo, m.price_usd, direction),
            cumulative_from_price(b, hi, m.price_usd, direction))
    return out


def _style(ax) -> None:
    ax.set_facecolor(st.PANEL)
    for s in ax.spines.values():
        s.set_color(st.GRID)
    ax.tick_params(colors=st.FG_DIM, labelsize=9)
    ax.yaxis.label.set_color(st.FG)
    ax.xaxis.label.set_color(st.FG)


def _step_fill(ax, values, edges, baseline, **kw):
    """Per-bin values as filled steps from ``baseline`` (a number or one value per bin), one
    polygon (a PolyCollection: its data limits are one array operation, where ``ax.stairs``
    walks the step path segment by segment in Python)."""
    y = np.append(values, values[-1:])
    base = np.append(baseline, baseline[-1:]) if np.ndim(baseline) else baseline
    return ax.fill_between(edges, base, y, step="post", **kw)


def _draw_bars(ax, d: dict) -> None:
    """Per-bin notional as filled steps, band shaded behind."""
    for side, colour, band_colour, label in (("long", st.LONG_DIM, st.LONG, "longs per bin"),
                                             ("short", st.SHORT_DIM, st.SHORT, "shorts per bin")):
        if d[f"{side}_band"] is not None:
            lo, hi = d[f"{side}_band"]
            _step_fill(ax, hi, d["edges"], lo, color=band_colour, alpha=0.22, lw=0,
                       label=f"{side}s leverage band")
        _step_fill(ax, d[side], d["edges"], 0.0, color=colour, alpha=0.9, lw=0, label=label)
    top = max(float(np.max(d["long"], initial=0)), float(np.max(d["short"], initial=0)))
    bands = [float(np.max(d[f"{s}_band"][1], initial=0))
             for s in ("long", "short") if d[f"{s}_band"] is not None]
    top = max([1.45 * top] + [1.1 * b for b in bands])  # headroom for the cluster labels
    ax.set_ylim(0, top if top > 0 else 1.0)


def _draw_cumulative(ax2, d: dict) -> None:
    """Cumulative curves from the price outward (right axis), their band shaded."""
    for side, colour in (("long", st.LONG), ("short", st.SHORT)):
        if d[f"{side}_cum_band"] is not None:
            lo, hi = d[f"{side}_cum_band"]
            ax2.fill_between(d["bins"], lo, hi, color=colour, alpha=0.09, lw=0)
        ax2.plot(d["bins"], d[f"{side}_cum"], color=colour, lw=2.0, label=f"cumulative {side}s")
    tops = [np.nanmax(a, initial=0) for a in (d["long_cum"], d["short_cum"])]
    for side in ("long", "short"):
        if d[f"{side}_cum_band"] is not None:
            tops.append(np.nanmax(d[f"{side}_cum_band"][1], initial=0))
    top = float(max(tops))
    ax2.set_ylim(0, 1.1 * top if top > 0 else 1.0)


def _text_box(colour: str) -> dict:
    return dict(boxstyle="round,pad=0.25", fc=st.BG, ec=colour, alpha=0.85, lw=0.8)


def _draw_price(ax, m: LiqMap) -> None:
    ax.axvline(m.price_usd, color=st.PRICE, lw=1.4, ls="--", zorder=5)
    ax.annotate(f"price {st.fmt_price(m.price_usd)}", xy=(m.price_usd, 0.985),
                xycoords=("data", "axes fraction"), ha="center", va="top", fontsize=9,
                color=st.BG, bbox=dict(boxstyle="square,pad=0.3", fc=st.PRICE, ec="none"), zorder=7)


def _label_width_frac(ax, text: str, fontsize: float) -> float:
    """Width of a one-line boxed label as a fraction of the axes width (measured)."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    w_px, _, _ = renderer.get_text_width_height_descent(text, FontProperties(size=fontsize), False)
    pad_px = 2 * 0.25 * fontsize * fig.dpi / 72  # the round box's pad on both sides
    return (w_px + pad_px) / max(ax.get_window_extent().width, 1.0)


def _free_row(taken: list[tuple[int, float, float, float]], xf: float, w: float, xp: float):
    """The highest label row for a box centred at ``xf`` (width ``w``, leader line down to
    ``xp``) that overlaps no other box; rows where no leader line is hidden either are
    preferred."""
    def clear(r: int, lines: bool) -> bool:
        return all(not (tr == r and abs(xf - tx) < (w + tw) / 2)
                   and not (lines and tr < r and abs(tp - xf) < w / 2)  # I would hide theirs
                   and not (lines and tr > r and abs(xp - tx) < tw / 2)  # they would hide mine
                   for tr, tx, tw, tp in taken)

    for lines in (True, False):
        row = next((r for r in range(len(_ROWS)) if clear(r, lines)), None)
        if row is not None:
            return row
    return None


def _draw_clusters(ax, ax2, m: LiqMap, clusters, window, d: dict, max_clusters: int) -> None:
    """Annotate the largest clusters in free rows: no box overlaps a box or a leader line."""
    span = window[1] - window[0]
    shown = sorted((c for c in clusters if window[0] <= c.price_usd <= window[1]),
                   key=lambda c: -c.notional_usd)[:max_clusters]
    taken: list[tuple[int, float, float, float]] = []
    for c in shown:
        text = cluster_label(c)
        w = _label_width_frac(ax, text, 8.5) + 0.01
        xp = (c.price_usd - window[0]) / span
        xf = min(max(xp, w / 2), 1 - w / 2)
        row = _free_row(taken, xf, w, xp)
        if row is None:
            continue
        taken.append((row, xf, w, xp))
        i = int(np.argmin(np.abs(d["bins"] - c.price_usd)))
        colour = st.SHORT if c.side == "short" else st.LONG
        ax2.annotate(st.mpl_text(text), xy=(c.price_usd, d[c.side][i]), xycoords=ax.transData,
                     xytext=(xf, _ROWS[row]), textcoords="axes fraction", ha="center",
                     va="center", fontsize=8.5, color=st.FG, bbox=_text_box(colour), zorder=8,
                     arrowprops=dict(arrowstyle="-", color=colour, lw=0.8, alpha=0.8))


def _zone_usd(zone: Zone) -> str:
    return usd_band(zone.notional_usd, zone.notional_low_usd, zone.notional_high_usd)


def _pain_usd(mp: HarvestLevel) -> str:
    """Notional with its band, plus the span of harvest levels when it is not one level."""
    text = usd_band(mp.notional_usd, mp.notional_low_usd, mp.notional_high_usd)
    lo, hi = mp.level_low_usd, mp.level_high_usd
    if lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi) and lo < hi:
        text += f", level {st.fmt_price(lo)}–{st.fmt_price(hi)}"
    return text


def _draw_zone_and_pain(ax, m: LiqMap, zone: Zone | None, max_pain: HarvestLevel | None,
                        window) -> None:
    """Densest zone as a shaded span, harvest level as a dotted line, each with a label."""
    span = window[1] - window[0]

    def label(x_usd, y_frac, text, colour):
        xf = min(max((x_usd - window[0]) / span, 0.01), 0.99)
        ha = "left" if xf < 0.2 else "right" if xf > 0.8 else "center"
        ax.text(xf, y_frac, st.mpl_text(text), transform=ax.transAxes, ha=ha, va="bottom",
                fontsize=8.5, color=colour, bbox=_text_box(colour), zorder=8)

    if zone is not None:
        ax.axvspan(zone.from_usd, zone.to_usd, color=st.ZONE, alpha=0.13, lw=0, zorder=0,
                   label="densest zone")
        span_text = f"{st.fmt_price(zone.from_usd)}–{st.fmt_price(zone.to_usd)}"
        label((zone.from_usd + zone.to_usd) / 2, 0.03,
              f"densest {zone.side} zone {span_text}: {_zone_usd(zone)}", st.ZONE)
    if max_pain is not None:
        ax.axvline(max_pain.price_usd, color=st.MAXPAIN, lw=1.3, ls=":", zorder=5,
                   label=HARVEST_LABEL)
        dist = f"{max_pain.distance_pct:+.1f}%".replace("-", "−")
        label(max_pain.price_usd, 0.11, f"harvest level {st.fmt_price(max_pain.price_usd)} "
              f"({dist}): {_pain_usd(max_pain)}", st.MAXPAIN)


def _box(t, renderer):
    """Window extent of a boxed text or annotation, laid out without drawing it."""
    if hasattr(t, "update_positions"):
        t.update_positions(renderer)
    t.update_bbox_position_size(renderer)
    return t.get_bbox_patch().get_window_extent(renderer)


def _text_boxes(fig, renderer) -> list:
    """Window extents of every text already on the figure's axes (boxes where boxed), each
    measured on the current layout: a box is only sized when its text is drawn, so before
    the one draw the box of a label placed earlier (zone, harvest level, price, clusters)
    still reads as a unit square at the window's origin; ``_box`` sizes it without drawing."""
    return [_box(t, renderer) if t.get_bbox_patch() else t.get_window_extent(renderer)
            for a in fig.axes for t in a.texts if t.get_text()]


def _level_lines(ax, levels) -> None:
    """Squeeze ceiling and flush floor as dash-dot lines (named in the legend)."""
    for lv in levels:
        colour = st.SHORT if isinstance(lv, Ceiling) else st.LONG
        name = "squeeze ceiling" if isinstance(lv, Ceiling) else "flush floor"
        ax.axvline(lv.price_usd, color=colour, lw=1.3, ls="-.", zorder=5, label=name)


def _draw_levels(ax, levels, window, taken: list) -> None:
    """The level lines' labels: each in the top row on its outer side, else along its line
    at the first height and side where the label covers no other label (at the window's
    edge, with an arrow, when the level lies outside the window). ``taken``: the window
    extents of the labels already placed (``_text_boxes``); each label's is added to it."""
    span = window[1] - window[0]
    renderer = ax.figure.canvas.get_renderer()
    for lv in levels:
        colour = st.SHORT if isinstance(lv, Ceiling) else st.LONG
        text = level_label(lv)
        xf = (lv.price_usd - window[0]) / span
        style = dict(fontsize=8, color=colour, bbox=_text_box(colour), zorder=8)
        if 0.0 <= xf <= 1.0:
            up = isinstance(lv, Ceiling)
            out = "left" if (up and xf < 0.75) or (not up and xf < 0.25) else "right"
            tr = ax.get_xaxis_transform()
            tries = [(lv.price_usd, 0.985, out, "top", tr, text, 0)]  # the top row, outward
            tries += [(lv.price_usd, y, ha, "bottom", tr, text, 90)
                      for y in (0.17, 0.27, 0.37, 0.07) for ha in ("right", "left")]
        else:
            right = xf > 1.0
            tries = [(0.995 if right else 0.005, y, "right" if right else "left", "bottom",
                      ax.transAxes, f"{text} →" if right else f"← {text}", 0)
                     for y in (0.17, 0.24, 0.31)]
        for k, (x, y, ha, va, tr, words, rot) in enumerate(tries):
            t = ax.text(x, y, st.mpl_text(words), transform=tr, rotation=rot, ha=ha, va=va,
                        **style)
            box = _box(t, renderer)
            if k == len(tries) - 1 or not any(box.overlaps(o) for o in taken):
                taken.append(box)
                break
            t.remove()


def _peak(d: dict, c: Cluster) -> float:
    """The highest bar of the cluster's extent (where its tag sits)."""
    inside = (d["bins"] >= c.from_usd) & (d["bins"] <= c.to_usd)
    if not inside.any():
        return float(d[c.side][int(np.argmin(np.abs(d["bins"] - c.price_usd)))])
    return float(np.max(d[c.side][inside]))


def _layer_legend(ax, layers) -> None:
    """One legend entry per side with layers (marked when it is a staircase)."""
    from matplotlib.lines import Line2D

    for lay in layers:
        if lay.layers:
            colour = st.SHORT if lay.side == "short" else st.LONG
            ax.add_line(Line2D([], [], ls="none", marker="s", ms=7, color=colour,
                               label=_layers_legend(lay)))  # legend only: no data


def _draw_layers(ax, layers, window, d: dict, taken: list) -> None:
    """Small numbered tags on each side's layers (S1, S2, .. outward above the price; L1,
    .. below), just above the layer's peak, or just under it where the space above is
    taken by another label. ``taken``: the window extents of the labels already placed
    (``_text_boxes``); each tag's is added to it."""
    renderer = ax.figure.canvas.get_renderer()
    for lay in layers:
        colour = st.SHORT if lay.side == "short" else st.LONG
        for tag, c in layer_tags([lay]):
            if not window[0] <= c.price_usd <= window[1]:
                continue
            y = _peak(d, c)
            for dy, va in ((3, "bottom"), (-3, "top")):
                t = ax.annotate(tag, xy=(c.price_usd, y), xytext=(0, dy),
                                textcoords="offset points", ha="center", va=va, fontsize=7.5,
                                fontweight="bold", color=st.BG, zorder=9,
                                bbox=dict(boxstyle="round,pad=0.2", fc=colour, ec="none"))
                box = _box(t, renderer)
                if va == "top" or not any(box.overlaps(o) for o in taken):
                    taken.append(box)
                    break
                t.remove()


def _axes_format(ax, ax2, m: LiqMap, window) -> None:
    usd = FuncFormatter(lambda v, _: st.mpl_text(st.fmt_usd(v, 2)) if v else "0")
    ax.set_xlim(*window)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=12))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: st.fmt_price(v)))
    ax.yaxis.set_major_formatter(usd)
    ax2.yaxis.set_major_formatter(usd)
    ax.set_xlabel("price (USD)", fontsize=9)
    ax.set_ylabel(st.mpl_text(f"liquidation notional per ${m.bin_usd:,.0f} bin"), fontsize=9)
    ax2.set_ylabel("cumulative from price (USD)", fontsize=9)
    ax.grid(color="white", alpha=0.06, lw=0.6)
    top = ax.secondary_xaxis("top", functions=(lambda x: (x / m.price_usd - 1) * 100,
                                               lambda p: m.price_usd * (1 + p / 100)))
    top.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:+.0f}%".replace("-", "−")))
    top.tick_params(colors=st.FG_DIM, labelsize=8)
    top.spines["top"].set_color(st.GRID)


def map_figure(
    m: LiqMap, *, imbalance: Imbalance | None = None, clusters: tuple[Cluster, ...] = (),
    zone: Zone | None = None, max_pain: HarvestLevel | None = None, title: str | None = None,
    x_range_usd: tuple[float, float] | None = None, max_clusters: int = 6,
    figsize_in: tuple[float, float] = (14.0, 7.0), dpi: int = 130,
    ceiling: Ceiling | None = None, floor: Floor | None = None, layers: tuple[Layers, ...] = (),
) -> Figure:
    """Draw the liquidation map on a new matplotlib ``Figure`` (Agg canvas attached).

    Parameters are those of :func:`plot_map_png`. The figure's first axes holds the
    per-bin bars, the second (twin) the cumulative curves. It is laid out once (constrained
    layout, with its legend and titles) and the labels are placed on that layout; it keeps
    its layout engine, so what is drawn on it later is laid out when it is saved.
    """
    levels = _levels(ceiling, floor)
    window, keep = _window(m, imbalance, clusters, zone, max_pain, x_range_usd,
                           [lv.price_usd for lv in levels])
    d = _side_arrays(m, keep)
    fig = Figure(figsize=figsize_in, dpi=dpi, facecolor=st.BG, layout="constrained")
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax2 = ax.twinx()
    for a in (ax, ax2):
        _style(a)
    _draw_bars(ax, d)
    _draw_cumulative(ax2, d)
    _draw_zone_and_pain(ax, m, zone, max_pain, window)
    _axes_format(ax, ax2, m, window)
    _draw_price(ax, m)
    _layer_legend(ax, layers)
    _level_lines(ax, levels)
    _legend_and_titles(fig, ax, ax2, title or _default_title(m),
                       None if imbalance is None else imbalance_text(imbalance, m.price_usd))
    engine = fig.get_layout_engine()
    if engine is None:  # pragma: no cover - the figure is made constrained above
        raise RuntimeError("the map figure lost its layout engine")
    engine.execute(fig)  # the final layout (no raster): the labels below are placed on it
    _draw_clusters(ax, ax2, m, clusters, window, d, max_clusters)
    # the fixed labels (zone, harvest level, price, clusters) measured once on that layout,
    # then the movable ones (layer tags, level labels) placed clear of them and of each other
    taken = _text_boxes(fig, canvas.get_renderer())
    _draw_layers(ax, layers, window, d, taken)
    _draw_levels(ax, levels, window, taken)
    return fig


def _legend_and_titles(fig: Figure, ax, ax2, title: str, subtitle: str | None) -> None:
    """The legend below the axes (at most 8 entries a row, the rows evenly filled), the
    title, and the imbalance line over the axes."""
    handles = [h for a in (ax, ax2) for h in a.get_legend_handles_labels()[0]]
    rows = math.ceil(len(handles) / 8)
    fig.legend(handles=handles, loc="outside lower center",
               ncols=max(1, math.ceil(len(handles) / max(rows, 1))), fontsize=8,
               facecolor=st.BG, edgecolor=st.GRID, labelcolor=st.FG)
    fig.suptitle(st.mpl_text(title), color=st.FG, fontsize=12, x=0.01, ha="left")
    if subtitle is not None:
        ax.set_title(st.mpl_text(subtitle), loc="left", fontsize=10, color=st.ZONE)


def plot_map_png(
    m: LiqMap, path, *, imbalance: Imbalance | None = None, clusters: tuple[Cluster, ...] = (),
    zone: Zone | None = None, max_pain: HarvestLevel | None = None, title: str | None = None,
    x_range_usd: tuple[float, float] | None = None, max_clusters: int = 6,
    figsize_in: tuple[float, float] = (14.0, 7.0), dpi: int = 130,
    ceiling: Ceiling | None = None, floor: Floor | None = None, layers: tuple[Layers, ...] = (),
) -> Path:
    """Write the cumulative liquidation map as a PNG (dark theme, as the heatmap).

    Parameters
    ----------
    m : LiqMap
        The map at one moment; its band arrays, when present, are shaded.
    path : str or Path
        Output file; parent folders are created.
    imbalance : Imbalance, optional
        Written under the title ("shorts +0..+20%: $14.0B vs longs −20..0%: $1.0B → 14.0:1").
    clusters : sequence of Cluster
        The largest ``max_clusters`` inside the window are labelled ("$1.0B shorts @ 94,000").
    zone : Zone, optional
        The densest zone, shaded amber.
    max_pain : HarvestLevel, optional
        The harvest level (``mapstats.harvest_level``; the keyword keeps its old name),
        marked with a dotted magenta line.
    title : str, optional
        Defaults to symbol, venue, UTC time and price.
    x_range_usd : (float, float), optional
        Price window; default: 0.5 %..99.5 % of the level mass plus the marks, within
        ±35 % of the price.
    max_clusters : int, default 6
    figsize_in : (float, float)
        Figure size in inches; the PNG is ``figsize_in * dpi`` pixels.
    dpi : int, default 130
    ceiling, floor : Ceiling, Floor, optional
        The squeeze ceiling and flush floor (``mapstats.squeeze_ceiling`` / ``flush_floor``),
        dash-dot lines labelled "squeeze ceiling 98,400 (+7.8 %)" (at the window's edge,
        with an arrow, when they lie outside it).
    layers : sequence of Layers
        Each side's layers (``mapstats.layers``), tagged S1, S2, .. (shorts) and L1, ..
        (longs) outward from the price; the legend says when a side is a staircase.

    Returns
    -------
    Path
        The written file.

    Examples
    --------
    >>> plot_map_png(m, "out/map.png", imbalance=imb, clusters=cl)  # doctest: +SKIP
    """
    fig = map_figure(m, imbalance=imbalance, clusters=clusters, zone=zone, max_pain=max_pain,
                     title=title, x_range_usd=x_range_usd, max_clusters=max_clusters,
                     figsize_in=figsize_in, dpi=dpi, ceiling=ceiling, floor=floor,
                     layers=layers)
    _freeze_layout(fig)
    return st.save_png(fig, path)


def _freeze_layout(fig: Figure) -> None:
    """Keep the layout ``map_figure`` made (its last one: the labels placed after it lie
    inside the axes, so laying the figure out again finds the same) and drop the layout
    engine, so writing the figure draws it once (``savefig`` would lay it out again in a
    dry draw first)."""
    fig.set_layout_engine(None)


def _html_traces(d: dict) -> list[dict]:
    """Bars (per bin), leverage bands and cumulative curves (second y axis): Plotly trace dicts."""
    traces, hover = [], "%{x:,.0f}: %{y:$,.0f}"
    for side, colour, dim in (("long", st.LONG, st.LONG_DIM), ("short", st.SHORT, st.SHORT_DIM)):
        traces.append(dict(type="bar", x=d["bins"], y=d[side], name=f"{side}s per bin",
                           marker=dict(color=dim, line=dict(width=0)), hovertemplate=hover))
        if d[f"{side}_cum_band"] is not None:
            lo, hi = d[f"{side}_cum_band"]
            for y, fill in ((lo, {}), (hi, {"fill": "tonexty"})):
                traces.append(dict(type="scatter", x=d["bins"], y=y, yaxis="y2", mode="lines",
                                   **fill, line=dict(width=0, color=colour), opacity=0.2,
                                   showlegend=False, hoverinfo="skip"))
        traces.append(dict(type="scatter", x=d["bins"], y=d[f"{side}_cum"], yaxis="y2",
                           mode="lines", line=dict(color=colour, width=2.5),
                           name=f"cumulative {side}s", hovertemplate=hover))
    return traces


def _html_marks(m: LiqMap, clusters, zone, max_pain, window, d: dict, max_clusters: int):
    """Shapes (price, zone, harvest level) and annotations (price, clusters) for Plotly."""
    shapes = [dict(type="line", x0=m.price_usd, x1=m.price_usd, y0=0, y1=1, yref="paper",
                   line=dict(color=st.PRICE, dash="dash", width=1.5))]
    notes = [dict(x=m.price_usd, y=1, yref="paper", text=f"price {st.fmt_price(m.price_usd)}",
                  showarrow=False, yanchor="bottom", font=dict(color=st.BG), bgcolor=st.PRICE)]
    if zone is not None:
        shapes.append(dict(type="rect", x0=zone.from_usd, x1=zone.to_usd, y0=0, y1=1, yref="paper",
                           fillcolor=st.ZONE, opacity=0.13, line=dict(width=0), layer="below"))
        notes.append(dict(x=(zone.from_usd + zone.to_usd) / 2, y=0.02, yref="paper",
                          showarrow=False,
                          text=f"densest {zone.side} zone: {_zone_usd(zone)}",
                          font=dict(color=st.ZONE), bgcolor=st.BG))
    if max_pain is not None:
        shapes.append(dict(type="line", x0=max_pain.price_usd, x1=max_pain.price_usd, y0=0, y1=1,
                           yref="paper", line=dict(color=st.MAXPAIN, dash="dot", width=1.5)))
        notes.append(dict(x=max_pain.price_usd, y=0.1, yref="paper", showarrow=False, bgcolor=st.BG,
                          text=f"{HARVEST_LABEL}: {_pain_usd(max_pain)}",
                          font=dict(color=st.MAXPAIN)))
    shown = sorted((c for c in clusters if window[0] <= c.price_usd <= window[1]),
                   key=lambda c: -c.notional_usd)[:max_clusters]
    for k, c in enumerate(shown):
        i = int(np.argmin(np.abs(d["bins"] - c.price_usd)))
        notes.append(dict(x=c.price_usd, y=d[c.side][i], text=cluster_label(c, band=True),
                          showarrow=True,
                          arrowcolor=st.SHORT if c.side == "short" else st.LONG, ax=0,
                          ay=-40 - 22 * (k % 4), bgcolor=st.BG, font=dict(color=st.FG, size=11)))
    return shapes, notes


def _html_levels_and_layers(levels, layers, window, d: dict):
    """Plotly shapes, annotations and legend-only traces for the squeeze ceiling, the flush
    floor and the layer tags (as on the PNG)."""
    shapes, notes, legend = [], [], []
    for lv in levels:
        colour = st.SHORT if isinstance(lv, Ceiling) else st.LONG
        text = level_label(lv)
        inside = window[0] <= lv.price_usd <= window[1]
        shapes.append(dict(type="line", x0=lv.price_usd, x1=lv.price_usd, y0=0, y1=1,
                           yref="paper", line=dict(color=colour, dash="dashdot", width=1.5)))
        if inside:
            notes.append(dict(x=lv.price_usd, y=0.17, yref="paper", text=text, showarrow=False,
                              textangle=-90, yanchor="bottom", xanchor="right", bgcolor=st.BG,
                              bordercolor=colour, font=dict(color=colour, size=11)))
        else:
            right = lv.price_usd > window[1]
            notes.append(dict(x=1 if right else 0, xref="paper", y=0.17, yref="paper",
                              xanchor="right" if right else "left", showarrow=False,
                              text=f"{text} →" if right else f"← {text}", bgcolor=st.BG,
                              bordercolor=colour, font=dict(color=colour, size=11)))
        legend.append(dict(type="scatter", x=[None], y=[None], mode="lines", name=text,
                           line=dict(color=colour, dash="dashdot")))
    for lay in layers:
        colour = st.SHORT if lay.side == "short" else st.LONG
        if lay.layers:
            legend.append(dict(type="scatter", x=[None], y=[None], mode="markers",
                               name=_layers_legend(lay),
                               marker=dict(color=colour, symbol="square", size=9)))
        for tag, c in layer_tags([lay]):
            if window[0] <= c.price_usd <= window[1]:
                notes.append(dict(x=c.price_usd, y=_peak(d, c), text=f"<b>{tag}</b>",
                                  showarrow=False, yanchor="bottom", yshift=3, bgcolor=colour,
                                  font=dict(color=st.BG, size=10)))
    return shapes, notes, legend


def _usd_ticks(top_usd: float) -> dict:
    """Plotly tick values and K/M/B labels from 0 to ``top_usd``."""
    ticks = np.asarray(MaxNLocator(nbins=6).tick_values(0.0, max(float(top_usd), 1.0)))
    ticks = ticks[ticks >= 0]
    return dict(tickvals=ticks.tolist(), ticktext=[st.fmt_usd(t, 2) if t else "0" for t in ticks])


def plot_map_html(
    m: LiqMap, path, *, imbalance: Imbalance | None = None, clusters: tuple[Cluster, ...] = (),
    zone: Zone | None = None, max_pain: HarvestLevel | None = None, title: str | None = None,
    x_range_usd: tuple[float, float] | None = None, max_clusters: int = 6,
    ceiling: Ceiling | None = None, floor: Floor | None = None, layers: tuple[Layers, ...] = (),
    self_contained: bool = True,
) -> Path:
    """Write the liquidation map as an interactive Plotly HTML that opens offline (no CDN).

    Parameters are those of :func:`plot_map_png`, plus ``self_contained`` (see
    :func:`liqmap.plots.write_html`: plotly.js inlined, or one shared copy beside the
    file). Hovering shows, at a price, the
    per-bin and cumulative long and short notional in USD.

    Returns
    -------
    Path
        The written file.
    """
    fig = _html_figure(m, imbalance, clusters, zone, max_pain, title, x_range_usd, max_clusters,
                       ceiling, floor, layers)
    return st.write_html(fig, path, self_contained=self_contained)


def _html_figure(m: LiqMap, imbalance, clusters, zone, max_pain, title, x_range_usd,
                 max_clusters: int, ceiling, floor, layers) -> dict:
    """The interactive map as the plain figure dict plotly.js reads."""
    levels = _levels(ceiling, floor)
    window, keep = _window(m, imbalance, clusters, zone, max_pain, x_range_usd,
                           [lv.price_usd for lv in levels])
    d = _side_arrays(m, keep)
    shapes, notes = _html_marks(m, clusters, zone, max_pain, window, d, max_clusters)
    more_shapes, more_notes, legend = _html_levels_and_layers(levels, layers, window, d)
    shapes, notes = shapes + more_shapes, notes + more_notes
    text = title or _default_title(m)
    if imbalance is not None:
        line = imbalance_text(imbalance, m.price_usd)
        text += f"<br><span style='font-size:13px;color:{st.ZONE}'>{line}</span>"
    layout = st.dark_layout(text)
    layout.update(plot_bgcolor=st.PANEL, barmode="overlay", bargap=0, hovermode="x unified",
                  shapes=shapes, annotations=notes, margin=dict(l=80, r=80, t=90, b=50))
    bar_top = max(np.max(d["long"], initial=0), np.max(d["short"], initial=0))
    cum_top = max(np.nanmax(d["long_cum"], initial=0), np.nanmax(d["short_cum"], initial=0))
    layout["yaxis"] = dict(layout["yaxis"], title=dict(text=f"per ${m.bin_usd:,.0f} bin"),
                           **_usd_ticks(bar_top))
    layout["yaxis2"] = dict(layout["yaxis"], title=dict(text="cumulative from price"),
                            overlaying="y", side="right", showgrid=False, rangemode="tozero",
                            **_usd_ticks(cum_top))
    layout["xaxis"] = dict(layout["xaxis"], title=dict(text="price (USD)"),
                           range=list(window), tickformat=",.0f")
    return {"data": _html_traces(d) + legend, "layout": layout}
