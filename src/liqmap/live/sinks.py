"""Where the live runner sends what happens: in memory, printed, or into a store.

A sink has four methods, called from the runner's event loop:

* ``warm(venue, bars)``: the warm-up bars of a venue (list of ``LiveBar``);
* ``bar(update, bar, model)``: one closed bar fed to the venue's ``IncrementalModel``;
* ``gap(event)``: a ``GapEvent`` after a reconnect or a skipped bar;
* ``liquidation(event)``: a realized ``LiveLiquidation``.

>>> sink = RecordingSink()
>>> sink.gap(GapEvent("binance", 0, 300_000, 2, "disconnect")); len(sink.gaps)
1
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from liqmap.live.records import BarUpdate, GapEvent
from liqmap.venues import LiveBar, LiveLiquidation, bars_from_live, realized_from_live

__all__ = ["RecordingSink", "StoreSink", "TeeSink"]


class RecordingSink:
    """Keeps everything in lists (``warm_bars``, ``updates``, ``bars``, ``gaps``,
    ``liquidations``); ``on_bar``/``on_gap`` callbacks are called as events arrive."""

    def __init__(self, on_bar: Callable[[BarUpdate], None] | None = None,
                 on_gap: Callable[[GapEvent], None] | None = None) -> None:
        self.warm_bars: dict[str, list[LiveBar]] = {}
        self.updates: list[BarUpdate] = []
        self.bars: list[LiveBar] = []
        self.gaps: list[GapEvent] = []
        self.liquidations: list[LiveLiquidation] = []
        self._on_bar, self._on_gap = on_bar, on_gap

    def warm(self, venue: str, bars: list[LiveBar]) -> None:
        self.warm_bars[venue] = list(bars)

    def bar(self, update: BarUpdate, bar: LiveBar, model: Any) -> None:
        self.updates.append(update)
        self.bars.append(bar)
        if self._on_bar is not None:
            self._on_bar(update)

    def gap(self, event: GapEvent) -> None:
        self.gaps.append(event)
        if self._on_gap is not None:
            self._on_gap(event)

    def liquidation(self, event: LiveLiquidation) -> None:
        self.liquidations.append(event)


class StoreSink:
    """Writes bars, predictions, realized liquidations and map snapshots through a
    ``liqmap.store.Store``.

    Each bar is one ``write_bars`` transaction, followed by one ``write_predictions``
    transaction with the bar's predicted liquidations per side (``BarUpdate``'s central
    preset, with the model's parameters: the running scorecard's input); liquidations are
    written with the next bar of their venue (``RealizedLiquidations`` has no lower-bound
    flag: Binance events are stored with ``(lower bound)`` in their source); a map
    snapshot is written every ``snapshot_every`` bars and with the last one.
    """

    def __init__(self, store: Any, *, params: dict | None = None,
                 snapshot_every: int = 12) -> None:
        self.store = store
        self.params = dict(params or {})
        self.snapshot_every = max(int(snapshot_every), 1)
        self._pending: dict[str, list[LiveLiquidation]] = {}
        self._count: dict[str, int] = {}
        self._bar_ms: dict[str, int] = {}
        self._last_ts: dict[str, int] = {}
        self.snapshots = 0

    def warm(self, venue: str, bars: list[LiveBar]) -> None:
        warm = bars_from_live(bars, source=f"live {venue} rest")
        self.store.write_bars(warm)
        if len(warm) >= 2:
            self._bar_ms[venue] = int(warm.bar_ms)
            self._last_ts[venue] = int(warm.ts_ms[-1])

    def bar(self, update: BarUpdate, bar: LiveBar, model: Any) -> None:
        self.store.write_bars(bars_from_live([bar], source=f"live {bar.venue} {bar.source}"))
        self._predict(update, bar, model)
        liq = self._pending.pop(bar.venue, [])
        if liq:
            self.store.write_realized(realized_from_live(
                liq, venue=bar.venue, symbol=bar.symbol,
                source=f"live {bar.venue} stream" + (" (lower bound)" if liq[0].lower_bound
                                                     else "")))
        n = self._count[bar.venue] = self._count.get(bar.venue, 0) + 1
        if n % self.snapshot_every == 0:
            self.snapshot(model)

    def _predict(self, update: BarUpdate, bar: LiveBar, model: Any) -> None:
        from liqmap.store import BarPrediction

        last = self._last_ts.get(bar.venue)
        self._last_ts[bar.venue] = int(bar.ts_ms)
        bar_ms = self._bar_ms.get(bar.venue) or (None if last is None else int(bar.ts_ms) - last)
        if not bar_ms:
            return  # no warm-up and no bar before: the bar length is not known yet
        self._bar_ms[bar.venue] = bar_ms
        self.store.write_predictions([BarPrediction(
            venue=update.venue, symbol=update.symbol, ts_ms=int(update.ts_ms), bar_ms=bar_ms,
            predicted_long_usd=float(update.predicted_long_usd),
            predicted_short_usd=float(update.predicted_short_usd),
            params={**self.params, **model.model.to_dict()})])

    def snapshot(self, model: Any) -> None:
        from liqmap.store import MapSnapshot

        m = model.current_map()
        self.store.write_snapshot(MapSnapshot(
            venue=m.venue, symbol=m.symbol, ts_ms=int(m.ts_ms), price_usd=float(m.price_usd),
            price_bins_usd=m.price_bins_usd, long_usd=m.long_usd, short_usd=m.short_usd,
            params={**self.params, **model.model.to_dict()}))
        self.snapshots += 1

    def gap(self, event: GapEvent) -> None:
        pass

    def liquidation(self, event: LiveLiquidation) -> None:
        self._pending.setdefault(event.venue, []).append(event)


class TeeSink:
    """Sends every event to several sinks, in order."""

    def __init__(self, *sinks: Any) -> None:
        self.sinks = sinks

    def warm(self, venue: str, bars: list[LiveBar]) -> None:
        for s in self.sinks:
            s.warm(venue, bars)

    def bar(self, update: BarUpdate, bar: LiveBar, model: Any) -> None:
        for s in self.sinks:
            s.bar(update, bar, model)

    def gap(self, event: GapEvent) -> None:
        for s in self.sinks:
            s.gap(event)

    def liquidation(self, event: LiveLiquidation) -> None:
        for s in self.sinks:
            s.liquidation(event)
