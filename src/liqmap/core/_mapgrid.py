"""Grid helpers of liquidation maps: validation, geometry, ``rebin`` and ``aggregate``.

Private module; the public names are re-exported by ``liqmap.core.mapstats``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from liqmap._exceptions import ConfigError, DataError
from liqmap.core.records import LiqMap
from liqmap.core.timeunits import iso_ms

__all__ = [
    "aggregate",
    "check_map",
    "check_positive",
    "check_side",
    "effective_usd",
    "pct_from",
    "rebin",
    "side_mask",
    "side_values",
]

#: Relative tolerance on band and distance edges (a centre at exactly price x 1.1 is inside).
EDGE_TOL = 1e-9
#: ``aggregate`` refuses maps whose prices differ by more than this factor (mixed assets?).
MAX_PRICE_SPREAD = 1.05
#: ``aggregate`` refuses to build a grid with more bins than this.
MAX_GRID_BINS = 10_000_000
_BANDS = ("long_low_usd", "long_high_usd", "short_low_usd", "short_high_usd")


def _check_values(name: str, values: np.ndarray, size: int) -> None:
    if values.shape != (size,):
        raise DataError(f"must have shape ({size},) like price_bins_usd, got {values.shape}",
                        source=f"LiqMap.{name}")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise DataError("must hold finite notionals >= 0", source=f"LiqMap.{name}")


def check_map(m: LiqMap) -> None:
    """Raise ``DataError`` unless ``m`` is a well-formed map (>= 2 even, ascending bins).

    Examples
    --------
    >>> check_map(LiqMap(0, 100.0, np.array([99.0, 100.0]), np.ones(2), np.zeros(2)))
    """
    if not (math.isfinite(m.price_usd) and m.price_usd > 0):
        raise DataError(f"must be a positive price, got {m.price_usd!r}", source="LiqMap.price_usd")
    c = np.asarray(m.price_bins_usd, dtype=np.float64)
    if c.ndim != 1 or c.size < 2 or not np.all(np.isfinite(c)):
        raise DataError("must be a 1-D array of at least 2 finite bin centres",
                        source="LiqMap.price_bins_usd")
    step = np.diff(c)
    if np.any(step <= 0) or np.ptp(step) > 1e-6 * step[0]:
        raise DataError("bin centres must be ascending and evenly spaced",
                        source="LiqMap.price_bins_usd")
    for name in ("long_usd", "short_usd", *_BANDS):
        values = getattr(m, name)
        if values is not None:
            _check_values(name, np.asarray(values, dtype=np.float64), c.size)


def check_side(side: str, allowed: tuple[str, ...]) -> None:
    """Raise ``ConfigError`` unless ``side`` is one of ``allowed``."""
    if side not in allowed:
        raise ConfigError(f"side must be one of {allowed}, got {side!r}")


def check_positive(**kwargs: float | None) -> None:
    """Raise ``ConfigError`` for any keyword that is not None nor a positive finite number."""
    for name, value in kwargs.items():
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ConfigError(f"{name} must be a positive finite number, got {value!r}")


def effective_usd(m: LiqMap) -> np.ndarray:
    """Bin positions, with the bin that contains the price moved onto the price.

    Bin ``i`` covers ``[c_i - b/2, c_i + b/2)``; the one holding ``price_usd`` (if any)
    is given position ``price_usd`` so that it belongs to both sides at distance zero.
    """
    eff = np.asarray(m.price_bins_usd, dtype=np.float64).copy()
    k = math.floor((m.price_usd - eff[0]) / m.bin_usd + 0.5)
    if 0 <= k < eff.size:
        eff[k] = m.price_usd
    return eff


def pct_from(x_usd: np.ndarray | float, price_usd: float) -> np.ndarray | float:
    """Signed distance of ``x_usd`` from ``price_usd``, percent (``(x - p) / p x 100``)."""
    return (x_usd - price_usd) / price_usd * 100.0


def side_mask(m: LiqMap, side: str, max_distance_pct: float | None = None) -> np.ndarray:
    """Bins of ``side`` (at or below the price for longs, at or above for shorts).

    With ``max_distance_pct``, only bins within that distance (percent) of the price.
    """
    eff = effective_usd(m)
    p = m.price_usd
    keep = eff <= p if side == "long" else eff >= p
    if max_distance_pct is not None:
        keep &= np.abs(pct_from(eff, p)) <= max_distance_pct * (1 + EDGE_TOL)
    return keep


def side_values(m: LiqMap, side: str, max_distance_pct: float | None = None) -> np.ndarray:
    """Notional of one side, zero outside ``side_mask``."""
    vals = np.asarray(m.long_usd if side == "long" else m.short_usd, dtype=np.float64)
    return np.where(side_mask(m, side, max_distance_pct), vals, 0.0)


def _as_1d(name: str, values: np.ndarray) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or not np.all(np.isfinite(arr)):
        raise DataError("must be a 1-D array of finite numbers", source=name)
    return arr


def split_onto(x: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(j, w)``: a value at ``x`` goes ``1 - w`` to ``new[j]`` and ``w`` to ``new[j + 1]``
    (linear between the two nearest centres; below the first or above the last centre it
    goes wholly to that edge). ``new`` has at least two strictly ascending centres. The one
    rule of :func:`rebin` and of the display grid (``liqmap.core.heatgrid.split_matrix``).
    """
    j = np.clip(np.searchsorted(new, x, side="right") - 1, 0, new.size - 2)
    w = np.clip((x - new[j]) / (new[j + 1] - new[j]), 0.0, 1.0)
    return j, w


def rebin(
    price_bins_usd: np.ndarray, values_usd: np.ndarray, new_bins_usd: np.ndarray
) -> np.ndarray:
    """Move notional onto a new price grid, conserving the total.

    A value at price ``x`` with ``new[j] <= x <= new[j+1]`` is split linearly between
    those two bins (``(new[j+1] - x) / (new[j+1] - new[j])`` of it to ``new[j]``, the rest
    to ``new[j+1]``). Values below the first new bin go wholly to the first bin, values
    above the last to the last bin: nothing is dropped, so
    ``rebin(...).sum() == values_usd.sum()`` up to rounding. A value sitting exactly on a
    new bin centre goes wholly to it (so rebinning onto the same grid is exact).

    Parameters
    ----------
    price_bins_usd : (P,) float64
        Prices of the values (any order).
    values_usd : (P,) float64
        Notional at each price.
    new_bins_usd : (N,) float64
        Target bin centres, strictly ascending (need not be evenly spaced).

    Returns
    -------
    (N,) float64

    Examples
    --------
    >>> rebin(np.array([100.25, 99.0]), np.array([4.0, 1.0]), np.array([100.0, 101.0])).tolist()
    [4.0, 1.0]
    """
    x = _as_1d("price_bins_usd", price_bins_usd)
    v = _as_1d("values_usd", values_usd)
    new = _as_1d("new_bins_usd", new_bins_usd)
    if x.shape != v.shape:
        raise DataError(f"must have the shape of price_bins_usd {x.shape}, got {v.shape}",
                        source="values_usd")
    if new.size == 0 or np.any(np.diff(new) <= 0):
        raise ConfigError("new_bins_usd must be a non-empty, strictly ascending array of prices")
    if new.size == 1:
        return np.array([v.sum()])
    j, w = split_onto(x, new)
    return (np.bincount(j, (1.0 - w) * v, minlength=new.size)
            + np.bincount(j + 1, w * v, minlength=new.size))


def _common_grid(maps: Sequence[LiqMap], bin_usd: float | None) -> np.ndarray:
    first = np.asarray(maps[0].price_bins_usd, dtype=np.float64)
    if bin_usd is None and all(np.array_equal(first, m.price_bins_usd) for m in maps):
        return first.copy()
    step = bin_usd if bin_usd is not None else max(m.bin_usd for m in maps)
    lo = math.floor(min(float(m.price_bins_usd[0]) for m in maps) / step) * step
    hi = math.ceil(max(float(m.price_bins_usd[-1]) for m in maps) / step) * step
    n = round((hi - lo) / step) + 1
    if n > MAX_GRID_BINS:
        raise ConfigError(
            f"bin_usd={step!r} would give {n} bins (max {MAX_GRID_BINS}); use a wider bin"
        )
    return lo + step * np.arange(n)


def _summed(maps: Sequence[LiqMap], name: str, grid: np.ndarray) -> np.ndarray:
    return sum((rebin(m.price_bins_usd, getattr(m, name), grid) for m in maps), np.zeros(grid.size))


def aggregate(maps: Sequence[LiqMap], *, bin_usd: float | None = None) -> LiqMap:
    """Sum the maps of several venues, taken at one instant, onto one common grid.

    Every map must be stamped with the same ``ts_ms`` (the map standing at one instant,
    e.g. ``LiquidationModel.run(bars, at_ms=T)`` per venue): summing maps of different
    instants would mix books of different times. The grid is the maps' own when they
    all share one and ``bin_usd`` is None; otherwise it is evenly spaced by ``bin_usd``
    (default: the widest bin among the maps), anchored on multiples of it, and spans
    every map. Each side is moved with ``rebin`` (total conserved). The band arrays are
    summed when every map has all four, else left None.
    The result has ``venue="aggregate"``, the mean of the prices, the common ``ts_ms``,
    and the common symbol (or the sorted symbols joined by ``","``).

    Parameters
    ----------
    maps : sequence of LiqMap
        At least one map, all with one ``ts_ms``; prices within a factor
        ``MAX_PRICE_SPREAD`` (1.05) of each other.
    bin_usd : float, optional
        Width of the common grid's bins, USD.

    Returns
    -------
    LiqMap

    Raises
    ------
    ConfigError
        No maps, maps stamped at different instants, a non-positive ``bin_usd``, or
        prices too far apart (different assets?).

    Examples
    --------
    >>> a = LiqMap(0, 100.0, np.array([99.0, 100.0]), np.array([1.0, 0.0]), np.array([0.0, 2.0]))
    >>> aggregate([a, a]).long_usd.tolist()
    [2.0, 0.0]
    """
    maps = list(maps)
    if not maps:
        raise ConfigError("aggregate needs at least one LiqMap")
    if bin_usd is not None and not (math.isfinite(bin_usd) and bin_usd > 0):
        raise ConfigError(f"bin_usd must be a positive number of USD, got {bin_usd!r}")
    for m in maps:
        check_map(m)
    _check_one_instant(maps)
    prices = [m.price_usd for m in maps]
    if max(prices) > MAX_PRICE_SPREAD * min(prices):
        figures = ", ".join(f"{m.venue} {m.price_usd:g}" for m in maps)
        raise ConfigError(f"map prices differ by more than {MAX_PRICE_SPREAD - 1:.0%} "
                          f"({figures}): aggregate maps of one asset only")
    grid = _common_grid(maps, bin_usd)
    bands = {}
    if all(getattr(m, b) is not None for m in maps for b in _BANDS):
        bands = {b: _summed(maps, b, grid) for b in _BANDS}
    symbols = sorted({m.symbol for m in maps})
    return LiqMap(
        ts_ms=int(maps[0].ts_ms), price_usd=float(np.mean(prices)),
        price_bins_usd=grid, long_usd=_summed(maps, "long_usd", grid),
        short_usd=_summed(maps, "short_usd", grid), venue="aggregate",
        symbol=",".join(symbols), **bands,
    )


def _check_one_instant(maps: Sequence[LiqMap]) -> None:
    """Refuse maps stamped at different instants, naming each map's venue and time."""
    if len({int(m.ts_ms) for m in maps}) < 2:
        return
    stamps = ", ".join(
        f"{m.venue} {int(m.ts_ms)} ({iso_ms(int(m.ts_ms))})" for m in maps)
    raise ConfigError(f"maps stamped at different instants ({stamps}): take every venue's "
                      "map at one instant (LiquidationModel.run(bars, at_ms=T) or "
                      "Estimate.map_at(T)) before aggregating")
