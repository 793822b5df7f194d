"""Layers, staircase and watch levels of a liquidation map; re-exported by ``liqmap.core.mapstats``.

Both read the peaks that ``clusters`` finds (``liqmap.core._mapclusters``, default smoothing
and separation) within a reach of the price, and order them outward from it:

* ``layers``: the largest clusters of one side, nearest first, and whether they form a
  *staircase* (the posts' "layered like a staircase: 88k, 92k, 96k, denser as you go
  higher"): notional rising with distance, scored by Spearman's rank correlation.
* ``watch_levels``: the next levels each way (short clusters above, long clusters below).
"""

from __future__ import annotations

import math

import numpy as np

from liqmap._exceptions import ConfigError
from liqmap.core._mapclusters import clusters
from liqmap.core._mapgrid import check_map, check_positive, check_side
from liqmap.core.records import Cluster, Layers, LiqMap, WatchLevels

__all__ = ["layers", "spearman", "watch_levels"]

_SIDES = ("long", "short")
#: ``staircase`` and ``staircase_score`` need at least this many layers.
MIN_STAIRCASE_LAYERS = 3


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties given the mean of the ranks they span."""
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    upper = np.cumsum(counts)  # highest rank of each distinct value
    mean_rank = upper - (counts - 1) / 2.0
    return np.asarray(mean_rank[inverse], dtype=np.float64)


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation of two equal-length samples, in [-1, 1].

    Pearson's correlation of the ranks (ties get mean ranks); nan for fewer than three
    pairs or when either sample is constant.

    Examples
    --------
    >>> spearman(np.array([1.0, 2.0, 3.0]), np.array([10.0, 30.0, 20.0]))
    0.5
    """
    rx, ry = _ranks(np.asarray(x, dtype=np.float64)), _ranks(np.asarray(y, dtype=np.float64))
    if rx.size != ry.size:
        raise ConfigError(f"spearman needs samples of one length, got {rx.size} and {ry.size}")
    if rx.size < MIN_STAIRCASE_LAYERS:
        return math.nan
    rx, ry = rx - rx.mean(), ry - ry.mean()
    den = math.sqrt(float(np.sum(rx * rx)) * float(np.sum(ry * ry)))
    return math.nan if den == 0 else min(1.0, max(-1.0, float(np.sum(rx * ry)) / den))


def _outward(found: list[Cluster]) -> tuple[Cluster, ...]:
    return tuple(sorted(found, key=lambda k: (abs(k.distance_pct), -k.notional_usd)))


def layers(m: LiqMap, side: str, *, reach_pct: float = 50.0, top: int = 6) -> Layers:
    """The ``top`` largest clusters of one side within reach, ordered outward from the price.

    The clusters are ``clusters(m, side, top=top, max_distance_pct=reach_pct)`` (so only
    bins within ``reach_pct`` % of the price count), sorted by distance from the price,
    nearest first. ``staircase`` is True when there are at least three layers and each
    holds strictly more notional than the one before it (denser as price goes farther);
    ``staircase_score`` is Spearman's rank correlation between the layers' distance and
    their notional: +1 for a perfect staircase, -1 when the nearest layer is the heaviest
    and each next one lighter, nan for fewer than three layers (or equal notionals).

    Parameters
    ----------
    m : LiqMap
        The map.
    side : {"long", "short"}
        Longs (layers below the price) or shorts (above).
    reach_pct : float
        Farthest bin considered, percent of price.
    top : int
        Number of clusters kept (the largest by notional), at most.

    Returns
    -------
    Layers

    Examples
    --------
    >>> c = np.arange(80_000.0, 100_001.0, 500.0)
    >>> s = np.select([c == 88_000, c == 92_000, c == 96_000], [1e9, 2e9, 4e9])
    >>> lay = layers(LiqMap(0, 85_000.0, c, np.zeros(c.size), s), "short")
    >>> [k.price_usd for k in lay.layers], lay.staircase, lay.staircase_score
    ([88000.0, 92000.0, 96000.0], True, 1.0)
    """
    check_map(m)
    check_side(side, _SIDES)
    check_positive(reach_pct=reach_pct)
    ordered = _outward(clusters(m, side, top=top, max_distance_pct=reach_pct))
    notional = np.array([k.notional_usd for k in ordered], dtype=np.float64)
    distance = np.array([abs(k.distance_pct) for k in ordered], dtype=np.float64)
    rising = bool(np.all(np.diff(notional) > 0))
    return Layers(side=side, layers=ordered,
                  staircase=len(ordered) >= MIN_STAIRCASE_LAYERS and rising,
                  staircase_score=spearman(distance, notional))


def watch_levels(
    m: LiqMap, *, n: int = 3, reach_pct: float = 20.0, min_share: float = 0.1
) -> WatchLevels:
    """The next ``n`` cluster levels each way: where to watch how price behaves.

    Above the price: the short clusters within ``reach_pct`` % (``clusters``, every peak),
    those holding at least ``min_share`` of the largest one in reach (a small bump next to
    the price is not a level), the ``n`` nearest, nearest first. Below: the same with the
    long clusters. Each level is ``(price_usd, notional_usd, distance_pct)`` (the peak bin
    centre, the cluster's notional, its signed distance from the price in percent).

    Parameters
    ----------
    m : LiqMap
        The map.
    n : int
        Levels per side, at most.
    reach_pct : float
        Farthest bin considered, percent of price.
    min_share : float
        Smallest cluster kept, as a fraction of the side's largest one in reach, in [0, 1].

    Returns
    -------
    WatchLevels

    Examples
    --------
    >>> c = np.arange(80.0, 121.0)
    >>> m = LiqMap(0, 100.0, c, np.select([c == 95, c == 90], [2.0, 5.0]),
    ...            np.select([c == 103, c == 101, c == 110], [4.0, 0.1, 6.0]))
    >>> w = watch_levels(m, n=2)
    >>> w.above, w.below
    (((103.0, 4.0, 3.0), (110.0, 6.0, 10.0)), ((95.0, 2.0, -5.0), (90.0, 5.0, -10.0)))
    """
    check_map(m)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"n must be a positive integer, got {n!r}")
    check_positive(reach_pct=reach_pct)
    if not (math.isfinite(min_share) and 0 <= min_share <= 1):
        raise ConfigError(f"min_share must be a fraction in [0, 1], got {min_share!r}")
    out = []
    for side in ("short", "long"):
        found = clusters(m, side, top=m.price_bins_usd.size, max_distance_pct=reach_pct)
        biggest = max((k.notional_usd for k in found), default=0.0)
        kept = [k for k in found if k.notional_usd >= min_share * biggest]
        out.append(tuple((k.price_usd, k.notional_usd, k.distance_pct)
                         for k in _outward(kept)[:n]))
    return WatchLevels(above=out[0], below=out[1], reach_pct=reach_pct)
