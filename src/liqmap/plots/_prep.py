"""Array preparation shared by the static and interactive charts (no drawing here).

Choosing what to show is the same question for matplotlib and Plotly: which side's
notional, which price window, how to scale the colours, how to shrink a large book to the
size a screen shows (``downsample_heat``, the rule of ``liqmap.core.heatgrid`` that the
API uses too) and a long price line to the points a chart shows, how to cumulate a map
from the price outward.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from liqmap._exceptions import ConfigError, DataError
from liqmap.core.heatgrid import downsample_heat  # one rule with the API
from liqmap.core.records import Heatmap, LiqMap

__all__ = [
    "HEAT_CLIP_PCT",
    "HEAT_LOG_DECADES",
    "cumulative_from_price",
    "downsample_heat",
    "heat_intensity",
    "heat_limits",
    "heat_y_range",
    "map_x_range",
    "price_envelope",
    "realized_arrays",
]

#: Upper end of the colour scale: this percentile of the non-empty visible cells, so one
#: hot pixel cannot wash the rest of the chart out (cells above it show as the top colour).
HEAT_CLIP_PCT = 99.5
#: With ``log_scale`` the colour scale spans this many decades below the clip value;
#: cells under that floor are drawn as empty.
HEAT_LOG_DECADES = 1.5
#: Price window of the heatmap: the bar range widened to hold this share of the level
#: mass (quantiles ``q`` and ``1 - q`` of the time-summed book) ...
_Y_MASS_Q = 0.01
#: ... but never more than this fraction beyond the bar range, then padded by 3 %.
_Y_MAX_BEYOND = 0.15
_SIDES = ("both", "long", "short")


def heat_intensity(hm: Heatmap, side: str) -> np.ndarray:
    """Notional per frame and bin for ``side`` ("both", "long" or "short"), shape (F, P)."""
    if side not in _SIDES:
        raise ConfigError(f"side must be one of {_SIDES}, got {side!r}")
    if side == "long":
        return np.asarray(hm.long_usd, dtype=float)
    if side == "short":
        return np.asarray(hm.short_usd, dtype=float)
    return np.asarray(hm.long_usd, dtype=float) + np.asarray(hm.short_usd, dtype=float)


def _bars_in_span(hm: Heatmap) -> np.ndarray:
    """Boolean mask of the price bars that fall inside the heatmap's frame span."""
    t = np.asarray(hm.price_ts_ms)
    ts = np.asarray(hm.ts_ms)
    if ts.size == 0:
        return np.ones(t.shape, dtype=bool)
    inside = (t >= ts.min()) & (t <= ts.max())
    return inside if inside.any() else np.ones(t.shape, dtype=bool)


def heat_y_range(hm: Heatmap, z: np.ndarray) -> tuple[float, float]:
    """Price window (USD) that holds the price path and most of the level mass.

    The window is the low..high range of the bars in the frame span, widened to the
    ``_Y_MASS_Q`` / ``1 - _Y_MASS_Q`` quantiles of the time-summed book ``z`` (cells
    clipped at the colour-scale top) but by at most ``_Y_MAX_BEYOND`` of the price, then
    padded by 3 % of its height.
    """
    bins = np.asarray(hm.price_bins_usd, dtype=float)
    m = _bars_in_span(hm)
    lo_px = float(np.nanmin(np.asarray(hm.price_low_usd)[m])) if m.any() else float(bins[0])
    hi_px = float(np.nanmax(np.asarray(hm.price_high_usd)[m])) if m.any() else float(bins[-1])
    lo, hi = lo_px, hi_px
    _, clip = heat_limits(z, log_scale=False)  # clipped, so a hot cell cannot pull the window
    mass = np.nansum(np.minimum(z, clip), axis=0) if z.size else np.zeros(bins.shape)
    if mass.sum() > 0:
        cdf = np.cumsum(mass) / mass.sum()
        q_lo = float(bins[np.searchsorted(cdf, _Y_MASS_Q)])
        q_hi = float(bins[min(int(np.searchsorted(cdf, 1 - _Y_MASS_Q)), bins.size - 1)])
        lo = max(min(lo, q_lo), lo_px * (1 - _Y_MAX_BEYOND))
        hi = min(max(hi, q_hi), hi_px * (1 + _Y_MAX_BEYOND))
    pad = 0.03 * max(hi - lo, 1e-9 * max(abs(hi), 1.0))
    return max(lo - pad, float(bins[0])), min(hi + pad, float(bins[-1]))


def heat_limits(z_visible: np.ndarray, log_scale: bool) -> tuple[float, float]:
    """Colour-scale limits ``(vmin, vmax)`` in USD for the visible cells.

    ``vmax`` is the ``HEAT_CLIP_PCT`` percentile of the non-empty cells. With
    ``log_scale`` ``vmin`` is ``HEAT_LOG_DECADES`` decades below it, else 0.
    """
    pos = z_visible[np.isfinite(z_visible) & (z_visible > 0)]
    vmax = float(np.percentile(pos, HEAT_CLIP_PCT)) if pos.size else 1.0
    vmax = vmax if vmax > 0 else 1.0
    vmin = vmax / 10**HEAT_LOG_DECADES if log_scale else 0.0
    return vmin, vmax


def price_envelope(ts_ms: np.ndarray, price: np.ndarray, max_points: int,
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The points of a price line that a chart ``max_points / 4`` pixels wide can show.

    The line is cut into that many equal time buckets and each keeps its first, lowest,
    highest and last point, in time order (the M4 rule: drawn at that width, the reduced
    line covers the same pixels as the whole one). Lines short enough are kept whole.
    """
    ts = np.asarray(ts_ms, dtype=np.int64)
    px = np.asarray(price, dtype=float)
    n_buckets = max(1, max_points // 4)
    if ts.size <= max(4 * n_buckets, 4):
        return ts, px
    edges = np.linspace(ts[0], ts[-1], n_buckets + 1)
    starts = np.unique(np.searchsorted(ts, edges[:-1], side="left"))
    ends = np.append(starts[1:], ts.size) - 1
    finite = np.where(np.isfinite(px), px, np.nan)
    lo = np.fmin.reduceat(finite, starts)
    hi = np.fmax.reduceat(finite, starts)
    keep = np.zeros(ts.size, dtype=bool)
    keep[starts] = keep[ends] = True
    seg = np.repeat(np.arange(starts.size), np.diff(np.append(starts, ts.size)))
    for extreme in (lo, hi):  # the first point of each bucket at its low / high
        hit = np.flatnonzero(finite == extreme[seg])
        first = np.unique(seg[hit], return_index=True)[1]
        keep[hit[first]] = True
    return ts[keep], px[keep]


def realized_arrays(realized) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Check and unpack realized liquidations for drawing.

    Parameters
    ----------
    realized : tuple or RealizedLiquidations
        ``(ts_ms, price_usd, notional_usd, side)`` arrays, or any object with ``ts_ms``,
        ``price``, ``notional_usd`` and ``side`` attributes (``liqmap.core.realized``). ``side``
        is the liquidated position: "long"/"short", or +1 (long) / -1 (short).

    Returns
    -------
    tuple of arrays
        ``ts_ms`` (int64), ``price_usd``, ``notional_usd`` (float) and ``is_long`` (bool).
    """
    if hasattr(realized, "notional_usd") and hasattr(realized, "ts_ms"):
        realized = (realized.ts_ms, realized.price, realized.notional_usd, realized.side)
    try:
        ts, px, notional, side = realized
    except (TypeError, ValueError) as exc:
        raise DataError("realized must be a tuple (ts_ms, price_usd, notional_usd, side)",
                        source="realized") from exc
    ts = np.asarray(ts, dtype=np.int64)
    px = np.asarray(px, dtype=float)
    notional = np.asarray(notional, dtype=float)
    side = np.asarray(side)
    if not (ts.shape == px.shape == notional.shape == side.shape):
        raise DataError("realized arrays must have the same length", source="realized")
    if side.dtype.kind in "iuf":
        is_long, bad = side == 1, ~np.isin(side, (1, -1))
    else:
        side = side.astype(str)
        is_long, bad = side == "long", ~np.isin(side, ("long", "short"))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"side must be 'long'/'short' or +1/-1, got {side[row]!r}",
                        source="realized", row=row)
    return ts, px, notional, is_long


def cumulative_from_price(
    bins_usd: np.ndarray, values_usd: np.ndarray, price_usd: float, direction: str,
) -> np.ndarray:
    """Cumulate ``values_usd`` from ``price_usd`` outward; NaN on the other side.

    ``direction="down"`` (longs): at a bin below the price, the notional of all bins from
    that bin up to the price. ``direction="up"`` (shorts): from the price up to the bin.

    Examples
    --------
    >>> cumulative_from_price(np.array([1., 2, 3, 4]), np.ones(4), 2.5, "down")
    array([ 2.,  1., nan, nan])
    """
    b = np.asarray(bins_usd, dtype=float)
    v = np.nan_to_num(np.asarray(values_usd, dtype=float))
    out = np.full(b.shape, np.nan)
    if direction == "down":
        m = b <= price_usd
        out[m] = np.cumsum(v[m][::-1])[::-1]
    elif direction == "up":
        m = b >= price_usd
        out[m] = np.cumsum(v[m])
    else:
        raise ConfigError(f"direction must be 'down' or 'up', got {direction!r}")
    return out


def map_x_range(m: LiqMap, extra_usd: Sequence[float] = (), max_pct: float = 0.35,
                ) -> tuple[float, float]:
    """Price window of a map: 0.5 %..99.5 % of its level mass plus ``extra_usd`` marks.

    Marks (imbalance band ends, clusters, zone, harvest level) are included when they lie
    within ``max_pct`` of the price; the window never exceeds that and is padded by 2 %.
    """
    b = np.asarray(m.price_bins_usd, dtype=float)
    mass = (np.nan_to_num(np.asarray(m.long_usd, float))
            + np.nan_to_num(np.asarray(m.short_usd, float)))
    lo = hi = float(m.price_usd)
    if mass.sum() > 0:
        cdf = np.cumsum(mass) / mass.sum()
        lo = min(lo, float(b[np.searchsorted(cdf, 0.005)]))
        hi = max(hi, float(b[min(int(np.searchsorted(cdf, 0.995)), b.size - 1)]))
    cap_lo, cap_hi = m.price_usd * (1 - max_pct), m.price_usd * (1 + max_pct)
    for x in extra_usd:
        if x is not None and np.isfinite(x) and cap_lo <= x <= cap_hi:
            lo, hi = min(lo, float(x)), max(hi, float(x))
    lo, hi = max(lo, cap_lo), min(hi, cap_hi)
    pad = 0.02 * max(hi - lo, 1e-6 * m.price_usd)
    return lo - pad, hi + pad
