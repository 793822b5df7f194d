"""Hyperliquid perpetuals: websocket stream and REST backfill, parsed at the edge.

Symbols: ccxt's ``BTC/USDC:USDC`` is the coin ``BTC`` on the venue. Sizes, volume and open
interest are in coins; prices and margin are in USDC, taken as USD one for one.

Stream ``wss://api.hyperliquid.xyz/ws``. The client sends
``{"method": "subscribe", "subscription": {"type": "candle", "coin": "BTC", "interval":
"5m"}}`` and the same with ``{"type": "activeAssetCtx", "coin": "BTC"}``; every
``ping_every_s`` it sends ``{"method": "ping"}``, answered ``{"channel": "pong"}``
(Hyperliquid closes a socket silent for a minute). Server frames are
``{"channel": ..., "data": ...}``:

* ``subscriptionResponse``: the acknowledgement (no event);
* ``candle``: ``{t (open ms), T (close ms), s (coin), i (interval), o, c, h, l, v (base
  volume), n (trades)}``, prices and volume as strings. Hyperliquid pushes the **current,
  still open** candle again and again as trades arrive, each push the whole candle so far;
  there is no "closed" flag. A candle is closed when a push with a later ``t`` arrives: the
  last push of the previous ``t`` is then emitted as the closed bar (:class:`CandleCloser`).
  So a bar reaches the runner with the first trade of the next bar, and the open candle at
  a disconnect is never emitted from the stream (the gap fill fetches it over REST);
* ``activeAssetCtx``: ``{"coin", "ctx": {"openInterest" (coins), "funding" (per hour),
  "markPx", "oraclePx", ...}}`` as :class:`OiTick` and :class:`FundingTick` (funding x 8,
  per 8 h like every ``LiveBar``). The frames carry no time: ticks are stamped on arrival.

REST ``POST https://api.hyperliquid.xyz/info`` (JSON bodies): ``{"type": "candleSnapshot",
"req": {"coin", "interval", "startTime", "endTime"}}`` (the same candle dicts, at most 5000
per answer, the newest possibly still open), and ``{"type": "metaAndAssetCtxs"}``
(``[{"universe": [{"name": ...}]}, [ctx, ...]]``, contexts in universe order) for the
current open interest.

Hyperliquid publishes **no open-interest history**: bars fetched over REST have none. The
warm-up bars all get the current open interest (``seed_current_oi``; the warm-up then opens
no positions, they enter as the stream reports rises), and bars backfilled after a gap
carry the last streamed value forward (the runner's ``oi_carried``). Hyperliquid's public
trades carry **no liquidation flag**, so this stream emits no liquidation events.

>>> spec = symbol_spec("BTC/USDC:USDC")
>>> closer = CandleCloser(spec, 300_000)
>>> push = lambda t, c: {"channel": "candle", "data": {"t": t, "T": t + 299_999, "s": "BTC",
...     "i": "5m", "o": "90000", "c": c, "h": "90100", "l": "89900", "v": "1.5", "n": 9}}
>>> parse_message(push(0, "90010"), spec, closer), parse_message(push(0, "90050"), spec, closer)
([], [])
>>> [b.close for b in parse_message(push(300_000, "90060"), spec, closer)]
[90050.0]
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np

from liqmap._exceptions import ConfigError, DataError
from liqmap.timeutil import MS_PER_MINUTE
from liqmap.venues._shared.records import FundingTick, LiveBar, OiTick
from liqmap.venues._shared.rest import RestBars
from liqmap.venues._shared.spec import VenueSpec
from liqmap.venues._shared.ws import Connection, open_ws, post_json, timeframe_ms
from liqmap.venues.hyperliquid.spec import symbol_spec

__all__ = ["CandleCloser", "HL_REST", "HL_WS", "HyperliquidRest", "HyperliquidStream",
           "LIVE_CLIENTS", "hl_interval", "parse_candle", "parse_message", "subscribe_message"]

HL_WS = "wss://api.hyperliquid.xyz/ws"
HL_REST = "https://api.hyperliquid.xyz"
_CANDLE_PAGE = 5000
_INTERVALS = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "8h", "12h", "1d")
_FUNDING_TO_8H = 8.0  # Hyperliquid funds every hour


def hl_interval(bar_ms: int) -> str:
    """Hyperliquid candle interval of a bar length.

    >>> hl_interval(300_000), hl_interval(3_600_000)
    ('5m', '1h')
    """
    for name in _INTERVALS:
        if timeframe_ms(name) == bar_ms:
            return name
    raise ConfigError(f"Hyperliquid has no {bar_ms // MS_PER_MINUTE}-minute candles; use one of "
                      f"{', '.join(_INTERVALS)}")


def subscribe_message(subscription: dict) -> str:
    """The subscribe frame of one subscription (``{"type": "candle", ...}``)."""
    return json.dumps({"method": "subscribe", "subscription": subscription})


def _spec(symbol: str, spec: VenueSpec | None) -> VenueSpec:
    return spec or symbol_spec(symbol)


# ----------------------------------------------------------------------------- parsing


def parse_candle(d: dict, spec: VenueSpec, *, source: str = "stream") -> LiveBar:
    """One candle dict ``{t, T, s, i, o, c, h, l, v, n}`` as a bar (open or closed)."""
    try:
        o, c, h, lo, v = (float(d[k]) for k in ("o", "c", "h", "l", "v"))
        return LiveBar(ts_ms=int(d["t"]), open=o, high=h, low=lo, close=c, volume=v,
                       venue=spec.venue, symbol=spec.symbol, source=source)
    except (KeyError, TypeError, ValueError):
        raise DataError(f"Hyperliquid candle without numeric t/o/c/h/l/v: {d!r}",
                        source=f"hyperliquid {source}") from None


class CandleCloser:
    """Turns Hyperliquid's repeated pushes of the open candle into closed bars.

    :meth:`push` keeps the latest push of the current ``t`` and returns the previous
    candle (its last push) when one with a later ``t`` arrives; an older ``t`` (a late
    frame) is ignored. One closer per connection: a new socket starts without a candle.
    """

    def __init__(self, spec: VenueSpec, bar_ms: int) -> None:
        self.spec, self.bar_ms = spec, int(bar_ms)
        self.current: LiveBar | None = None

    def push(self, bar: LiveBar) -> LiveBar | None:
        """The candle closed by ``bar``, if any."""
        cur = self.current
        if cur is not None and bar.ts_ms < cur.ts_ms:
            return None
        self.current = bar
        return cur if cur is not None and bar.ts_ms > cur.ts_ms else None


def _ctx_events(data: dict, spec: VenueSpec, ts_ms: int) -> list:
    ctx = data.get("ctx") or {}
    out: list = []
    try:
        if ctx.get("openInterest") not in (None, ""):
            out.append(OiTick(ts_ms=ts_ms, open_interest=float(ctx["openInterest"])))
        if ctx.get("funding") not in (None, ""):
            out.append(FundingTick(ts_ms=ts_ms,
                                   funding_rate=float(ctx["funding"]) * _FUNDING_TO_8H))
    except (TypeError, ValueError):
        raise DataError(f"activeAssetCtx with a non-numeric openInterest/funding: {ctx!r}",
                        source="hyperliquid stream") from None
    return out


def parse_message(msg: Any, spec: VenueSpec, closer: CandleCloser, *,
                  now_ms: int | None = None) -> list:
    """Events of one decoded Hyperliquid frame (acks and pongs give none).

    ``candle`` frames of our coin and interval go through ``closer``; ``activeAssetCtx``
    frames give an :class:`OiTick` and a :class:`FundingTick` stamped ``now_ms`` (the
    arrival time; default the clock). An ``error`` frame raises.
    """
    if not isinstance(msg, dict):
        return []
    channel, data = msg.get("channel"), msg.get("data")
    if channel == "error":
        raise DataError(f"Hyperliquid refused a request: {data!r}; check the coin and the "
                        "interval", source="hyperliquid stream")
    if channel == "candle" and isinstance(data, dict) and data.get("s") == spec.venue_symbol:
        if data.get("i") not in (None, hl_interval(closer.bar_ms)):
            return []
        done = closer.push(parse_candle(data, spec))
        return [done] if done is not None else []
    if channel == "activeAssetCtx" and isinstance(data, dict) \
            and data.get("coin") == spec.venue_symbol:
        ts = int(time.time() * 1000) if now_ms is None else int(now_ms)
        return _ctx_events(data, spec, ts)
    return []


# ----------------------------------------------------------------------------- stream


class HyperliquidStream:
    """Hyperliquid websocket client for one perpetual (candles, open interest, funding).

    Parameters
    ----------
    symbol : str
        ccxt unified symbol (``"BTC/USDC:USDC"`` -> coin ``BTC``).
    timeframe : str
        Candle interval (``"1m"``, ``"5m"``, ``"1h"``).
    url : str, optional
        Websocket URL (default ``wss://api.hyperliquid.xyz/ws``).
    ping_every_s : float
        Keep-alive period (Hyperliquid drops sockets silent for 60 s).

    Examples
    --------
    >>> [json.loads(m)["subscription"]["type"] for m in HyperliquidStream().subscriptions]
    ['candle', 'activeAssetCtx']
    """

    venue = "hyperliquid"
    liquidations = False  # public trades carry no liquidation flag

    def __init__(self, symbol: str = "BTC/USDC:USDC", timeframe: str = "5m", *,
                 url: str | None = None, ping_every_s: float = 20.0,
                 spec: VenueSpec | None = None) -> None:
        self.spec = _spec(symbol, spec)
        self.bar_ms = timeframe_ms(timeframe)
        coin = self.spec.venue_symbol
        self.url = url or HL_WS
        self.subscriptions = [
            subscribe_message({"type": "candle", "coin": coin,
                               "interval": hl_interval(self.bar_ms)}),
            subscribe_message({"type": "activeAssetCtx", "coin": coin})]
        self.ping_every_s = ping_every_s
        self.has_oi_stream = True

    async def open(self) -> Connection:
        """Connect and subscribe; a fresh :class:`CandleCloser` per connection."""
        ws = await open_ws(self.url)
        closer = CandleCloser(self.spec, self.bar_ms)
        conn = Connection(ws, lambda msg: parse_message(msg, self.spec, closer),
                          ping=lambda: json.dumps({"method": "ping"}),
                          ping_every_s=self.ping_every_s)
        for frame in self.subscriptions:
            await conn.send(frame)
        return conn


# ----------------------------------------------------------------------------- REST


class HyperliquidRest(RestBars):
    """Hyperliquid ``/info`` backfill: ``candleSnapshot`` bars, current open interest.

    No open-interest history exists: :meth:`fetch_open_interest_history` returns nothing,
    the runner seeds the warm-up with :meth:`fetch_open_interest` (``seed_current_oi``)
    and carries the streamed value through gaps.

    Parameters
    ----------
    symbol, timeframe : str
        As for :class:`HyperliquidStream`.
    url : str, optional
        Base URL (default ``https://api.hyperliquid.xyz``); ``/info`` is appended.
    """

    venue = "hyperliquid"
    current_oi_fallback = False  # gap bars carry the streamed value, not today's
    seed_current_oi = True

    def __init__(self, symbol: str = "BTC/USDC:USDC", timeframe: str = "5m", *,
                 url: str | None = None, spec: VenueSpec | None = None) -> None:
        self.spec = _spec(symbol, spec)
        self.bar_ms = timeframe_ms(timeframe)
        self.interval = hl_interval(self.bar_ms)
        self.base_url = (url or HL_REST).rstrip("/")

    async def _info(self, client, body: dict) -> Any:
        return await post_json(client, f"{self.base_url}/info", body)

    async def fetch_ohlcv(self, client, since_ms: int, until_ms: int) -> list[LiveBar]:
        """Bars opening in ``[since_ms, until_ms]``, oldest first (pages of 5000 forward).

        The newest candle of an answer may still be open; the runner keeps only bars
        whose close has passed.
        """
        out: dict[int, LiveBar] = {}
        start = int(since_ms)
        while start <= until_ms:
            rows = await self._info(client, {"type": "candleSnapshot", "req": {
                "coin": self.spec.venue_symbol, "interval": self.interval,
                "startTime": start, "endTime": int(until_ms)}})
            if not isinstance(rows, list):
                raise DataError(f"Hyperliquid candleSnapshot answered {str(rows)[:200]!r}; "
                                "check the coin and the interval", source="hyperliquid rest")
            bars = [parse_candle(r, self.spec, source="rest") for r in rows]
            out.update((b.ts_ms, b) for b in bars if since_ms <= b.ts_ms <= until_ms)
            if len(rows) < _CANDLE_PAGE:
                break
            start = max(b.ts_ms for b in bars) + self.bar_ms
        return [out[k] for k in sorted(out)]

    async def fetch_open_interest_history(self, client, since_ms: int,
                                          until_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """Nothing: Hyperliquid publishes no open-interest history."""
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)

    async def fetch_open_interest(self, client) -> tuple[int, float]:
        """The current open interest ``(time_ms, coins)`` from ``metaAndAssetCtxs``
        (stamped with the local clock: the answer carries no time)."""
        r = await self._info(client, {"type": "metaAndAssetCtxs"})
        try:
            names = [u["name"] for u in r[0]["universe"]]
            ctx = r[1][names.index(self.spec.venue_symbol)]
            return int(time.time() * 1000), float(ctx["openInterest"])
        except (KeyError, IndexError, TypeError, ValueError):
            raise DataError(f"Hyperliquid metaAndAssetCtxs has no open interest for "
                            f"{self.spec.venue_symbol!r}; check the coin",
                            source="hyperliquid rest") from None


#: The clients ``liqmap live --venue hyperliquid`` builds: (stream, REST backfill).
LIVE_CLIENTS = (HyperliquidStream, HyperliquidRest)
