"""The liquidation heatmap: time on x, price on y, colour = notional that would be liquidated.

Static PNG through matplotlib's object API (``Figure`` + Agg canvas: no pyplot, no global
backend switch, no display; fixed margins, so no layout pass) and an interactive Plotly
HTML written from a plain figure dict (``liqmap.plots._html``: plotly.py is not imported).

Colour scaling (both versions): the top of the scale is the ``HEAT_CLIP_PCT`` (99.5th)
percentile of the non-empty visible cells, so a single hot pixel cannot flatten the rest;
with ``log_scale=True`` (default) the scale is logarithmic over ``HEAT_LOG_DECADES`` (1.5)
decades below that, and fainter cells are drawn as empty. With ``log_scale=False`` it is
linear from 0.
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

from liqmap.core.records import Heatmap
from liqmap.plots import _style as st
from liqmap.plots._prep import (
    downsample_heat,
    heat_intensity,
    heat_limits,
    heat_y_range,
    price_envelope,
    realized_arrays,
)
from liqmap.timeutil import utc_minute

__all__ = ["heatmap_figure", "heatmap_title", "plot_heatmap_html", "plot_heatmap_png"]

_SIDE_LABEL = {"both": "longs + shorts", "long": "longs", "short": "shorts"}


def _mpl_days(ts_ms: np.ndarray) -> np.ndarray:
    """Unix ms to matplotlib date numbers."""
    return mdates.date2num(np.asarray(ts_ms, dtype=np.int64).astype("datetime64[ms]"))


def heatmap_title(hm: Heatmap, side: str = "both", *, opened_since_ms: int | None = None) -> str:
    """``BTC/USDT:USDT · binance · liquidation heatmap (longs + shorts) · start → end UTC``,
    with ``· positions opened since T`` when the book was warmed up before the drawn span."""
    span = ""
    if len(hm.ts_ms):
        span = f" · {utc_minute(int(hm.ts_ms[0]))} → {utc_minute(int(hm.ts_ms[-1]))} UTC"
    since = "" if opened_since_ms is None else (
        f" · positions opened since {utc_minute(int(opened_since_ms))}")
    return f"{hm.symbol} · {hm.venue} · liquidation heatmap ({_SIDE_LABEL[side]}){span}{since}"


def _default_title(hm: Heatmap, side: str) -> str:
    return heatmap_title(hm, side)


def _frame_edges(ts_ms: np.ndarray) -> tuple[float, float]:
    """Left and right time edges (matplotlib days) of the frame span, half a step out."""
    d = _mpl_days(ts_ms)
    step = float(np.median(np.diff(d))) if d.size > 1 else 1 / 288
    return float(d[0] - step / 2), float(d[-1] + step / 2)


def _prepare(hm: Heatmap, side: str, y_range_usd, log_scale: bool, *, max_frames: int,
             max_bins: int, sides: bool = False):
    """Crop the book to the price window and bring it to display size (``downsample_heat``:
    frames picked, bins split onto whole blocks of bins, notional per frame conserved).

    Returns frame times (F'), bin centres (P'), the colour layer z (F', P') as float32, the
    long and short layers (with ``sides``, else None), the window and the colour limits.
    """
    z = heat_intensity(hm, side)
    lo, hi = y_range_usd if y_range_usd is not None else heat_y_range(hm, z)
    bins = np.asarray(hm.price_bins_usd, dtype=float)
    half = hm.bin_usd / 2
    keep = np.flatnonzero((bins + half >= lo) & (bins - half <= hi))
    cols = slice(keep[0], keep[-1] + 1) if keep.size else slice(0, 0)  # a view, not a copy
    layers = [z[:, cols]]
    if sides:
        layers += [np.asarray(hm.long_usd)[:, cols], np.asarray(hm.short_usd)[:, cols]]
    del z
    ts, bins, out = downsample_heat(hm.ts_ms, bins[cols], layers, max_frames=max_frames,
                                    max_bins=max_bins, dtype=np.float32)
    vmin, vmax = heat_limits(out[0], log_scale)
    long_, short_ = (out[1], out[2]) if sides else (None, None)
    return ts, bins, out[0], long_, short_, (float(lo), float(hi)), (vmin, vmax)


def _bin_width(bins: np.ndarray, hm: Heatmap) -> float:
    """Width of the drawn bins (a whole number of the heatmap's bins)."""
    return float(bins[1] - bins[0]) if bins.size > 1 else float(hm.bin_usd)


def _evenly_spaced(d: np.ndarray) -> bool:
    """True when every frame lies within half a step of an even grid (frames picked
    evenly from bars: steps differ by one bar at most), so an image can draw them."""
    if d.size < 3:
        return True
    even = np.linspace(d[0], d[-1], d.size)
    return bool(np.max(np.abs(d - even)) <= 0.5 * (d[-1] - d[0]) / (d.size - 1))


#: Fixed margins of the heatmap figure in points (text is sized in points, so they hold at
#: any figure size): left for 7-character price ticks and the y label, below for the date
#: ticks and the x label, above for the title; right of the panel the last-price tag, then
#: the colour bar's slot (``_BAR_FRAC`` of the figure width; the bar, 1/20 of its height
#: wide, at its left) and the bar's labels. They are what constrained layout found on the
#: 30-day sample, 5 pt of the gap moved to the right margin (room for the bar's labels at a
#: low dpi); fixed, a figure skips that layout pass.
_MARGIN_PT = {"left": 59.0, "bottom": 32.0, "top": 21.3, "gap": 62.6, "right": 51.91}
_BAR_FRAC = 0.02411
_BAR_ASPECT = 20
_TITLE_PAD_PT = 3.0  # the title's distance from the top edge


def _axes(fig: Figure):
    """The heat panel and the colour bar's axes, placed at ``_MARGIN_PT``."""
    w, h = fig.get_size_inches() * 72
    m = _MARGIN_PT
    panel = max(w - m["left"] - m["gap"] - _BAR_FRAC * w - m["right"], 0.1 * w)
    bottom, height = m["bottom"] / h, max(1 - (m["bottom"] + m["top"]) / h, 0.1)
    ax = fig.add_axes((m["left"] / w, bottom, panel / w, height))
    bar = height * h / _BAR_ASPECT
    cax = fig.add_axes(((m["left"] + panel + m["gap"]) / w, bottom, bar / w, height))
    return ax, cax


def _style_axes(ax, fig) -> None:
    """Dark theme on one axes: panel colour, dim ticks, faint grid."""
    ax.set_facecolor(st.PANEL)
    for s in ax.spines.values():
        s.set_color(st.GRID)
    ax.tick_params(colors=st.FG_DIM, labelsize=9)
    ax.xaxis.label.set_color(st.FG)
    ax.yaxis.label.set_color(st.FG)


def _draw_heat(ax, hm: Heatmap, ts, bins, z, limits, log_scale: bool):
    """The heat layer as an image (frames evenly spaced, to within half a step: the
    frames picked from bars) or a mesh (if they are not)."""
    vmin, vmax = limits
    norm = LogNorm(vmin=vmin, vmax=vmax, clip=False) if log_scale else Normalize(0, vmax, clip=True)
    zm = np.ma.masked_less_equal(z.T, 0.0)
    d = _mpl_days(ts)
    steps = np.diff(d)
    half = _bin_width(bins, hm) / 2 if bins.size > 1 else 0.5
    if d.size < 2 or _evenly_spaced(d):
        x0, x1 = _frame_edges(ts)
        return ax.imshow(zm, origin="lower", aspect="auto", cmap=st.heat_cmap(), norm=norm,
                         extent=(x0, x1, bins[0] - half, bins[-1] + half),
                         interpolation="antialiased")
    x_edges = np.concatenate([[d[0] - steps[0] / 2], d[:-1] + steps / 2, [d[-1] + steps[-1] / 2]])
    y_edges = np.concatenate([bins - half, [bins[-1] + half]])
    return ax.pcolormesh(x_edges, y_edges, zm, cmap=st.heat_cmap(), norm=norm, rasterized=True)


def _draw_price(ax, hm: Heatmap, max_points: int) -> None:
    """The close-price line in the frame span (reduced to the points ``max_points / 4``
    pixel columns show: :func:`price_envelope`), and a tag with the last close at the right."""
    t = np.asarray(hm.price_ts_ms)
    ts = np.asarray(hm.ts_ms)
    m = (t >= ts.min()) & (t <= ts.max()) if ts.size else np.ones(t.shape, bool)
    if not m.any():
        return
    t, close = price_envelope(t[m], np.asarray(hm.price_close_usd, dtype=float)[m], max_points)
    ax.plot(_mpl_days(t), close, color=st.PRICE, lw=1.3, label="price (close)", zorder=4)
    ax.annotate(st.fmt_price(close[-1]), xy=(1.0, close[-1]), xycoords=("axes fraction", "data"),
                xytext=(4, 0), textcoords="offset points", va="center", ha="left", fontsize=8,
                color=st.BG, bbox=dict(boxstyle="square,pad=0.25", fc=st.PRICE, ec="none"),
                annotation_clip=False, zorder=6)


def _draw_realized(ax, hm: Heatmap, realized, window) -> None:
    """Realized liquidations as bubbles, area proportional to notional (red longs, green shorts)."""
    ts, px, notional, is_long = realized_arrays(realized)
    inside = ((ts >= np.min(hm.ts_ms)) & (ts <= np.max(hm.ts_ms))
              & (px >= window[0]) & (px <= window[1]))
    if not inside.any():
        return
    top = float(np.nanmax(notional[inside])) or 1.0
    for mask, colour, label in ((is_long, st.LONG, "realized long liq."),
                                (~is_long, st.SHORT, "realized short liq.")):
        k = inside & mask
        if k.any():
            size = 10 + 240 * np.sqrt(np.clip(notional[k], 0, None) / top)
            ax.scatter(_mpl_days(ts[k]), px[k], s=size, c=colour, alpha=0.65, edgecolors="white",
                       linewidths=0.5, label=label, zorder=5)


def _colorbar(fig, cax, mappable, bin_usd: float) -> None:
    """Colour bar labelled in USD (K/M/B) per price bin, drawn in ``cax``."""
    cb = fig.colorbar(mappable, cax=cax, extend="max")
    if isinstance(mappable.norm, LogNorm):
        cb.ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        cb.ax.yaxis.set_minor_locator(NullLocator())
    cb.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: st.mpl_text(st.fmt_usd(v, 2))))
    cb.ax.tick_params(colors=st.FG_DIM, labelsize=8)
    cb.outline.set_edgecolor(st.GRID)
    cb.set_label(st.mpl_text(f"liquidation notional per ${bin_usd:,.0f} bin"), color=st.FG,
                 fontsize=9)


def heatmap_figure(
    hm: Heatmap, *, side: str = "both", title: str | None = None, realized=None,
    log_scale: bool = True, y_range_usd: tuple[float, float] | None = None,
    figsize_in: tuple[float, float] = (14.0, 7.0), dpi: int = 130,
) -> Figure:
    """Draw the liquidation heatmap on a new matplotlib ``Figure`` (Agg canvas attached).

    Parameters are those of :func:`plot_heatmap_png`; returns the figure (at fixed
    margins, without a layout engine: saving it draws it once), whose first
    axes is the heat panel (for adding marks or reading its transforms). The book is drawn
    at most one frame and one bin per pixel (``downsample_heat``; the colour bar names the
    drawn bin width), the price line at the points the pixel columns show.
    """
    px_w, px_h = int(figsize_in[0] * dpi), int(figsize_in[1] * dpi)
    ts, bins, z, _, _, window, limits = _prepare(hm, side, y_range_usd, log_scale,
                                                 max_frames=px_w, max_bins=px_h)
    fig = Figure(figsize=figsize_in, dpi=dpi, facecolor=st.BG)
    FigureCanvasAgg(fig)
    ax, cax = _axes(fig)
    _style_axes(ax, fig)
    mappable = _draw_heat(ax, hm, ts, bins, z, limits, log_scale)
    _draw_price(ax, hm, 4 * px_w)
    if realized is not None:
        _draw_realized(ax, hm, realized, window)
    ax.set_xlim(*_frame_edges(ts))
    ax.set_ylim(*window)
    ax.xaxis.set_major_locator(loc := mdates.AutoDateLocator(tz=UTC, maxticks=10))
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc, tz=UTC))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=10))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: st.fmt_price(v)))
    ax.set_xlabel("time (UTC)", fontsize=9)
    ax.set_ylabel("price (USD)", fontsize=9)
    ax.grid(color="white", alpha=0.06, lw=0.6)
    _colorbar(fig, cax, mappable, _bin_width(bins, hm))
    leg = ax.legend(loc="upper left", fontsize=8, facecolor=st.BG, edgecolor=st.GRID,
                    labelcolor=st.FG, framealpha=0.8)
    for handle in leg.legend_handles:
        if handle is not None and hasattr(handle, "set_sizes"):
            handle.set_sizes([40.0])
    _title(fig, title or _default_title(hm, side))
    return fig


def _title(fig: Figure, text: str) -> None:
    """The title, top left, ``_TITLE_PAD_PT`` below the top edge."""
    y = 1 - _TITLE_PAD_PT / 72 / fig.get_figheight()
    fig.suptitle(st.mpl_text(text), color=st.FG, fontsize=12, x=0.01, y=y, ha="left")


def plot_heatmap_png(
    hm: Heatmap, path, *, side: str = "both", title: str | None = None, realized=None,
    log_scale: bool = True, y_range_usd: tuple[float, float] | None = None,
    figsize_in: tuple[float, float] = (14.0, 7.0), dpi: int = 130,
) -> Path:
    """Write the liquidation heatmap as a PNG (Coinglass style: dark, purple to yellow).

    Parameters
    ----------
    hm : Heatmap
        The book over time.
    path : str or Path
        Output file; parent folders are created.
    side : {"both", "long", "short"}
        Colour = long + short notional per bin, or one side only.
    title : str, optional
        Defaults to symbol, venue, side and the UTC time span.
    realized : tuple of arrays or RealizedLiquidations, optional
        ``(ts_ms, price_usd, notional_usd, side)`` of realized liquidations, ``side`` being
        the liquidated position ("long"/"short" or +1/-1); drawn as bubbles, area ~
        notional (red: longs liquidated, green: shorts).
    log_scale : bool, default True
        Logarithmic colour scale over 1.5 decades below the 99.5th percentile (see module
        docstring); False: linear from 0, clipped at the same percentile.
    y_range_usd : (float, float), optional
        Price window; default: the price range widened to hold most level mass (at most
        15 % beyond the price range).
    figsize_in : (float, float)
        Figure size in inches; the PNG is ``figsize_in * dpi`` pixels.
    dpi : int, default 130

    Returns
    -------
    Path
        The written file.

    Examples
    --------
    >>> plot_heatmap_png(hm, "out/heatmap.png")  # doctest: +SKIP
    """
    fig = heatmap_figure(hm, side=side, title=title, realized=realized, log_scale=log_scale,
                         y_range_usd=y_range_usd, figsize_in=figsize_in, dpi=dpi)
    return st.save_png(fig, path)


def _plotly_colorscale() -> list[list]:
    """``HEAT_STOPS`` as a Plotly colour scale."""
    return [[pos, colour] for pos, colour in st.HEAT_STOPS]


#: Colour levels of the HTML heatmap: 0 is empty, 1..255 the colour scale (one byte a cell;
#: 255 levels over 1.5 decades is finer than the eye or the PNG's 512-colour map tells).
_LEVELS = 255


def _colour_levels(zc: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Colour values (NaN: empty) as uint8 levels: 0 empty, 1..255 from ``lo`` to ``hi``."""
    with np.errstate(invalid="ignore"):
        q = 1 + np.rint((np.clip(zc, lo, hi) - lo) / ((hi - lo) or 1.0) * (_LEVELS - 1))
    return np.where(np.isfinite(zc), q, 0).astype(np.uint8)


def _heat_trace(ts, bins, z, long_, short_, limits, log_scale: bool, side: str) -> dict:
    """The Plotly heat trace (a plain dict): colour on a log10 (or linear) scale as one byte
    a cell (see ``_colour_levels``), USD ticks, per-side hover (float32 USD)."""
    vmin, vmax = limits
    if log_scale:
        with np.errstate(divide="ignore", invalid="ignore"):
            zc = np.where(z >= vmin, np.log10(np.maximum(z, vmin)), np.nan)
        lo, hi = np.log10(vmin), np.log10(vmax)
        ticks = np.arange(np.ceil(lo * 2) / 2, hi + 1e-9, 0.5)
        text = [st.fmt_usd(10**t, 2) for t in ticks]
    else:
        ticks = np.asarray(MaxNLocator(nbins=6).tick_values(0.0, vmax))
        ticks = ticks[(ticks >= 0) & (ticks <= vmax)]
        zc, lo, hi = np.where(z > 0, z, np.nan), 0.0, vmax
        text = [st.fmt_usd(t, 2) if t else "$0" for t in ticks]
    levels = 1 + (ticks - lo) / ((hi - lo) or 1.0) * (_LEVELS - 1)
    bar = dict(tickvals=levels.tolist(), ticktext=text)
    bar.update(title=dict(text=f"per ${np.diff(bins[:2]).sum():,.0f} bin", side="right"),
               tickfont=dict(color=st.FG_DIM), outlinecolor=st.GRID)
    custom = np.stack([long_.T, short_.T], axis=-1).astype(np.float32)
    return dict(
        type="heatmap", x=np.asarray(ts, dtype=np.int64).astype("datetime64[ms]"), y=bins,
        z=_colour_levels(zc.T, lo, hi), zmin=0, zmax=_LEVELS, colorscale=_plotly_colorscale(),
        colorbar=bar, customdata=custom, name=_SIDE_LABEL[side],
        hovertemplate=("%{x|%Y-%m-%d %H:%M} UTC<br>price %{y:,.0f}<br>"
                       "longs %{customdata[0]:$,.0f}<br>shorts %{customdata[1]:$,.0f}"
                       "<extra></extra>"),
    )


def _price_trace(hm: Heatmap, max_points: int) -> dict:
    """The close-price line in the frame span, at most ``max_points`` (:func:`price_envelope`)."""
    t = np.asarray(hm.price_ts_ms)
    m = (t >= np.min(hm.ts_ms)) & (t <= np.max(hm.ts_ms))
    t, close = price_envelope(t[m], np.asarray(hm.price_close_usd, dtype=float)[m], max_points)
    return dict(type="scatter", x=t.astype("datetime64[ms]"), y=close, mode="lines",
                line=dict(color=st.PRICE, width=1.3), name="price (close)",
                hovertemplate="%{x|%Y-%m-%d %H:%M} UTC<br>close %{y:,.1f}<extra></extra>")


def _realized_traces(hm: Heatmap, realized) -> list[dict]:
    """Realized liquidations as Plotly bubbles, one trace per side."""
    ts, px, notional, is_long = realized_arrays(realized)
    inside = (ts >= np.min(hm.ts_ms)) & (ts <= np.max(hm.ts_ms))
    top = float(np.nanmax(notional[inside])) if inside.any() else 1.0
    out = []
    for mask, colour, label in ((is_long, st.LONG, "realized long liq."),
                                (~is_long, st.SHORT, "realized short liq.")):
        k = inside & mask
        if k.any():
            size = 4 + 26 * np.sqrt(np.clip(notional[k], 0, None) / (top or 1.0))
            out.append(dict(
                type="scatter", x=ts[k].astype("datetime64[ms]"), y=px[k], mode="markers",
                name=label, marker=dict(size=size, color=colour, opacity=0.7,
                            line=dict(color="white", width=0.5)),
                customdata=notional[k],
                hovertemplate=(f"{label}<br>%{{x|%Y-%m-%d %H:%M:%S}} UTC<br>price %{{y:,.1f}}"
                               "<br>%{customdata:$,.0f}<extra></extra>")))
    return out


def plot_heatmap_html(
    hm: Heatmap, path, *, side: str = "both", title: str | None = None, realized=None,
    log_scale: bool = True, y_range_usd: tuple[float, float] | None = None,
    max_frames: int = 400, max_bins: int = 200, self_contained: bool = True,
) -> Path:
    """Write the heatmap as an interactive Plotly HTML that opens offline.

    Parameters are those of :func:`plot_heatmap_png`, plus ``max_frames`` and
    ``max_bins``: the cropped book is drawn at about the resolution a screen shows, at
    most that many frames (picked evenly) and bins (whole blocks of bins, the notional of
    each frame conserved: ``downsample_heat``, the API's rule), and ``self_contained``
    (see :func:`liqmap.plots.write_html`: plotly.js inlined, or one shared copy beside the
    file). Hovering a cell shows its UTC time, price and the long and short notional in USD.

    Returns
    -------
    Path
        The written file (opens offline: no CDN).
    """
    fig = _html_figure(hm, side, title, realized, log_scale, y_range_usd, max_frames, max_bins)
    return st.write_html(fig, path, self_contained=self_contained)


def _html_figure(hm: Heatmap, side: str, title, realized, log_scale: bool, y_range_usd,
                 max_frames: int, max_bins: int) -> dict:
    """The interactive heatmap as the plain figure dict plotly.js reads."""
    ts, bins, zd, long_, short_, window, limits = _prepare(
        hm, side, y_range_usd, log_scale, max_frames=max_frames, max_bins=max_bins, sides=True)
    data = [_heat_trace(ts, bins, zd, long_, short_, limits, log_scale, side),
            _price_trace(hm, 4 * max_frames)]
    if realized is not None:
        data += _realized_traces(hm, realized)
    layout = st.dark_layout(title or _default_title(hm, side))
    layout["yaxis"].update(range=list(window), tickformat=",.0f", title=dict(text="price (USD)"))
    layout["xaxis"].update(title=dict(text="time (UTC)"))
    return {"data": data, "layout": layout}
