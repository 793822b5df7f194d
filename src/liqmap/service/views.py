"""Model runs behind the API: one immutable :class:`View` per (venue, symbol, lookback, warm-up,
data).

A view is computed once from one consistent read of the source (the catalog version is read
before and after the bars; a change in between means the read is retried), then never
modified: the service swaps whole views in and out of its cache, so a response is always
built from one view and never mixes two versions of the data.

Every run is the library's ``LiquidationModel.run(bars, lookback=, at_ms=, warmup=)``, as
the CLI's ``heatmap`` and ``map``: the engine runs over the warm-up before the lookback
(default ``liqmap.params.DEFAULT_WARMUP_MS``), the heatmap covers the lookback only, and
its first column holds the levels standing then.

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

from dataclasses import dataclass, field, replace

import numpy as np

from liqmap._exceptions import ConfigError, RetryLaterError
from liqmap.core import mapstats
from liqmap.core.bars import Bars
from liqmap.core.heatgrid import downsample_heat
from liqmap.core.realized import RealizedLiquidations
from liqmap.core.records import LiqMap
from liqmap.model import LOOKBACKS_MS as _MODEL_LOOKBACKS_MS
from liqmap.model import LiquidationModel, common_at_ms
from liqmap.timeutil import MS_PER_DAY

__all__ = ["AGGREGATE", "LOOKBACKS_MS", "MAX_FRAMES", "MAX_PRICE_BINS", "View", "ViewKey",
           "compute_brief", "compute_map", "compute_view", "window_bars"]

AGGREGATE = "aggregate"
MAX_FRAMES = 1000
MAX_PRICE_BINS = 200
#: The model's lookbacks plus 14d, ordered by length.
LOOKBACKS_MS = dict(sorted({**_MODEL_LOOKBACKS_MS, "14d": 14 * MS_PER_DAY}.items(),
                           key=lambda kv: kv[1]))
_CONSISTENT_READ_TRIES = 3


@dataclass(frozen=True, slots=True)
class ViewKey:
    """What a view is computed for (``venue`` may be ``"aggregate"``; ``warmup`` as the
    query gave it, None for the library's default; ``convention`` the model's counting,
    ``"liqmap"`` or ``"vendor"``; ``at_ms`` the bar open the view ends at, None: the last)."""

    venue: str
    symbol: str
    lookback: str
    warmup: str | None = None
    convention: str = "liqmap"
    at_ms: int | None = None


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
        Drawn bars per venue (the lookback; ``Estimate.drawn_bars``).
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
    warmup_bars : dict of str to int
        Bars each venue's engine ran before the drawn window (``Estimate.warmup_bars``).
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
    warmup_bars: dict = field(default_factory=dict)

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


def _model(venue: str, convention: str = "liqmap") -> LiquidationModel:
    return LiquidationModel(venue=venue, frames=MAX_FRAMES, convention=convention)


def compute_view(source, key: ViewKey) -> View:
    """Run the model for ``key`` on the source's current data (blocking)."""
    catalog, venues, all_bars = _read_consistent(source, key)
    at = _common_at(key, all_bars, key.at_ms)
    bars, ests, clamped = {}, {}, False
    for v in venues:
        clamped |= window_bars(all_bars[v], key.lookback, at)[1]
        ests[v] = _run(v, all_bars[v], key, at)
        bars[v] = ests[v].drawn_bars
    maps = _stamped({v: e.final_map for v, e in ests.items()},
                    at if key.venue == AGGREGATE and len(venues) > 1 else None)
    final = maps[venues[0]] if key.venue != AGGREGATE else mapstats.aggregate(list(maps.values()))
    ts, grid, long_usd, short_usd = _display_heatmap([ests[v].heatmap for v in venues])
    first = bars[venues[0]]
    realized = _realized(source, venues, key.symbol, int(first.ts_ms[0]),
                         int(first.ts_ms[-1]) + max(first.bar_ms, 1))
    return View(key, catalog.version, tuple(venues), bars, all_bars, maps, final, ts, grid, long_usd,
                short_usd, clamped, realized, {v: e.warmup_bars for v, e in ests.items()})


def _run(venue: str, bars: Bars, key: ViewKey, at_ms: int | None):
    """The library's run for ``key``: its lookback drawn, warmed up on the bars before."""
    return _model(venue, key.convention).run(bars, lookback=LOOKBACKS_MS[key.lookback],
                                             at_ms=at_ms, warmup=key.warmup)


def compute_map(view: View, at_ms: int) -> tuple[dict, LiqMap]:
    """The maps of ``view``'s key as they stood after the bar open at ``at_ms`` (blocking).

    Runs on the view's own bars, so the result belongs to the same data version as
    ``view``: each venue's map is the library's map at a time, the final map of
    ``LiquidationModel.run(bars, lookback=, at_ms=at_ms, warmup=)`` for the key's lookback
    and warm-up (the CLI's ``map --at`` takes the same route). Returns the map per venue
    and the combined map (their sum for ``"aggregate"``).
    """
    maps = {}
    at = _common_at(view.key, view.full_bars, at_ms)
    for v in view.venues:
        win, _ = window_bars(view.full_bars[v], view.key.lookback, at)
        if len(win) < 2:
            raise ConfigError(f"at_ms {at} leaves fewer than 2 bars of {v}; pick a later "
                              "time")
        maps[v] = _run(v, view.full_bars[v], view.key, at).final_map
    maps = _stamped(maps, at if view.key.venue == AGGREGATE and len(maps) > 1 else None)
    combined = (maps[view.venues[0]] if view.key.venue != AGGREGATE
                else mapstats.aggregate(list(maps.values())))
    return maps, combined


def compute_brief(source, key: ViewKey, lookback: str | None, at_ms: int | None,
                  scorecard_dir=None, store=None) -> tuple[str, dict]:
    """The brief of ``key``'s series (blocking): ``liqmap.studies.brief.brief_for`` on the
    source's bars, the CLI's ``liqmap brief`` (the same numbers). ``lookback`` counts only
    the positions opened within it before ``at_ms`` (None: all the history up to it, as
    the CLI); ``key.convention`` picks the model's counting. For ``"aggregate"`` over
    several venues, each venue's map is run to one common instant and their sum is read
    (``brief_of_map``). Returns the data version read and the brief."""
    from liqmap.studies.brief import brief_for, brief_of_map

    catalog, venues, all_bars = _read_consistent(source, key)
    run = {"lookback": lookback, "scorecard_dir": scorecard_dir, "store": store}
    if len(venues) == 1:
        v = venues[0]
        return catalog.version, brief_for(all_bars[v], model=_brief_model(v, key), at_ms=at_ms,
                                          **run)
    at = common_at_ms(list(all_bars.values()), at_ms)  # one instant for every venue
    ests = [_brief_model(v, key).run(all_bars[v], lookback=lookback, at_ms=at,
                                     warmup=None if lookback is None else "0")
            for v in venues]
    combined = mapstats.aggregate([replace(e.final_map, ts_ms=at) for e in ests])
    return catalog.version, brief_of_map(combined, model=_brief_model(venues[0], key),
                                         tiers="; ".join(e.tier_table for e in ests), **run)


def _brief_model(venue: str, key: ViewKey) -> LiquidationModel:
    """The brief's model: the product's default map (``liqmap brief``'s) for ``venue``."""
    return LiquidationModel(venue=venue, convention=key.convention)


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


def _display_heatmap(heatmaps):
    """Each venue's frames (the one at or before each frame time of the first venue) split
    onto the common display grid by the charts' rule (:func:`liqmap.core.heatgrid.
    downsample_heat`: notional per frame conserved inside the grid), summed over venues."""
    grid = display_grid(heatmaps)
    ts = np.asarray(heatmaps[0].ts_ms, dtype=np.int64)
    long_usd = np.zeros((ts.size, grid.size))
    short_usd = np.zeros((ts.size, grid.size))
    for h in heatmaps:
        idx = np.searchsorted(h.ts_ms, ts, side="right") - 1
        ok = idx >= 0
        _, _, (lo, sh) = downsample_heat(h.ts_ms, h.price_bins_usd, [h.long_usd, h.short_usd],
                                         frames=idx[ok], grid=grid)
        long_usd[ok] += lo
        short_usd[ok] += sh
    return ts, grid, long_usd, short_usd
