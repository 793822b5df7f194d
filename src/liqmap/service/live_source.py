"""Live mode inside the service: the runner's bars served from memory, pushed over SSE.

DuckDB allows one writing process, so ``liqmap live --db`` and ``liqmap serve --db`` cannot
share a file. ``liqmap serve --live`` runs the :class:`~liqmap.live.runner.LiveRunner` in
the server process instead:

- :class:`LiveSource` is a :class:`~liqmap.service.sources.DataSource` holding the bars
  (and realized liquidations) of each venue and symbol in memory. Writers build a new
  immutable :class:`_Snapshot` under a lock and swap it in with one assignment; readers
  take the current snapshot without locking, so they never see a half-appended state.
  The data version changes with every closed bar.
- :class:`LiveSink` is the runner's sink: it publishes the warm-up bars, each closed bar,
  and the liquidations received during a bar together with that bar.
- :class:`LiveFeed` runs the runner in a background thread with its own event loop;
  ``create_app(source, live=feed)`` starts it with the app and stops it at shutdown.

Bars are appended into growable column buffers and published as read-only views of the
filled part: an append writes past the end of every published view (or into a new
buffer), so a published ``Bars`` never changes.

>>> from liqmap.venues import LiveBar
>>> src = LiveSource()
>>> src.append([LiveBar(ts_ms=t, open=1.0, high=2.0, low=0.5, close=1.5, volume=1.0,
...                     open_interest=10.0) for t in (0, 300_000)])
>>> v1 = src.catalog().version
>>> src.append([LiveBar(ts_ms=600_000, open=1.5, high=2.0, low=1.0, close=1.8, volume=1.0,
...                     open_interest=11.0)])
>>> len(src.bars("binance", "BTC/USDT:USDT")), src.catalog().version != v1
(3, True)
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from liqmap._exceptions import ConfigError, RetryLaterError
from liqmap.core.bars import Bars
from liqmap.core.realized import RealizedLiquidations
from liqmap.live.records import BarUpdate, GapEvent
from liqmap.service.sources import Catalog, DataSource, Series, _digest
from liqmap.venues import LiveBar, LiveLiquidation, realized_from_live

__all__ = ["LiveFeed", "LiveSink", "LiveSource"]

_PRICE_COLS = ("open", "high", "low", "close", "open_interest", "volume")
_OPTIONAL_COLS = ("taker_buy_volume", "funding_rate")
_REALIZED_COLS = ("ts_ms", "side", "price", "qty_coin", "notional_usd")


class _Columns:
    """Append-only column buffers of one series (used under the source's lock only)."""

    def __init__(self, venue: str, symbol: str, keep_bars: int | None) -> None:
        self.venue, self.symbol, self.keep = venue, symbol, keep_bars
        self.n, self.start = 0, 0
        self.ts = np.empty(0, dtype=np.int64)
        self.cols = {c: np.empty(0) for c in _PRICE_COLS + _OPTIONAL_COLS}
        self.missing = dict.fromkeys(_OPTIONAL_COLS, 0)  # rows without the column

    def last_ts_ms(self) -> int | None:
        return int(self.ts[self.n - 1]) if self.n > self.start else None

    def extend(self, bars: Sequence[LiveBar]) -> int:
        """Append the bars newer than the last one held; return how many were appended."""
        last = self.last_ts_ms()
        new = [b for b in sorted(bars, key=lambda b: b.ts_ms)
               if last is None or b.ts_ms > last]
        new = [b for i, b in enumerate(new) if i == 0 or b.ts_ms > new[i - 1].ts_ms]
        if not new:
            return 0
        self._reserve(len(new))
        i0, i1 = self.n, self.n + len(new)
        self.ts[i0:i1] = [b.ts_ms for b in new]
        for c in _PRICE_COLS:
            self.cols[c][i0:i1] = [getattr(b, c) for b in new]
        for c in _OPTIONAL_COLS:
            vals = [getattr(b, c) for b in new]
            self.missing[c] += sum(v is None for v in vals)
            self.cols[c][i0:i1] = [np.nan if v is None else v for v in vals]
        self.n = i1
        if self.keep is not None and self.n - self.start > self.keep:
            self._drop_rows(self.n - self.keep)
        return len(new)

    def _reserve(self, k: int) -> None:
        if self.n + k <= len(self.ts):
            return
        held = self.n - self.start
        cap = max(2 * (held + k), 64)
        # a new buffer: views published earlier keep pointing at the old one
        self.ts = _grow(self.ts[self.start:self.n], cap)
        self.cols = {c: _grow(a[self.start:self.n], cap) for c, a in self.cols.items()}
        self.n, self.start = held, 0

    def _drop_rows(self, start: int) -> None:
        for c in _OPTIONAL_COLS:  # forget the missing rows that leave the window
            if self.missing[c]:
                self.missing[c] = int(np.isnan(self.cols[c][start:self.n]).sum())
        self.start = start

    def view(self, source: str) -> Bars:
        """The held rows as a read-only ``Bars`` (never written again)."""
        sl = slice(self.start, self.n)
        kw: dict[str, Any] = {c: _frozen(a[sl]) for c, a in self.cols.items()}
        for c in _OPTIONAL_COLS:
            if self.missing[c]:
                kw[c] = None  # like bars_from_live: a column is given only when complete
        return Bars(ts_ms=_frozen(self.ts[sl]), **kw, venue=self.venue, symbol=self.symbol,
                    source=source)


def _grow(arr: np.ndarray, cap: int) -> np.ndarray:
    out = np.empty(cap, dtype=arr.dtype)
    out[:len(arr)] = arr
    return out


def _frozen(arr: np.ndarray) -> np.ndarray:
    view = arr.view()
    view.flags.writeable = False
    return view


def _concat_realized(old: RealizedLiquidations | None,
                     new: RealizedLiquidations, keep: int | None) -> RealizedLiquidations:
    if old is not None:
        cols = {c: np.concatenate([getattr(old, c), getattr(new, c)]) for c in _REALIZED_COLS}
        order = np.argsort(cols["ts_ms"], kind="stable")
        new = RealizedLiquidations(**{c: a[order] for c, a in cols.items()}, venue=new.venue,
                                   symbol=new.symbol, source=new.source)
    if keep is not None and len(new) > keep:
        new = new.take(slice(len(new) - keep, len(new)))
    return new


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """One consistent state of a :class:`LiveSource` (replaced whole, never modified)."""

    catalog: Catalog
    bars: MappingProxyType
    realized: MappingProxyType
    failure: str | None = None


class LiveSource(DataSource):
    """Bars and realized liquidations held in memory, appended by a live runner.

    Parameters
    ----------
    name : str
        Shown by ``/api/v1/health`` as the source.
    keep_bars : int, optional
        Bars kept per series (the oldest are dropped beyond it); default all.
    keep_liquidations : int, optional
        Realized liquidation events kept per series (default 1,000,000).

    Examples
    --------
    >>> src = LiveSource(name="live:binance")
    >>> src.catalog().series
    ()
    >>> runner = LiveRunner(feeds, model, sink=src.sink())        # doctest: +SKIP
    """

    def __init__(self, name: str = "live", *, keep_bars: int | None = None,
                 keep_liquidations: int | None = 1_000_000) -> None:
        if keep_bars is not None and keep_bars < 2:
            raise ConfigError(f"keep_bars must be at least 2, got {keep_bars}")
        self.name = name
        self.keep_bars, self.keep_liquidations = keep_bars, keep_liquidations
        self.gaps: list[GapEvent] = []
        self.store: Any = None  # the store a StoreSink beside this source writes (serve --db)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._columns: dict[tuple[str, str], _Columns] = {}
        self._snap = _Snapshot(Catalog(name, _digest(("live", name)), ()),
                               MappingProxyType({}), MappingProxyType({}))

    # ------------------------------------------------------------------ DataSource
    def catalog(self) -> Catalog:
        snap = self._snap
        if snap.failure is not None and not snap.catalog.series:
            raise RetryLaterError(f"the live feed stopped before any bar arrived: "
                                  f"{snap.failure}")
        return snap.catalog

    def scorecard_store(self):
        return self.store

    def level_approaches(self, venue=None, symbol=None, start_ms=None):
        reader = getattr(self.store, "read_level_approaches", None)  # serve --live --db
        return None if reader is None else reader(venue, symbol, start_ms)

    def keeps_level_watch(self) -> bool:
        return hasattr(self.store, "read_level_approaches")

    def bars(self, venue: str, symbol: str) -> Bars:
        snap = self._snap
        found = snap.bars.get((venue, symbol))
        if found is None:
            held = [f"{v} {s}" for v, s in snap.bars] or ["nothing yet"]
            raise ConfigError(f"the live source holds no bars of {venue} {symbol}: it holds "
                              f"{', '.join(held)}; start it with that --venue and --symbol")
        return found

    def realized(self, venue: str, symbol: str, start_ms: int | None = None,
                 end_ms: int | None = None) -> RealizedLiquidations | None:
        found = self._snap.realized.get((venue, symbol))
        if found is None:
            return None
        found = found.window(start_ms, end_ms)
        return found if len(found) else None

    # ------------------------------------------------------------------ writing
    def append(self, bars: Sequence[LiveBar],
               liquidations: Sequence[LiveLiquidation] = ()) -> None:
        """Add closed bars (older or repeated ones are ignored) and liquidation events,
        then publish one new snapshot (a new version when any bar was added)."""
        with self._lock:
            snap = self._snap
            new_bars, new_liq = dict(snap.bars), dict(snap.realized)
            for key, group in _by_series(bars).items():
                cols = self._columns.get(key)
                if cols is None:
                    cols = self._columns[key] = _Columns(*key, self.keep_bars)
                if cols.extend(group):
                    new_bars[key] = cols.view(f"{self.name} {key[0]}")
            for key, group in _by_series(liquidations).items():
                rec = realized_from_live(group, venue=key[0], symbol=key[1],
                                         source=f"{self.name} {key[0]} stream" +
                                         (" (lower bound)" if group[0].lower_bound else ""))
                new_liq[key] = _concat_realized(new_liq.get(key), rec, self.keep_liquidations)
            self._publish(new_bars, new_liq, snap.failure)

    def fail(self, reason: str) -> None:
        """Mark the feed as stopped (the data held stay served; the name says so)."""
        with self._lock:
            snap = self._snap
            self._publish(dict(snap.bars), dict(snap.realized), str(reason))

    def wait_for_bars(self, timeout_s: float) -> bool:
        """Block until some series holds bars (or the feed failed); True when bars are held."""
        with self._changed:
            self._changed.wait_for(lambda: self._snap.catalog.series or self._snap.failure,
                                   timeout_s)
            return bool(self._snap.catalog.series)

    def sink(self) -> LiveSink:
        """A runner sink appending to this source."""
        return LiveSink(self)

    def _publish(self, bars: dict, realized: dict, failure: str | None) -> None:
        series = tuple(Series(v, s, int(b.ts_ms[0]), int(b.ts_ms[-1]), len(b))
                       for (v, s), b in sorted(bars.items()))
        liq = tuple((k, len(r), int(r.ts_ms[-1]) if len(r) else 0)
                    for k, r in sorted(realized.items()))
        name = self.name if failure is None else f"{self.name} (feed stopped: {failure})"
        catalog = Catalog(name, _digest(("live", self.name, series, liq)), series)
        self._snap = _Snapshot(catalog, MappingProxyType(bars), MappingProxyType(realized),
                               failure)  # one assignment: readers see old or new, whole
        self._changed.notify_all()


def _by_series(records: Sequence[Any]) -> dict[tuple[str, str], list]:
    out: dict[tuple[str, str], list] = {}
    for r in records:
        out.setdefault((r.venue, r.symbol), []).append(r)
    return out


class LiveSink:
    """The runner's sink for a :class:`LiveSource` (called from the runner's thread).

    Liquidations wait for the next closed bar of their venue and symbol and are published
    with it, so the data version changes once per closed bar.
    """

    def __init__(self, source: LiveSource) -> None:
        self.source = source
        self._pending: dict[tuple[str, str], list[LiveLiquidation]] = {}

    def warm(self, venue: str, bars: list[LiveBar]) -> None:
        self.source.append(bars)

    def bar(self, update: BarUpdate, bar: LiveBar, model: Any) -> None:
        liq = self._pending.pop((bar.venue, bar.symbol), [])
        self.source.append([bar], liq)

    def gap(self, event: GapEvent) -> None:
        self.source.gaps.append(event)

    def liquidation(self, event: LiveLiquidation) -> None:
        self._pending.setdefault((event.venue, event.symbol), []).append(event)


class LiveFeed:
    """Run a :class:`~liqmap.live.runner.LiveRunner` in a background thread.

    Parameters
    ----------
    runner : LiveRunner
        Built with a sink that feeds ``source`` (``source.sink()``, or a ``TeeSink``).
    source : LiveSource, optional
        Told when the runner stops with an error (:meth:`LiveSource.fail`).
    on_exit : callable, optional
        Called in the runner's thread after it stopped (e.g. close a store it wrote).

    Examples
    --------
    >>> feed = LiveFeed(runner, source)                           # doctest: +SKIP
    >>> app = create_app(source, live=feed)  # started/stopped with the app  # doctest: +SKIP
    """

    def __init__(self, runner: Any, source: LiveSource | None = None, *,
                 on_exit: Callable[[], None] | None = None) -> None:
        self.runner, self.source, self.on_exit = runner, source, on_exit
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="liqmap-live", daemon=True)

    @property
    def running(self) -> bool:
        """True while the runner's thread is alive."""
        return self._thread.is_alive()

    def start(self) -> None:
        """Start the runner's thread (returns at once)."""
        self._thread.start()

    def wait(self, timeout_s: float) -> bool:
        """Wait for the runner to end by itself (``max_bars``); True when it has."""
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask the runner to stop, cancel its loop and wait for the thread."""
        if not self._thread.is_alive():
            return
        self.runner.stop()
        self._ready.wait(timeout_s)
        loop, task = self._loop, self._task
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(task.cancel)
        self._thread.join(timeout_s)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # noqa: BLE001 - reported through the source
            self.error = exc
            if self.source is not None:
                self.source.fail(f"{type(exc).__name__}: {exc}")
        finally:
            self._ready.set()
            if self.on_exit is not None:
                self.on_exit()

    async def _main(self) -> None:
        self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()
        self._ready.set()
        await self.runner.run()
