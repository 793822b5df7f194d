"""The live runner: backfill over REST, stream, survive drops, one model per venue.

Per venue, :class:`LiveRunner` runs this loop (``asyncio``, all venues concurrently):

1. **warm-up**: the last ``warm_bars`` closed bars over REST (klines + open interest),
   fed to a fresh :class:`~liqmap.live.engine.IncrementalModel` built with the venue's
   own liquidation rules (``LiquidationModel(venue=spec.rules)``);
2. **stream**: closed bars only (Binance ``k.x``, Bybit ``confirm``); open interest from
   the stream where the venue has one (Bybit ``tickers``), else polled over REST at each
   bar close (Binance); the latest funding rate is attached; liquidation events go to
   the sink (Binance ones marked ``lower_bound``);
3. **reconnect** with exponential backoff (``Backoff``) when the socket drops, when no
   message arrives for ``stall_s`` seconds, or when the venue rate-limits (its
   ``Retry-After`` is honoured);
4. **gap fill**: the first bar after a reconnect (or any bar that skips ahead) is compared
   with the last bar seen; the missing bars are fetched over REST and fed to the model in
   order *before* the new bar, and a :class:`~liqmap.live.records.GapEvent` is recorded.
   Bars already seen are dropped, so the model sees every bar once, in order.

Open interest missing for a backfilled bar (venue published none) carries the previous
value forward (no new positions, no shrink in that bar); ``oi_carried`` counts them. A venue
with no open-interest history at all (Hyperliquid: its REST client sets
``seed_current_oi``) starts from its current open interest on every warm-up bar, so the
warm-up opens no positions; they enter as the stream reports rises.

Liquidations during a gap are fetched too where the venue publishes a liquidation history
(its REST client has ``fetch_liquidations``: OKX), from the open of the last bar seen to the
close of the bar that ended the gap, and only those the socket did not already deliver are
sent (matched on time, side, price and size; ``GapEvent.liquidations_backfilled``). Binance
and Bybit publish none: their gap's liquidations are lost.

>>> r = Backoff(initial_s=0.5, factor=2.0, max_s=4.0)
>>> [r.delay(i) for i in range(5)]
[0.5, 1.0, 2.0, 4.0, 4.0]
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from liqmap._exceptions import ConfigError, DataError, RetryLaterError
from liqmap.core.records import LiqMap
from liqmap.live.engine import IncrementalModel
from liqmap.live.records import BarUpdate, GapEvent
from liqmap.live.sinks import RecordingSink
from liqmap.model import LiquidationModel
from liqmap.venues import (
    FundingTick,
    LiveBar,
    LiveLiquidation,
    OiTick,
    RateLimited,
    StreamClosed,
    bars_from_live,
    listed_symbol,
    live_clients,
)

__all__ = ["Backoff", "LiveRunner", "VenueFeed", "venue_feeds"]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential reconnect delay: ``initial_s * factor ** attempt``, capped at ``max_s``."""

    initial_s: float = 1.0
    factor: float = 2.0
    max_s: float = 60.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before reconnect attempt ``attempt`` (0-based)."""
        return float(min(self.initial_s * self.factor ** attempt, self.max_s))


@dataclass(frozen=True, slots=True)
class VenueFeed:
    """A venue's stream client and REST client (same symbol and timeframe)."""

    stream: Any
    rest: Any

    @property
    def venue(self) -> str:
        """ccxt venue id."""
        return self.stream.venue


def venue_feeds(venues: Sequence[str], symbol: str, timeframe: str, *,
                ws_urls: Sequence[str] | None = None,
                rest_urls: Sequence[str] | None = None) -> list[VenueFeed]:
    """One :class:`VenueFeed` per venue, with the clients of :func:`liqmap.venues.live_clients`.

    Each venue streams the symbol it lists for ``symbol`` (Hyperliquid: ``BASE/USDC:USDC``);
    ``ws_urls`` / ``rest_urls``, when given, hold one base URL per venue, in order (a mirror
    or a loopback server).

    Examples
    --------
    >>> [f.venue for f in venue_feeds(["binance", "bybit"], "BTC/USDT:USDT", "5m")]
    ['binance', 'bybit']
    """
    for name, urls in (("--ws-url", ws_urls), ("--rest-url", rest_urls)):
        if urls and len(urls) != len(venues):
            raise ConfigError(f"give one {name} per --venue ({len(venues)}), in the same order")
    if len(set(venues)) != len(venues):
        raise ConfigError("each --venue once")
    feeds = []
    for i, v in enumerate(venues):
        stream, rest = live_clients(v)
        sym = listed_symbol(v, symbol)
        feeds.append(VenueFeed(stream(sym, timeframe, url=ws_urls[i] if ws_urls else None),
                               rest(sym, timeframe, url=rest_urls[i] if rest_urls else None)))
    return feeds


def _liq_key(ev: LiveLiquidation) -> tuple:
    return (int(ev.ts_ms), int(ev.side), float(ev.price), float(ev.qty_coin))


@dataclass
class _LiqLedger:
    """Liquidations sent to the sink, to de-duplicate a REST backfill against the socket.

    Multisets keyed on ``(ts_ms, side, price, qty_coin)``: two identical events stay two.
    ``rest_unmatched`` holds backfilled events the socket may still deliver late.
    """

    sent: Counter = field(default_factory=Counter)
    rest_unmatched: Counter = field(default_factory=Counter)

    def from_stream(self, ev: LiveLiquidation) -> bool:
        """True if ``ev`` is new (not already sent from REST)."""
        k = _liq_key(ev)
        if self.rest_unmatched[k] > 0:
            self.rest_unmatched[k] -= 1
            return False
        self.sent[k] += 1
        return True

    def from_rest(self, events: Sequence[LiveLiquidation]) -> list[LiveLiquidation]:
        """The events of a REST page not sent yet (as many copies as REST has more)."""
        seen: Counter = Counter()
        new = []
        for ev in events:
            k = _liq_key(ev)
            seen[k] += 1
            if seen[k] > self.sent[k]:
                new.append(ev)
        for ev in new:
            self.sent[_liq_key(ev)] += 1
            self.rest_unmatched[_liq_key(ev)] += 1
        return new

    def prune(self, min_ts_ms: int) -> None:
        """Forget events older than ``min_ts_ms`` (no later gap window reaches them)."""
        for c in (self.sent, self.rest_unmatched):
            for k in [k for k in c if k[0] < min_ts_ms or c[k] <= 0]:
                del c[k]


@dataclass
class _VenueState:
    feed: VenueFeed
    model: IncrementalModel | None = None
    last_ts_ms: int | None = None
    last_oi: float = float("nan")
    oi_tick: OiTick | None = None
    funding: float | None = None
    pending: str | None = None
    emitted: int = 0
    oi_carried: int = 0
    done: bool = False
    bars: list = field(default_factory=list)
    liqs: _LiqLedger = field(default_factory=_LiqLedger)

    @property
    def backfills_liquidations(self) -> bool:
        """The venue publishes a liquidation history and the stream carries liquidations."""
        return (hasattr(self.feed.rest, "fetch_liquidations")
                and getattr(self.feed.stream, "liquidations", True))


class LiveRunner:
    """Backfill, then stream closed bars into one incremental model per venue.

    Parameters
    ----------
    venues : sequence of VenueFeed
        One feed per venue (e.g. ``VenueFeed(BinanceStream(...), BinanceRest(...))``).
    model : LiquidationModel
        Shared parameters; each venue's copy gets ``venue=`` its own liquidation rules.
    warm_bars : int
        Closed bars fetched over REST before streaming.
    max_bars : int, optional
        Stop once every venue emitted this many bars after the warm-up (streamed or
        backfilled); None runs until :meth:`stop`.
    backoff : Backoff
        Reconnect delays.
    stall_s : float
        No message for this long counts as a dead connection.
    sink : object, optional
        Receives ``warm(venue, bars)``, ``bar(update, bar, model)``, ``gap(event)``,
        ``liquidation(event)``; default a :class:`~liqmap.live.sinks.RecordingSink`.
    clock_ms : callable, optional
        Current time in Unix ms (wall clock by default; tests pass a fixed one).
    reference_price_usd : float, optional
        Passed to each ``IncrementalModel`` (default its warm-up median close).
    http_client : callable, optional
        Factory of the ``httpx.AsyncClient`` used for REST.
    """

    def __init__(self, venues: Sequence[VenueFeed], model: LiquidationModel, *,
                 warm_bars: int = 288, max_bars: int | None = None,
                 backoff: Backoff = Backoff(), stall_s: float = 120.0, sink: Any = None,
                 clock_ms: Callable[[], int] | None = None,
                 reference_price_usd: float | None = None,
                 http_client: Callable[[], Any] | None = None) -> None:
        if not venues:
            raise DataError("LiveRunner needs at least one venue feed", source="live")
        if warm_bars < 2:
            raise DataError("warm_bars must be >= 2", source="live")
        self.model = model
        self.warm_bars, self.max_bars = int(warm_bars), max_bars
        self.backoff, self.stall_s = backoff, float(stall_s)
        self.sink = sink if sink is not None else RecordingSink()
        self.clock_ms = clock_ms or (lambda: int(time.time() * 1000))
        self.reference_price_usd = reference_price_usd
        self._http = http_client or _default_client
        self._states = {f.venue: _VenueState(f) for f in venues}

    # ------------------------------------------------------------------ public
    @property
    def models(self) -> dict[str, IncrementalModel]:
        """The incremental model of each venue (after the warm-up)."""
        return {v: s.model for v, s in self._states.items() if s.model is not None}

    def bars(self, venue: str) -> list[LiveBar]:
        """Every bar fed to ``venue``'s model, in order (warm-up, streamed, backfilled)."""
        return list(self._states[venue].bars)

    def oi_carried(self, venue: str) -> int:
        """Bars whose open interest was carried forward (none published)."""
        return self._states[venue].oi_carried

    def aggregate_map(self) -> LiqMap:
        """Sum of the venues' current maps (each estimated with its own venue rules).

        The maps must stand after the same bar: while a venue is a bar ahead of another,
        ``RetryLaterError`` names each venue's last bar (retry once the others close it).
        """
        from liqmap.core import mapstats

        maps = {v: m.current_map() for v, m in self.models.items()}
        if len({int(m.ts_ms) for m in maps.values()}) > 1:
            bars = ", ".join(f"{v} {int(m.ts_ms)}" for v, m in maps.items())
            raise RetryLaterError(f"the venues are at different bars ({bars}, Unix ms): the "
                                  "aggregate needs every venue's map after one bar; retry "
                                  "when the others have closed it")
        each = list(maps.values())
        return each[0] if len(each) == 1 else mapstats.aggregate(each)

    def stop(self) -> None:
        """Ask every venue loop to finish after its current message."""
        for st in self._states.values():
            st.done = True

    async def run(self) -> None:
        """Run every venue until ``max_bars`` or :meth:`stop`."""
        async with self._http() as client:
            await asyncio.gather(*(self._venue(st, client) for st in self._states.values()))

    def run_sync(self) -> None:
        """:meth:`run` in a fresh event loop."""
        asyncio.run(self.run())

    # ------------------------------------------------------------------ venue loop
    async def _venue(self, st: _VenueState, client) -> None:
        await self._warm(st, client)
        attempt = 0
        while not st.done:
            try:
                conn = await st.feed.stream.open()
            except StreamClosed as exc:
                st.pending = _add_reason(st.pending, exc)
                await asyncio.sleep(self._delay(exc, attempt))
                attempt += 1
                continue
            try:
                attempt = await self._consume(st, client, conn, attempt)
            except StreamClosed as exc:
                st.pending = _add_reason(st.pending, exc)
                await asyncio.sleep(self._delay(exc, attempt))
                attempt += 1
            finally:
                await conn.close()

    async def _consume(self, st: _VenueState, client, conn, attempt: int) -> int:
        while not st.done:
            try:
                events = await asyncio.wait_for(conn.next_events(), self.stall_s)
            except TimeoutError:
                raise StreamClosed(f"{st.feed.venue}: no message for {self.stall_s:g} s "
                                   "(stall)") from None
            for ev in events:
                attempt = 0
                await self._on_event(st, client, ev)
                if st.done:
                    break
        return attempt

    def _delay(self, exc: Exception, attempt: int) -> float:
        d = self.backoff.delay(attempt)
        if isinstance(exc, RateLimited) and exc.retry_after_s:
            d = max(d, float(exc.retry_after_s))
        return d

    async def _on_event(self, st: _VenueState, client, ev) -> None:
        if isinstance(ev, LiveBar):
            await self._on_bar(st, client, ev)
        elif isinstance(ev, LiveLiquidation):
            self._on_liquidation(st, ev)
        elif isinstance(ev, OiTick):
            st.oi_tick = ev
        elif isinstance(ev, FundingTick):
            st.funding = ev.funding_rate

    def _on_liquidation(self, st: _VenueState, ev: LiveLiquidation) -> None:
        if not st.backfills_liquidations:
            self.sink.liquidation(ev)
            return
        if st.liqs.from_stream(ev):
            self.sink.liquidation(ev)
        if len(st.liqs.sent) > 512:
            st.liqs.prune(st.last_ts_ms - st.feed.rest.bar_ms)

    async def _gap_liquidations(self, st: _VenueState, client, from_ms: int,
                                to_ms: int) -> list[LiveLiquidation]:
        """Liquidations of the gap the socket did not deliver (venues with a history)."""
        if not st.backfills_liquidations:
            return []
        bar_ms = st.feed.rest.bar_ms
        # from the open of the last bar seen to the close of the bar that ended the gap
        got = await self._rest(st.feed.rest.fetch_liquidations, client, from_ms - bar_ms,
                               to_ms + 2 * bar_ms - 1)
        return st.liqs.from_rest(sorted(got, key=lambda e: e.ts_ms))

    # ------------------------------------------------------------------ bars
    async def _warm(self, st: _VenueState, client) -> None:
        rest = st.feed.rest
        now = int(self.clock_ms())
        last_open = (now // rest.bar_ms) * rest.bar_ms - rest.bar_ms  # last closed bar
        bars = await self._rest(rest.fetch_bars, client,
                                last_open - (self.warm_bars - 1) * rest.bar_ms, last_open)
        bars = [b for b in bars if b.close_ms(rest.bar_ms) <= now]
        bars = self._fill_oi(st, await self._seed_oi(st, client, bars))
        if len(bars) < 2:
            raise DataError(f"{st.feed.venue}: the REST warm-up returned {len(bars)} closed "
                            "bars; check the symbol, the timeframe and the REST URL",
                            source=f"live {st.feed.venue}")
        model = replace(self.model, venue=rest.spec.rules)
        st.model = IncrementalModel(model, bars_from_live(bars, source=f"live {st.feed.venue}"),
                                    reference_price_usd=self.reference_price_usd)
        st.bars += bars
        st.last_ts_ms = bars[-1].ts_ms
        self.sink.warm(st.feed.venue, bars)

    async def _on_bar(self, st: _VenueState, client, bar: LiveBar) -> None:
        bar_ms = st.feed.rest.bar_ms
        last = st.last_ts_ms
        if last is None:
            raise RuntimeError(f"live {st.feed.venue}: a streamed bar before the warm-up")
        if bar.ts_ms <= last:
            return  # a resumed stream repeating a bar we have
        if bar.ts_ms > last + bar_ms or st.pending is not None:
            await self._fill_gap(st, client, bar.ts_ms - bar_ms, st.pending or "sequence")
        if st.done:
            return
        bar = await self._attach(st, client, bar)
        self._feed(st, bar)

    async def _fill_gap(self, st: _VenueState, client, to_ms: int, reason: str) -> None:
        bar_ms = st.feed.rest.bar_ms
        from_ms = st.last_ts_ms + bar_ms
        got = []
        if to_ms >= from_ms:
            got = await self._rest(st.feed.rest.fetch_bars, client, from_ms, to_ms)
            got = self._fill_oi(st, [b for b in got if from_ms <= b.ts_ms <= to_ms])
        liqs = await self._gap_liquidations(st, client, from_ms, to_ms)
        st.pending = None
        self.sink.gap(GapEvent(venue=st.feed.venue, from_ms=from_ms, to_ms=to_ms,
                               bars_backfilled=len(got), reason=reason,
                               liquidations_backfilled=len(liqs)))
        for ev in liqs:
            self.sink.liquidation(ev)
        for b in got:
            if not st.done:
                self._feed(st, b)

    async def _attach(self, st: _VenueState, client, bar: LiveBar) -> LiveBar:
        rest = st.feed.rest
        if st.feed.stream.has_oi_stream and st.oi_tick is not None:
            bar = bar.with_oi(st.oi_tick.open_interest)
        elif not np.isfinite(bar.open_interest):
            bar = (await self._rest(rest.attach_oi, client, [bar]))[0]
        if st.funding is not None:
            bar = bar.with_oi(bar.open_interest, st.funding)
        return self._fill_oi(st, [bar])[0]

    async def _seed_oi(self, st: _VenueState, client, bars: list[LiveBar]) -> list[LiveBar]:
        """Warm-up bars of a venue with no OI history: all get the current open interest."""
        rest = st.feed.rest
        if not bars or not getattr(rest, "seed_current_oi", False) \
                or any(np.isfinite(b.open_interest) for b in bars):
            return bars
        _, oi_now = await self._rest(rest.fetch_open_interest, client)
        st.oi_carried += len(bars)
        return [b.with_oi(oi_now) for b in bars]

    def _fill_oi(self, st: _VenueState, bars: list[LiveBar]) -> list[LiveBar]:
        out = []
        last = st.last_oi
        for b in bars:
            if not np.isfinite(b.open_interest):
                if not np.isfinite(last):
                    continue  # nothing to carry yet: the bar cannot be used
                b = b.with_oi(last)
                st.oi_carried += 1
            last = b.open_interest
            out.append(b)
        st.last_oi = last
        return out

    def _feed(self, st: _VenueState, bar: LiveBar) -> None:
        model = st.model
        if model is None:
            raise RuntimeError(f"live {st.feed.venue}: a bar fed before the warm-up")
        update: BarUpdate = model.update(bar)
        st.bars.append(bar)
        st.last_ts_ms = bar.ts_ms
        st.emitted += 1
        self.sink.bar(update, bar, model)
        if self.max_bars is not None and st.emitted >= self.max_bars:
            st.done = True

    async def _rest(self, fn, client, *args, tries: int = 5):
        for attempt in range(tries):
            try:
                return await fn(client, *args)
            except StreamClosed as exc:
                if attempt == tries - 1:
                    raise
                await asyncio.sleep(self._delay(exc, attempt))
        raise AssertionError("unreachable")  # pragma: no cover


def _add_reason(pending: str | None, exc: Exception) -> str:
    """Causes since the last good bar, in order, each once (``"stall+rate-limit"``)."""
    if isinstance(exc, RateLimited):
        why = "rate-limit"
    else:
        why = "stall" if "(stall)" in str(exc) else "disconnect"
    seen = pending.split("+") if pending else []
    return "+".join(seen + ([why] if why not in seen else []))


def _default_client():
    import httpx

    return httpx.AsyncClient(timeout=10.0)
