"""Peaks of a liquidation map (``clusters``); re-exported by ``liqmap.core.mapstats``.

Also holds ``side_band_values``, the per-side low/high band arrays that ``clusters``,
``mapstats.densest_zone`` and ``mapstats.harvest_level`` read their bands from.
"""

from __future__ import annotations

import math

import numpy as np

from liqmap._exceptions import ConfigError
from liqmap.core._mapgrid import (
    check_map,
    check_positive,
    check_side,
    pct_from,
    side_mask,
    side_values,
)
from liqmap.core._typing import AnyArray
from liqmap.core.records import Cluster, LiqMap

__all__ = ["clusters", "side_band_values"]

_SIDES = ("long", "short")


def side_band_values(
    m: LiqMap, side: str, max_distance_pct: float | None = None
) -> tuple[np.ndarray, np.ndarray] | None:
    """Low and high band notional of one side, zero outside ``side_mask``; None without band.

    The band exists when the side has both arrays (``long_low_usd``/``long_high_usd`` or
    ``short_low_usd``/``short_high_usd``).

    Examples
    --------
    >>> m = LiqMap(0, 100.0, np.array([99.0, 101.0]), np.array([2.0, 0.0]), np.zeros(2),
    ...            long_low_usd=np.array([1.0, 0.0]), long_high_usd=np.array([3.0, 0.0]))
    >>> [a.tolist() for a in side_band_values(m, "long")]
    [[1.0, 0.0], [3.0, 0.0]]
    >>> side_band_values(m, "short") is None
    True
    """
    low, high = getattr(m, f"{side}_low_usd"), getattr(m, f"{side}_high_usd")
    if low is None or high is None:
        return None
    keep = side_mask(m, side, max_distance_pct)
    return (np.where(keep, np.asarray(low, dtype=np.float64), 0.0),
            np.where(keep, np.asarray(high, dtype=np.float64), 0.0))


def window_sums(arrays: tuple[AnyArray | None, ...], lo: int, hi: int) -> list[float | None]:
    """``math.fsum`` of ``a[lo: hi + 1]`` for each array (None for a None array).

    Correctly rounded sums keep the order of the exact sums: band arrays that bracket the
    central one bin by bin give low <= central <= high exactly, not only up to rounding.
    """
    return [None if a is None else math.fsum(a[lo: hi + 1]) for a in arrays]


def _smooth(vals: np.ndarray, sigma_bins: float) -> np.ndarray:
    """Gaussian smoothing (kernel cut at 3 sigma, zero padding); identity below 0.5 bin."""
    if sigma_bins < 0.5:
        return vals.copy()
    radius = min(int(math.ceil(3 * sigma_bins)), (vals.size - 1) // 2)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (x / sigma_bins) ** 2)
    return np.convolve(vals, kernel / kernel.sum(), mode="same")


def _peaks(s: np.ndarray) -> np.ndarray:
    """Local maxima of ``s`` above zero (middle bin of a flat top), highest first."""
    starts = np.concatenate(([0], np.flatnonzero(s[1:] != s[:-1]) + 1))
    ends = np.concatenate((starts[1:] - 1, [s.size - 1]))
    level = s[starts]
    prev = np.concatenate(([-np.inf], level[:-1]))
    nxt = np.concatenate((level[1:], [-np.inf]))
    top = (level > prev) & (level > nxt) & (level > 0)
    idx = (starts[top] + ends[top]) // 2
    return idx[np.argsort(-s[idx], kind="stable")]


def _extent(s: np.ndarray, i: int, claimed: np.ndarray) -> tuple[int, int]:
    """Walk out from peak ``i`` while ``s`` keeps falling and stays >= half the peak."""
    half = s[i] / 2.0
    lo = hi = i
    while lo > 0 and not claimed[lo - 1] and half <= s[lo - 1] <= s[lo]:
        lo -= 1
    while hi < s.size - 1 and not claimed[hi + 1] and half <= s[hi + 1] <= s[hi]:
        hi += 1
    return lo, hi


def _forbidden_bins(sep_bins: float) -> int:
    """Largest bin offset closer than ``sep_bins`` (a near-integer counts as that integer)."""
    q = round(sep_bins) if abs(sep_bins - round(sep_bins)) < 1e-9 else sep_bins
    return max(int(math.ceil(q)) - 1, 0)


def _side_clusters(m: LiqMap, side: str, sep_pct: float, smooth_pct: float,
                   max_distance_pct: float | None) -> list[Cluster]:
    """Separated peaks of one side, highest first, each with its extent and notional."""
    vals = side_values(m, side, max_distance_pct)
    c, b, p = np.asarray(m.price_bins_usd, dtype=np.float64), m.bin_usd, m.price_usd
    s = _smooth(vals, smooth_pct / 100.0 * p / b)
    mask = side_mask(m, side, max_distance_pct)
    s = np.where(mask, s, -np.inf)
    band = side_band_values(m, side, max_distance_pct) or (None, None)
    forbid = _forbidden_bins(sep_pct / 100.0 * p / b)
    suppressed = np.zeros(vals.size, dtype=bool)
    claimed = np.zeros(vals.size, dtype=bool)
    out = []
    for i in _peaks(s):
        if suppressed[i] or claimed[i]:
            continue
        suppressed[max(i - forbid, 0): i + forbid + 1] = True
        lo, hi = _extent(s, int(i), claimed)
        claimed[lo: hi + 1] = True
        central, low, high = window_sums((vals, *band), lo, hi)
        assert central is not None  # vals is never None
        out.append(Cluster(
            side=side, price_usd=float(c[i]), notional_usd=central,
            from_usd=float(c[lo] - b / 2), to_usd=float(c[hi] + b / 2),
            distance_pct=float(pct_from(c[i], p)),
            notional_low_usd=low, notional_high_usd=high,
        ))
    return out


def clusters(
    m: LiqMap,
    side: str = "both",
    *,
    top: int = 5,
    min_separation_pct: float = 1.0,
    smooth_pct: float = 0.25,
    max_distance_pct: float | None = None,
) -> list[Cluster]:
    """The largest peaks of the map, per side or both.

    Each side's notional (zero on the other side of the price) is smoothed with a
    Gaussian of standard deviation ``smooth_pct`` % of price. Local maxima are taken
    highest first; a peak closer than ``min_separation_pct`` % of price to a taken one is
    dropped. A cluster's **extent** runs out from its peak bin, on each side, while the
    smoothed curve keeps falling (or stays flat) and stays at or above half the peak
    height, and stops before a bin already claimed by a higher peak: so it ends at half
    height or at the valley towards the next peak, whichever comes first, and extents
    never overlap. ``notional_usd`` is the raw (unsmoothed) notional summed over the
    extent, ``from_usd``/``to_usd`` its outer bin edges, ``price_usd`` the peak bin centre.

    **Band.** Detection runs on the central map only. When the map has the side's band
    arrays, ``notional_low_usd`` / ``notional_high_usd`` are the low and high band arrays
    summed over the same extent (so a band that brackets the central map bin by bin gives
    ``notional_low_usd <= notional_usd <= notional_high_usd``); without them both are None.

    Parameters
    ----------
    m : LiqMap
        The map.
    side : {"long", "short", "both"}
        Side(s) to search; with ``"both"`` the two sides compete for the ``top`` places.
    top : int
        Number of clusters returned (at most).
    min_separation_pct : float
        Minimum distance between two peaks of one side, percent of price.
    smooth_pct : float
        Smoothing width, percent of price (0 = none; below half a bin it has no effect).
    max_distance_pct : float, optional
        Ignore bins farther than this from the price, percent.

    Returns
    -------
    list of Cluster
        Sorted by ``notional_usd``, largest first.

    Examples
    --------
    >>> c = np.arange(90.0, 111.0)
    >>> m = LiqMap(0, 100.0, c, np.where(c == 95, 7.0, 0.0), np.where(c == 104, 3.0, 0.0))
    >>> [(k.side, k.price_usd, k.notional_usd) for k in clusters(m, smooth_pct=0)]
    [('long', 95.0, 7.0), ('short', 104.0, 3.0)]
    """
    check_map(m)
    check_side(side, (*_SIDES, "both"))
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise ConfigError(f"top must be a positive integer, got {top!r}")
    for name, value in (("min_separation_pct", min_separation_pct), ("smooth_pct", smooth_pct)):
        if not (math.isfinite(value) and value >= 0):
            raise ConfigError(f"{name} must be a finite percent >= 0, got {value!r}")
    check_positive(max_distance_pct=max_distance_pct)
    sides = _SIDES if side == "both" else (side,)
    found = [
        k for sd in sides
        for k in _side_clusters(m, sd, min_separation_pct, smooth_pct, max_distance_pct)
    ]
    found.sort(key=lambda k: (-k.notional_usd, abs(k.distance_pct)))
    return found[:top]
