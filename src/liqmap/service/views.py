"""Model runs behind the API: one immutable :class:`View` per (venue, symbol, lookback, data).

A view is computed once from one consistent read of the source (the catalog version is read
before and after the bars; a change in between means the read is retried), then never
modified: the service swaps whole views in and out of its cache, so a response is always
built from one view and never mixes two versions of the data.

The heatmap is kept at display size only: at most :data:`MAX_FRAMES` time columns and
:data:`MAX_PRICE_BINS` price rows on a common grid (venues are summed onto it for
``"aggregate"``), so a cached view costs a few MB.

>>> from liqmap.service.sources import BundledSource
>>> src = BundledSource()
>>> v = compute_view(src, ViewKey("binance", "BTC/USDT:USDT", "24h"))
>>> v.hm_long_usd.shape[1] <= MAX_PRICE_BINS
True
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from liqmap._exceptions import ConfigError, RetryLaterError
from liqmap.core import mapstats
from liqmap.core.bars import Bars
from liqmap.core.realized import RealizedLiquidations
from liqmap.core.records import LiqMap
from liqmap.model import LOOKBACKS_MS as _MODEL_LOOKBACKS_MS
from liqmap.model import LiquidationModel, common_at_ms
from liqmap.timeutil import MS_PER_DAY

__all__ = ["AGGREGATE", "LOOKBACKS_MS", "MAX_FRAMES", "MAX_PRICE_BINS", "View", "ViewKey",
           "compute_map", "compute_view", "window_bars"]

AGGREGATE = "aggregate"
MAX_FRAMES = 1000
MAX_PRICE_BINS = 200
#: The model's lookbacks plus 14d, ordered by length.
LOOKBACKS_MS = dict(sorted({**_MODEL_LOOKBACKS_MS, "14d": 14 * MS_PER_DAY}.items(),
                           key=lambda kv: kv[1]))
_CONSISTENT_READ_TRIES = 3


@dataclass(frozen=True, slots=True)
class ViewKey:
    """What a view is computed for (``venue`` may be ``"aggregate"``)."""

    venue: str
    symbol: str
    lookback: str


@dataclass(frozen=True, slots=True)
class View:
    """Read-only model result for one key and one data version.

    Attributes
    ----------
    key : ViewKey
    version : str
        Data version of the source the view was computed from.
    venues : tuple of str
        Venues that were run (one, or every venue holding the symbol for ``"aggregate"``).
    bars : dict of str to Bars
        Windowed bars per venue.
    full_bars : dict of str to Bars
        All bars per venue as read (maps at an earlier time are run from these).
    maps : dict of str to LiqMap
        Final map per venue; ``final_map`` is their sum for ``"aggregate"``.
    hm_ts_ms : (F,) int64
        Heatmap frame times (at most ``MAX_FRAMES``).
    hm_bins_usd : (B,) float64
        Display price grid (at most ``MAX_PRICE_BINS`` centres).
    hm_long_usd, hm_short_usd : (F, B) float64
        Book per frame on the display grid, summed over venues.
    lookback_clamped : bool
        True when the data start later than the lookback asked for.
    realized : RealizedLiquidations or None
        Realized liquidations inside the window (all venues), if the source has any.
    """

    key: ViewKey
    version: str
    venues: tuple[str, ...]
    bars: dict
    full_bars: dict
    maps: dict
    final_map: LiqMap
    hm_ts_ms: np.ndarray
    hm_bins_usd: np.ndarray
    hm_long_usd: np.ndarray
    hm_short_usd: np.ndarray
    lookback_clamped: bool
    realized: RealizedLiquidations | None

    @property
    def price_bars(self) -> Bars:
        """Bars of the first venue (the price line shown with the heatmap)."""
        return self.bars[self.venues[0]]


def window_bars(bars: Bars, lookback: str, at_ms: int | None = None) -> tuple[Bars, bool]:
    """The bars of ``lookback`` ending with the bar open at ``at_ms`` (default: the last).

    Returns the window and whether it was clamped by the start of the data.
    """
    step = max(bars.bar_ms, 1)
    end = (int(bars.ts_ms[-1]) if at_ms is None else int(at_ms)) + step
    start = end - LOOKBACKS_MS[lookback]
    return bars.window(start, end), bool(start < int(bars.ts_ms[0]))


def venues_of(catalog, key: ViewKey) -> tuple[str, ...]:
    """Venues to run for ``key`` (every venue holding the symbol for ``"aggregate"``)."""
    if key.venue != AGGREGATE:
        return (key.venue,)
    venues = catalog.venues_for(key.symbol)
    if not venues:
        raise ConfigError(f"no venue holds {key.symbol!r}")
    return venues


def _read_consistent(source, key: ViewKey):
    """Bars per venue and the version they belong to (retried if the data change meanwhile)."""
    for _ in range(_CONSISTENT_READ_TRIES):
        before = source.catalog()
        venues = venues_of(before, key)
        bars = {v: source.bars(v, key.symbol) for v in venues}
        after = source.catalog()
        if after.version == before.version:
            return before, venues, bars
    raise RetryLaterError("the data changed during every read; the source is being "
                          "written very fast, retry in a moment")


def _model(venue: str) -> LiquidationModel:
    return LiquidationModel(venue=venue, frames=MAX_FRAMES)


def compute_view(source, key: ViewKey) -> View:
    """Run the model for ``key`` on the source's current data (blocking)."""
    catalog, venues, all_bars = _read_consistent(source, key)
    at = _common_at(key, all_bars, None)
    bars, ests, clamped = {}, {}, False
    for v in venues:
        bars[v], c = window_bars(all_bars[v], key.lookback, at)
        clamped |= c
        ests[v] = _model(v).run(bars[v])
    maps = _stamped({v: e.final_map for v, e in ests.items()}, at)
    final = maps[venues[0]] if key.venue != AGGREGATE else mapstats.aggregate(list(maps.values()))
    ts, grid, long_usd, short_usd = _display_heatmap([ests[v].heatmap for v in venues])
    first = bars[venues[0]]
    realized = _realized(source, venues, key.symbol, int(first.ts_ms[0]),
                         int(first.ts_ms[-1]) + max(first.bar_ms, 1))
    return View(key, catalog.version, tuple(venues), bars, all_bars, maps, final, ts, grid, long_usd,
                short_usd, clamped, realized)


def compute_map(view: View, at_ms: int) -> tuple[dict, LiqMap]:
    """The maps of ``view``'s key as they stood after the bar open at ``at_ms`` (blocking).

    Runs on the view's own bars, so the result belongs to the same data version as
    ``view``: each venue's map is the library's map at a time, the final map of
    ``LiquidationModel.run(bars, at_ms=at_ms)`` over the key's lookback (the CLI's
    ``map --at`` and ``Estimate.map_at`` take the same route). Returns the map per venue
    and the combined map (their sum for ``"aggregate"``).
    """
    maps = {}
    at_ms = _common_at(view.key, view.full_bars, at_ms)
    for v in view.venues:
        win, _ = window_bars(view.full_bars[v], view.key.lookback, at_ms)
        if len(win) < 2:
            raise ConfigError(f"at_ms {at_ms} leaves fewer than 2 bars of {v}; pick a later "
                              "time")
        maps[v] = _model(v).run(win, at_ms=at_ms).final_map
    maps = _stamped(maps, at_ms if view.key.venue == AGGREGATE and len(maps) > 1 else None)
    combined = (maps[view.venues[0]] if view.key.venue != AGGREGATE
                else mapstats.aggregate(list(maps.values())))
    return maps, combined


def _common_at(key: ViewKey, all_bars: dict, at_ms: int | None) -> int | None:
    """For an aggregate of several venues, the one instant all their maps are taken at
    (``liqmap.model.common_at_ms``: ``at_ms``, else the latest instant all venues cover)."""
    if key.venue != AGGREGATE or len(all_bars) < 2:
        return at_ms
    return common_at_ms(list(all_bars.values()), at_ms)


def _stamped(maps: dict, at_ms: int | None) -> dict:
    """Maps stamped with the common instant they stand at (None: left as they are)."""
    return maps if at_ms is None else {v: replace(m, ts_ms=at_ms) for v, m in maps.items()}


def _realized(source, venues, symbol, start_ms, end_ms) -> RealizedLiquidations | None:
    parts = [r for v in venues if (r := source.realized(v, symbol, start_ms, end_ms))]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    cat = {n: np.concatenate([getattr(p, n) for p in parts])
           for n in ("ts_ms", "side", "price", "qty_coin", "notional_usd")}
    order = np.argsort(cat["ts_ms"], kind="stable")
    return RealizedLiquidations(**{n: a[order] for n, a in cat.items()}, venue=AGGREGATE,
                                symbol=symbol, source="+".join(p.source for p in parts))


# ----------------------------------------------------------------- heatmap display grid


#: Share of the heatmap's notional left out at each end of the display grid (far tails of
#: low-leverage levels would otherwise stretch 200 rows over the whole price axis).
TAIL_SHARE = 0.001


def _occupied(hm) -> tuple[float, float]:
    """Price span holding all but ``TAIL_SHARE`` of the notional at each end, with the
    traded price range always included."""
    lo, hi = float(np.min(hm.price_low_usd)), float(np.max(hm.price_high_usd))
    mass = np.asarray(hm.long_usd).sum(axis=0) + np.asarray(hm.short_usd).sum(axis=0)
    if mass.sum() > 0:
        cdf = np.cumsum(mass) / mass.sum()
        i0 = int(np.searchsorted(cdf, TAIL_SHARE, side="left"))
        i1 = int(np.searchsorted(cdf, 1.0 - TAIL_SHARE, side="left"))
        bins = hm.price_bins_usd
        lo, hi = min(lo, float(bins[i0])), max(hi, float(bins[min(i1, bins.size - 1)]))
    return lo, hi


def display_grid(heatmaps) -> np.ndarray:
    """Evenly spaced bin centres over the occupied span, at most ``MAX_PRICE_BINS``."""
    spans = [_occupied(h) for h in heatmaps]
    lo, hi = min(s[0] for s in spans), max(s[1] for s in spans)
    native = max(h.bin_usd for h in heatmaps) or 1.0
    n = int(np.floor((hi - lo) / native + 1e-9)) + 1
    step = native * int(np.ceil(n / MAX_PRICE_BINS))
    m = int(np.floor((hi - lo) / step + 1e-9)) + 1
    return lo + step * np.arange(min(m, MAX_PRICE_BINS))


def split_matrix(src_usd: np.ndarray, dst_usd: np.ndarray) -> np.ndarray:
    """(P, B) weights that move values at ``src_usd`` onto ``dst_usd``.

    Same rule as :func:`liqmap.core.mapstats.rebin` (linear split between the two nearest
    destination centres) inside the grid; values more than half a step beyond either end
    of ``dst_usd`` are left out (weight 0) instead of piling up in the edge bins.
    """
    w = np.zeros((src_usd.size, dst_usd.size))
    rows = np.arange(src_usd.size)
    if dst_usd.size == 1:
        w[:, 0] = 1.0
        return w
    j = np.clip(np.searchsorted(dst_usd, src_usd, side="right") - 1, 0, dst_usd.size - 2)
    frac = np.clip((src_usd - dst_usd[j]) / (dst_usd[j + 1] - dst_usd[j]), 0.0, 1.0)
    np.add.at(w, (rows, j), 1.0 - frac)
    np.add.at(w, (rows, j + 1), frac)
    half = 0.5 * (dst_usd[1] - dst_usd[0])
    w[(src_usd < dst_usd[0] - half) | (src_usd > dst_usd[-1] + half)] = 0.0
    return w


def _display_heatmap(heatmaps):
    grid = display_grid(heatmaps)
    ts = np.asarray(heatmaps[0].ts_ms, dtype=np.int64)
    long_usd = np.zeros((ts.size, grid.size))
    short_usd = np.zeros((ts.size, grid.size))
    for h in heatmaps:
        w = split_matrix(np.asarray(h.price_bins_usd, float), grid)
        idx = np.searchsorted(h.ts_ms, ts, side="right") - 1
        ok = idx >= 0
        long_usd[ok] += h.long_usd[idx[ok]] @ w
        short_usd[ok] += h.short_usd[idx[ok]] @ w
    return ts, grid, long_usd, short_usd
