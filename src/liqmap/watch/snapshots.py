"""Map snapshots saved over time through the ``Store`` interface, and their replay.

``record_snapshots`` runs the model once over the bars and saves the map about every
``every_ms`` (the heatmap frames, see :mod:`liqmap.watch.frames`) as
:class:`liqmap.store.MapSnapshot` records; ``replay`` reads them back, oldest first,
as maps (:class:`liqmap.core.records.LiqMap`) ready for a :class:`liqmap.watch.Watcher`.

>>> from liqmap.store import DuckDBStore                           # doctest: +SKIP
>>> store = DuckDBStore("maps.duckdb")                             # doctest: +SKIP
>>> record_snapshots(LiquidationModel(), load_sample(), 3_600_000, store)  # doctest: +SKIP
>>> [s.ts_ms for s in replay(store, "binance", "BTC/USDT:USDT")][:2]  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from liqmap._exceptions import ConfigError
from liqmap.core.bars import Bars
from liqmap.core.records import LiqMap
from liqmap.model import LiquidationModel
from liqmap.store import MapSnapshot
from liqmap.watch.frames import FrameMaps

__all__ = ["every_bars", "record_snapshots", "replay", "snapshot_to_map", "watch_bars"]


def every_bars(every_ms: int, bar_ms: int) -> int:
    """Bars per snapshot for a period ``every_ms`` (at least 1)."""
    if not every_ms > 0:
        raise ConfigError(f"every_ms must be > 0, got {every_ms!r}")
    return max(1, int(round(every_ms / max(bar_ms, 1))))


def record_snapshots(model: LiquidationModel, bars: Bars, every_ms: int, store) -> int:
    """Save the model's map about every ``every_ms`` into ``store``; return snapshots written.

    Parameters
    ----------
    model : LiquidationModel
    bars : Bars
    every_ms : int
        Period between snapshots, ms (rounded to whole bars).
    store : Store
        Anything with ``write_snapshot(MapSnapshot)`` (``liqmap.store.DuckDBStore``).
    """
    fm = FrameMaps.build(model, bars, every_bars(every_ms, bars.bar_ms))
    params = model.to_dict()
    n = 0
    for i in range(len(fm)):
        m = fm.map(i)
        n += store.write_snapshot(MapSnapshot(
            venue=bars.venue, symbol=bars.symbol, ts_ms=int(m.ts_ms), price_usd=m.price_usd,
            price_bins_usd=np.asarray(m.price_bins_usd), long_usd=np.asarray(m.long_usd),
            short_usd=np.asarray(m.short_usd), params=params))
    return n


def snapshot_to_map(snap: MapSnapshot) -> LiqMap:
    """A stored snapshot as a map."""
    return LiqMap(ts_ms=int(snap.ts_ms), price_usd=float(snap.price_usd),
                  price_bins_usd=np.asarray(snap.price_bins_usd, float),
                  long_usd=np.asarray(snap.long_usd, float),
                  short_usd=np.asarray(snap.short_usd, float),
                  venue=snap.venue, symbol=snap.symbol)


def replay(store, venue: str, symbol: str, start_ms: int | None = None,
           end_ms: int | None = None) -> Iterator[MapSnapshot]:
    """Snapshots with ``start_ms <= ts_ms < end_ms``, oldest first."""
    snaps = store.read_snapshots(venue, symbol, start_ms, end_ms)
    yield from sorted(snaps, key=lambda s: s.ts_ms)


def watch_bars(model: LiquidationModel, bars: Bars, watcher, every: int = 12,
               start_ms: int | None = None) -> Iterator:
    """Replay ``bars`` through ``watcher`` bar by bar; yield each alert as it fires.

    The model runs once (a map about every ``every`` bars). At each bar the watcher gets
    the bar's close and the clusters of the latest map read at or before that bar (so
    only bars up to it are used); clusters are computed once per map.

    Parameters
    ----------
    model : LiquidationModel
    bars : Bars
    watcher : Watcher
    every : int
        Bars between maps.
    start_ms : int, optional
        Only feed bars opening at or after this time (earlier bars still build the book).
    """
    from liqmap.watch.alerts import map_clusters

    fm = FrameMaps.build(model, bars, every)
    first = 0 if start_ms is None else int(np.searchsorted(bars.ts_ms, start_ms))
    cached: tuple[int, list] = (-1, [])
    for t in range(max(first, int(fm.bar_idx[0])), len(bars)):
        ts = int(bars.ts_ms[t])
        i = fm.index_at(ts)
        if i != cached[0]:
            cached = (i, map_clusters(fm.map(i)))
        yield from watcher.update(ts, float(bars.close[t]), cached[1],
                                  map_ts_ms=int(fm.ts_ms[i]))
