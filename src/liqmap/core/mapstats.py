"""Analytics of one liquidation map: cumulative curves, imbalance, clusters, zones, harvest
level, squeeze ceiling and flush floor, layers and watch levels.

Arrays in, records out (``liqmap.core.records``); pure NumPy. ``clusters`` lives in
``liqmap.core._mapclusters``, ``layers`` and ``watch_levels`` in ``liqmap.core._maplayers``,
the grid helpers (``rebin``, ``aggregate``) in ``liqmap.core._mapgrid``; all are
re-exported here.

Names: ``harvest_level`` (deprecated alias ``max_pain``) is not the posts' "max pain", the
price a squeeze is stacked up to: that is ``squeeze_ceiling`` (and ``flush_floor``).

Conventions shared by every function here
-----------------------------------------
* Bin ``i`` covers ``[c_i - b/2, c_i + b/2)`` (``c`` = ``price_bins_usd``, ``b`` = ``bin_usd``).
* **The bin that contains the price sits at the price.** Its effective position is
  ``price_usd`` (distance zero) and it belongs to *both* sides: a move in either direction
  reaches it at once, so its longs count from the first step down and its shorts from the
  first step up. Every other bin sits at its centre; longs count only at or below the
  price, shorts only at or above it.
* ``*_pct`` arguments of ``imbalance`` are **fractions** of price (0.2 = 20 %), as in
  ``Imbalance``; every other ``*_pct`` argument is in **percent** (1.0 = 1 %).
"""

from __future__ import annotations

import math
from dataclasses import asdict, replace
from typing import Any

import numpy as np

from liqmap._exceptions import ConfigError
from liqmap.core._mapclusters import clusters, side_band_values, window_sums
from liqmap.core._mapgrid import (
    EDGE_TOL,
    MAX_PRICE_SPREAD,
    aggregate,
    check_map,
    check_positive,
    check_side,
    effective_usd,
    pct_from,
    rebin,
    side_mask,
    side_values,
)
from liqmap.core._maplayers import layers, watch_levels
from liqmap.core.records import Ceiling, Floor, HarvestLevel, Imbalance, LiqMap, Zone

__all__ = [
    "MAX_PRICE_SPREAD",
    "aggregate",
    "clusters",
    "cumulative",
    "densest_zone",
    "flush_floor",
    "harvest_level",
    "imbalance",
    "jsonable",
    "layers",
    "max_pain",
    "rebin",
    "squeeze_ceiling",
    "summary",
    "watch_levels",
]

_SIDES = ("long", "short")
#: ``imbalance`` takes fractions; a larger value is almost surely a percent typed by mistake.
_MAX_UP_FRACTION = 5.0
#: ``squeeze_ceiling``/``flush_floor``: a running sum within this fraction of the target
#: share counts as reaching it (summation rounding must not push the level one bin out).
_SHARE_RTOL = 1e-12


def cumulative(m: LiqMap) -> tuple[np.ndarray, np.ndarray]:
    """Notional liquidated by a move from the price to each bin, per side.

    Parameters
    ----------
    m : LiqMap
        The map.

    Returns
    -------
    cum_long_below_usd : (P,) float64
        For a bin at or below the price: the longs of every bin between it and the price,
        both included (the longs a fall to that bin liquidates). Zero above the price.
    cum_short_above_usd : (P,) float64
        For a bin at or above the price: the shorts between the price and it, both
        included. Zero below the price.

    Notes
    -----
    The bin that contains the price counts on both sides (see the module docstring), so
    both curves are non-zero there.

    Examples
    --------
    >>> m = LiqMap(0, 101.0, np.array([99.0, 100.0, 101.0, 102.0]),
    ...            np.array([1.0, 2.0, 3.0, 0.0]), np.array([0.0, 0.0, 4.0, 5.0]))
    >>> [a.tolist() for a in cumulative(m)]
    [[6.0, 5.0, 3.0, 0.0], [0.0, 0.0, 4.0, 9.0]]
    """
    check_map(m)
    longs = side_values(m, "long")
    shorts = side_values(m, "short")
    eff = effective_usd(m)
    cum_long = np.cumsum(longs[::-1])[::-1]
    cum_short = np.cumsum(shorts)
    cum_long[eff > m.price_usd] = 0.0
    cum_short[eff < m.price_usd] = 0.0
    return cum_long, cum_short


def _ratio(shorts_usd: float, longs_usd: float) -> float:
    if longs_usd > 0:
        return shorts_usd / longs_usd
    return math.inf if shorts_usd > 0 else math.nan


def _check_band(name: str, to_frac: float, from_frac: float, cap: float) -> None:
    for label, value in ((f"{name}_pct", to_frac), (f"{name}_from_pct", from_frac)):
        if not (math.isfinite(value) and value >= 0):
            raise ConfigError(f"{label} must be a fraction >= 0 (0.2 = 20 %), got {value!r}")
    if to_frac > cap:
        raise ConfigError(
            f"{name}_pct is a fraction of price (0.2 = 20 %) and at most {cap}, got {to_frac!r}"
        )
    if from_frac >= to_frac:
        raise ConfigError(
            f"{name}_from_pct ({from_frac!r}) must be smaller than {name}_pct ({to_frac!r})"
        )


def _band_sum(eff: np.ndarray, vals: np.ndarray, lo_usd: float, hi_usd: float, p: float) -> float:
    tol = EDGE_TOL * p
    inside = (eff >= lo_usd - tol) & (eff <= hi_usd + tol)
    return float(vals[inside].sum())


def imbalance(
    m: LiqMap,
    up_pct: float = 0.20,
    down_pct: float = 0.20,
    *,
    up_from_pct: float = 0.0,
    down_from_pct: float = 0.0,
) -> Imbalance:
    """Shorts in an upside band over longs in a downside band.

    Shorts are summed over bins whose effective position lies in
    ``[price x (1 + up_from_pct), price x (1 + up_pct)]``, longs over
    ``[price x (1 - down_pct), price x (1 - down_from_pct)]`` (edges inclusive; the bin
    holding the price sits at the price). ``ratio = short_usd / long_usd`` (inf when there
    are no longs, nan when both are zero).

    Parameters
    ----------
    m : LiqMap
        The map.
    up_pct, down_pct : float
        Far edges of the bands as **fractions** of price (0.2 = 20 %); ``down_pct <= 1``.
    up_from_pct, down_from_pct : float
        Near edges, fractions of price, smaller than the far edges.

    Returns
    -------
    Imbalance
        With ``ratio_low = short_low / long_high`` and ``ratio_high = short_high / long_low``
        when the map has all four band arrays, else ``None``.

    Raises
    ------
    ConfigError
        A negative, reversed or empty band, or ``up_pct`` above 5 (a percent typed as
        a fraction).

    Examples
    --------
    >>> c = np.arange(80.0, 121.0)
    >>> m = LiqMap(0, 100.0, c, np.where(c < 100, 1.0, 0.0), np.where(c > 100, 14.0, 0.0))
    >>> imbalance(m, 0.2, 0.2).ratio
    14.0
    """
    check_map(m)
    _check_band("up", up_pct, up_from_pct, _MAX_UP_FRACTION)
    _check_band("down", down_pct, down_from_pct, 1.0)
    p = m.price_usd
    eff = effective_usd(m)
    s_lo, s_hi = p * (1 + up_from_pct), p * (1 + up_pct)
    l_lo, l_hi = p * (1 - down_pct), p * (1 - down_from_pct)

    def band(values: np.ndarray, side: str) -> float:
        vals = np.where(side_mask(m, side), values, 0.0)
        lo, hi = (s_lo, s_hi) if side == "short" else (l_lo, l_hi)
        return _band_sum(eff, vals, lo, hi, p)

    short_usd, long_usd = band(m.short_usd, "short"), band(m.long_usd, "long")
    ratio_low = ratio_high = None
    s_low, s_high = m.short_low_usd, m.short_high_usd
    l_low, l_high = m.long_low_usd, m.long_high_usd
    if s_low is not None and s_high is not None and l_low is not None and l_high is not None:
        ratio_low = _ratio(band(s_low, "short"), band(l_high, "long"))
        ratio_high = _ratio(band(s_high, "short"), band(l_low, "long"))
    return Imbalance(
        short_usd=short_usd, long_usd=long_usd, ratio=_ratio(short_usd, long_usd),
        short_from_usd=s_lo, short_to_usd=s_hi, long_from_usd=l_lo, long_to_usd=l_hi,
        ratio_low=ratio_low, ratio_high=ratio_high,
    )


def densest_zone(
    m: LiqMap, side: str, *, width_pct: float = 2.0, max_distance_pct: float = 30.0
) -> Zone:
    """The window of fixed width holding the most notional of one side.

    The window spans ``n = max(1, round(width_pct / 100 x price / bin_usd))`` whole bins
    (fewer if the side has fewer bins in range), all on ``side`` of the price and within
    ``max_distance_pct`` of it. Ties go to the window nearest the price. ``from_usd`` and
    ``to_usd`` are the outer bin edges, ``distance_pct`` the signed distance of the window
    centre from the price. With no bin in range the zone is empty (zero notional, nan
    edges).

    **Band.** The window is chosen on the central map. When the map has the side's band
    arrays, ``notional_low_usd`` / ``notional_high_usd`` are the low and high band arrays
    summed over that same window (None without band). All three sums are correctly
    rounded (``math.fsum``), so a band that brackets the central map bin by bin gives
    ``notional_low_usd <= notional_usd <= notional_high_usd`` exactly.

    Parameters
    ----------
    m : LiqMap
        The map.
    side : {"long", "short"}
        Side to search.
    width_pct : float
        Window width, percent of price.
    max_distance_pct : float
        Farthest bin considered, percent of price.

    Returns
    -------
    Zone

    Examples
    --------
    >>> c = np.arange(90.0, 111.0)
    >>> m = LiqMap(0, 100.0, c, np.zeros(21), np.where((c >= 104) & (c <= 105), 5.0, 0.0))
    >>> z = densest_zone(m, "short", width_pct=2.0)
    >>> (z.from_usd, z.to_usd, z.notional_usd, z.distance_pct)
    (103.5, 105.5, 10.0, 4.5)
    >>> mb = replace(m, short_low_usd=m.short_usd / 2, short_high_usd=m.short_usd * 3,
    ...              long_low_usd=m.long_usd, long_high_usd=m.long_usd)
    >>> z = densest_zone(mb, "short", width_pct=2.0)
    >>> (z.notional_low_usd, z.notional_usd, z.notional_high_usd)
    (5.0, 10.0, 30.0)
    """
    check_map(m)
    check_side(side, _SIDES)
    check_positive(width_pct=width_pct, max_distance_pct=max_distance_pct)
    keep = np.flatnonzero(side_mask(m, side, max_distance_pct))
    band = side_band_values(m, side)
    if keep.size == 0:
        zero = None if band is None else 0.0
        return Zone(side, math.nan, math.nan, 0.0, math.nan, zero, zero)
    first, last = int(keep[0]), int(keep[-1])
    c, b, p = np.asarray(m.price_bins_usd, dtype=np.float64), m.bin_usd, m.price_usd
    vals = side_values(m, side)[first: last + 1]
    n = min(max(1, round(width_pct / 100.0 * p / b)), vals.size)
    csum = np.concatenate(([0.0], np.cumsum(vals)))
    sums = csum[n:] - csum[:-n]
    centres = (c[first: last - n + 2] + c[first + n - 1: last + 1]) / 2.0
    best = np.flatnonzero(sums == sums.max())
    j = int(best[np.argmin(np.abs(centres[best] - p))])
    lo, hi = c[first + j] - b / 2, c[first + j + n - 1] + b / 2
    central, low, high = window_sums((side_values(m, side), *(band or (None, None))),
                                     first + j, first + j + n - 1)
    assert central is not None  # side_values is never None
    return Zone(side, float(lo), float(hi), central, float(pct_from((lo + hi) / 2, p)),
                notional_low_usd=low, notional_high_usd=high)


def _pain(m: LiqMap, min_pct: float, max_pct: float) -> tuple[np.ndarray, np.ndarray]:
    """(pain_usd, distance_pct) per bin: ``cumulative`` towards the bin, zero out of range."""
    eff, p = effective_usd(m), m.price_usd
    d_pct = np.abs(pct_from(eff, p))
    in_range = (d_pct >= min_pct * (1 - EDGE_TOL)) & (d_pct <= max_pct * (1 + EDGE_TOL))
    cum_long, cum_short = cumulative(m)
    pain = np.where(eff < p, cum_long, cum_short)
    return np.where(in_range, pain, 0.0), d_pct


def _best_level(pain: np.ndarray, d_pct: np.ndarray) -> tuple[int, float] | None:
    """(bin index, score) of the highest ``pain / d**2`` (nearest on ties); None if no pain."""
    if not np.any(pain > 0):
        return None
    score = np.where(pain > 0, pain / np.where(pain > 0, d_pct, 1.0) ** 2, -np.inf)
    i = int(np.lexsort((d_pct, -score))[0])
    return i, float(score[i])


def _band_map(m: LiqMap, which: str) -> LiqMap:
    """The map whose sides are the ``which`` (``"low"``/``"high"``) band arrays."""
    return replace(m, long_usd=getattr(m, f"long_{which}_usd"),
                   short_usd=getattr(m, f"short_{which}_usd"), long_low_usd=None,
                   long_high_usd=None, short_low_usd=None, short_high_usd=None)


def _pain_band(m: LiqMap, i: int | None, lo_pct: float, hi_pct: float) -> dict[str, float]:
    """Band fields of ``HarvestLevel`` for central level index ``i`` (None: no central level)."""
    eff = effective_usd(m)
    out, levels = {}, [] if i is None else [float(eff[i])]
    for which in ("low", "high"):
        pain, d_pct = _pain(_band_map(m, which), lo_pct, hi_pct)
        out[f"notional_{which}_usd"] = 0.0 if i is None else float(pain[i])
        best = _best_level(pain, d_pct)
        if best is not None:
            levels.append(float(eff[best[0]]))
    out["level_low_usd"] = min(levels, default=math.nan)
    out["level_high_usd"] = max(levels, default=math.nan)
    return out


def harvest_level(
    m: LiqMap, *, min_distance_pct: float = 0.5, max_distance_pct: float = 15.0
) -> HarvestLevel:
    """The level where a move harvests the most liquidations per unit of push.

    Formerly ``max_pain`` (still an alias, deprecated): not what traders' posts call max
    pain, which is ``squeeze_ceiling`` (shorts) or ``flush_floor`` (longs).

    Definition: for each bin centre ``x`` with ``min_distance_pct <= |x / price - 1| x 100
    <= max_distance_pct``, let ``pain(x)`` be the notional a move from the price to ``x``
    liquidates (``cumulative``: longs for ``x`` below the price, shorts above) and
    ``d(x) = |x / price - 1|`` in percent. Under the square-root impact law (METHOD.md
    section 4) the order flow needed to push price a distance ``d`` grows like ``d**2``, so
    the harvest level is the ``x`` that maximizes ``pain(x) / d(x)**2``. Ties go to the nearer
    level. ``min_distance_pct`` keeps the score from exploding next to the price. With no
    notional in range the result has ``side="none"``, zero notional and nan price.

    Band (only when the map has all four band arrays, else the four fields are None). The
    *low-band map* is the map whose long and short notionals are ``long_low_usd`` and
    ``short_low_usd``; the *high-band map* likewise with the ``*_high_usd`` arrays.

    * ``notional_low_usd`` / ``notional_high_usd``: ``pain(price_usd)`` read on the low-
      and high-band maps, i.e. what the same move (to the central harvest level)
      liquidates under the low and high leverage spread (0 when there is no central level).
      Bands that bracket the central map bin by bin give low <= ``notional_usd`` <= high.
    * ``level_low_usd`` / ``level_high_usd``: the level recomputed with the same definition
      and parameters on the low-band and on the high-band map; the lowest and highest of
      those two levels and the central one (levels with no notional in range left out; nan
      when there is none). The span says how far the level moves with the leverage
      assumptions; it may straddle the price when the maps disagree on the side.

    Parameters
    ----------
    m : LiqMap
        The map.
    min_distance_pct, max_distance_pct : float
        Range of candidate levels, percent of price, ``0 < min < max``.

    Returns
    -------
    HarvestLevel
        ``score_usd_per_pct2`` holds ``pain / d**2`` (d in percent).

    Examples
    --------
    >>> c = np.arange(90.0, 111.0)
    >>> m = LiqMap(0, 100.0, c, np.where(c == 98, 8.0, 0.0), np.where(c == 104, 20.0, 0.0))
    >>> mp = harvest_level(m)
    >>> (mp.side, mp.price_usd, mp.notional_usd, mp.distance_pct)
    ('long', 98.0, 8.0, -2.0)
    >>> mb = replace(m, long_low_usd=m.long_usd / 4, long_high_usd=m.long_usd,
    ...              short_low_usd=m.short_usd, short_high_usd=m.short_usd * 2)
    >>> mp = harvest_level(mb)  # central: long 98 (8/4 > 20/16); low and high maps: short 104
    >>> (mp.notional_low_usd, mp.notional_usd, mp.notional_high_usd)
    (2.0, 8.0, 8.0)
    >>> (mp.level_low_usd, mp.level_high_usd)
    (98.0, 104.0)
    """
    check_map(m)
    check_positive(min_distance_pct=min_distance_pct, max_distance_pct=max_distance_pct)
    if min_distance_pct >= max_distance_pct:
        raise ConfigError(
            f"min_distance_pct ({min_distance_pct!r}) must be below "
            f"max_distance_pct ({max_distance_pct!r})"
        )
    eff, p = effective_usd(m), m.price_usd
    pain, d_pct = _pain(m, min_distance_pct, max_distance_pct)
    best = _best_level(pain, d_pct)
    bands = (m.long_low_usd, m.long_high_usd, m.short_low_usd, m.short_high_usd)
    band = {}
    if all(a is not None for a in bands):
        band = _pain_band(m, None if best is None else best[0], min_distance_pct,
                          max_distance_pct)
    if best is None:
        return HarvestLevel(math.nan, 0.0, math.nan, "none", 0.0, **band)
    i, score = best
    return HarvestLevel(
        price_usd=float(eff[i]), notional_usd=float(pain[i]),
        distance_pct=float(pct_from(eff[i], p)),
        side="long" if eff[i] < p else "short", score_usd_per_pct2=score, **band,
    )


#: Deprecated name of ``harvest_level`` (same function; see its docstring for why).
max_pain = harvest_level


def _check_reach(share: float, reach_pct: float) -> None:
    if not (math.isfinite(share) and 0 < share <= 1):
        raise ConfigError(f"share must be a fraction in (0, 1] (0.9 = 90 %), got {share!r}")
    check_positive(reach_pct=reach_pct)


def _reach_level(m: LiqMap, side: str, share: float, reach_pct: float
                 ) -> tuple[float, float, float]:
    """(level_usd, total_usd, liquidated_usd) of one side within reach; nan level if none."""
    cum = cumulative(m)[0 if side == "long" else 1]
    keep = side_mask(m, side, reach_pct)
    total = float(cum[keep].max()) if keep.any() else 0.0
    if not total > 0:
        return math.nan, 0.0, 0.0
    hit = np.flatnonzero(keep & (cum >= share * total * (1 - _SHARE_RTOL)))
    i = int(hit[-1] if side == "long" else hit[0])  # the level nearest the price
    return float(effective_usd(m)[i]), total, float(cum[i])


def _reach_band(m: LiqMap, side: str, share: float, reach_pct: float,
                level_usd: float) -> tuple[float | None, float | None]:
    """Lowest and highest level of the low, central and high maps; None without band."""
    band = side_band_values(m, side)
    if band is None:
        return None, None
    levels = [level_usd] if math.isfinite(level_usd) else []
    for values in band:
        bm = replace(m, long_usd=values) if side == "long" else replace(m, short_usd=values)
        x = _reach_level(bm, side, share, reach_pct)[0]
        if math.isfinite(x):
            levels.append(x)
    return min(levels, default=math.nan), max(levels, default=math.nan)


def squeeze_ceiling(m: LiqMap, *, share: float = 0.9, reach_pct: float = 50.0) -> Ceiling:
    """The squeeze ceiling: how high a rally must go to liquidate most of the shorts in reach.

    Definition: the shorts *in reach* are those whose effective position lies between the
    price and ``price x (1 + reach_pct / 100)`` (edges inclusive; the bin holding the price
    sits at the price), ``shorts_total_usd`` their sum. The ceiling is the lowest such
    position ``x`` at or above the price where ``cumulative``'s short curve (the shorts a
    rally from the price to ``x`` liquidates, ``shorts_liquidated_usd``) reaches
    ``share x shorts_total_usd``. Shorts beyond the reach count nowhere. It answers the
    posts' "max pain: the short-squeeze ceiling, the wall is stacked all the way up to it";
    ``harvest_level`` answers another question. With no short in reach: nan price and
    distance, zero notionals.

    **Band.** When the map has both short band arrays, ``price_low_usd`` /
    ``price_high_usd`` are the lowest and highest of the ceilings computed the same way on
    the low-band map, the central map and the high-band map (levels without shorts in reach
    left out; nan when there is none); None without band.

    Parameters
    ----------
    m : LiqMap
        The map.
    share : float
        Fraction of the shorts in reach the rally must liquidate, in (0, 1].
    reach_pct : float
        How far above the price shorts are counted, percent of price.

    Returns
    -------
    Ceiling

    Examples
    --------
    Shorts of 1 in each bin from 101 to 110 (10 in all): 9 are gone by the 109 bin.

    >>> c = np.arange(90.0, 121.0)
    >>> m = LiqMap(0, 100.0, c, np.zeros(31), np.where((c >= 101) & (c <= 110), 1.0, 0.0))
    >>> k = squeeze_ceiling(m)
    >>> (k.price_usd, k.distance_pct, k.shorts_total_usd, k.shorts_liquidated_usd)
    (109.0, 9.0, 10.0, 9.0)
    >>> squeeze_ceiling(m, share=1.0).price_usd
    110.0
    """
    check_map(m)
    _check_reach(share, reach_pct)
    level, total, done = _reach_level(m, "short", share, reach_pct)
    low, high = _reach_band(m, "short", share, reach_pct, level)
    return Ceiling(price_usd=level, distance_pct=float(pct_from(level, m.price_usd)),
                   shorts_total_usd=total, shorts_liquidated_usd=done, share=share,
                   reach_pct=reach_pct, price_low_usd=low, price_high_usd=high)


def flush_floor(m: LiqMap, *, share: float = 0.9, reach_pct: float = 50.0) -> Floor:
    """The flush floor: how low a fall must go to liquidate most of the longs in reach.

    The mirror of ``squeeze_ceiling``: the longs in reach lie between
    ``price x (1 - reach_pct / 100)`` and the price (``longs_total_usd``); the floor is the
    highest position ``x`` at or below the price where ``cumulative``'s long curve (the
    longs a fall to ``x`` liquidates, ``longs_liquidated_usd``) reaches
    ``share x longs_total_usd``. Band fields as in ``squeeze_ceiling``, from the long band
    arrays.

    Parameters
    ----------
    m : LiqMap
        The map.
    share : float
        Fraction of the longs in reach the fall must liquidate, in (0, 1].
    reach_pct : float
        How far below the price longs are counted, percent of price (at most 100 counts
        every long).

    Returns
    -------
    Floor

    Examples
    --------
    >>> c = np.arange(50.0, 111.0)
    >>> m = LiqMap(0, 100.0, c, np.select([c == 95, c == 92, c == 60], [6.0, 3.0, 1.0]),
    ...            np.zeros(61))
    >>> f = flush_floor(m)
    >>> (f.price_usd, f.distance_pct, f.longs_total_usd, f.longs_liquidated_usd)
    (92.0, -8.0, 10.0, 9.0)
    >>> f = flush_floor(m, reach_pct=20.0)  # the 60 bin is out of reach
    >>> (f.price_usd, f.longs_total_usd)
    (92.0, 9.0)
    """
    check_map(m)
    _check_reach(share, reach_pct)
    level, total, done = _reach_level(m, "long", share, reach_pct)
    low, high = _reach_band(m, "long", share, reach_pct, level)
    return Floor(price_usd=level, distance_pct=float(pct_from(level, m.price_usd)),
                 longs_total_usd=total, longs_liquidated_usd=done, share=share,
                 reach_pct=reach_pct, price_low_usd=low, price_high_usd=high)


def jsonable(value: Any) -> Any:
    """Plain Python values with non-finite floats as None (strict JSON).

    >>> jsonable({"a": [np.float64("nan"), np.int64(2), np.bool_(True)]})
    {'a': [None, 2, True]}
    """
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    return value


def summary(m: LiqMap) -> dict[str, Any]:
    """The headline figures of a map as a JSON-ready dict.

    Keys: ``venue``, ``symbol``, ``ts_ms``, ``price_usd``, ``bin_usd``, ``total_long_usd``,
    ``total_short_usd``, ``imbalance`` (``"10pct"`` and ``"20pct"``: ``imbalance`` at
    +/-10 % and +/-20 %), ``clusters`` (top 5 per side, ``"long"``/``"short"``),
    ``densest_zone`` (per side, default width), ``harvest_level``, ``max_pain`` (the same
    record as ``harvest_level``, under its deprecated name), ``squeeze_ceiling`` and
    ``flush_floor`` (default share and reach). Non-finite numbers (an infinite ratio, an
    empty zone) become ``None``. The low/high band rides along each record:
    ``ratio_low``/``ratio_high`` (imbalance), ``notional_low_usd``/``notional_high_usd``
    (clusters, zones, harvest level), ``level_low_usd``/``level_high_usd`` (harvest level),
    ``price_low_usd``/``price_high_usd`` (ceiling, floor); all ``None`` when the map has no
    band arrays.

    Examples
    --------
    >>> c = np.arange(90.0, 111.0)
    >>> m = LiqMap(0, 100.0, c, np.where(c < 100, 1.0, 0.0), np.where(c > 100, 2.0, 0.0))
    >>> summary(m)["imbalance"]["10pct"]["ratio"]
    2.0
    """
    check_map(m)
    harvest = harvest_level(m)
    out = {
        "venue": m.venue, "symbol": m.symbol, "ts_ms": int(m.ts_ms),
        "price_usd": m.price_usd, "bin_usd": m.bin_usd,
        "total_long_usd": float(np.sum(m.long_usd)),
        "total_short_usd": float(np.sum(m.short_usd)),
        "imbalance": {
            f"{int(f * 100)}pct": asdict(imbalance(m, f, f)) for f in (0.10, 0.20)
        },
        "clusters": {sd: [asdict(k) for k in clusters(m, sd)] for sd in _SIDES},
        "densest_zone": {sd: asdict(densest_zone(m, sd)) for sd in _SIDES},
        "harvest_level": asdict(harvest),
        "max_pain": asdict(harvest),  # deprecated key, kept by the API contract
        "squeeze_ceiling": asdict(squeeze_ceiling(m)),
        "flush_floor": asdict(flush_floor(m)),
    }
    result: dict[str, Any] = jsonable(out)
    return result
