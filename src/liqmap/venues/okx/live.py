"""OKX v5 public streams and REST backfill (USDT perpetual swaps), parsed at the edge.

OKX sizes are **contracts**: one BTC-USDT-SWAP contract is ``ctVal`` = 0.01 BTC, so every
size and open-interest figure goes through :meth:`VenueSpec.to_base` (contracts x ctVal).

Streams (two sockets; each subscribed with ``{"op": "subscribe", "args": [{"channel": ...,
"instId": ...}]}`` and kept alive with the text frame ``ping``, answered ``pong``; OKX
drops a socket silent for 30 s):

* ``wss://ws.okx.com:8443/ws/v5/business``, ``candle<bar>`` (``candle5m``): ``data`` rows
  ``[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]``; a bar is emitted only when
  ``confirm`` is ``"1"`` (closed). ``vol`` is in contracts.
* ``wss://ws.okx.com:8443/ws/v5/public``, ``liquidation-orders`` (``instType`` SWAP, all
  swaps, filtered to ours): ``data[].details[]`` with ``side`` the *order* side (``sell``
  closes a long: +1; ``buy`` a short: -1), ``sz`` in contracts, ``bkPx`` the bankruptcy
  price, ``ts``. OKX shows at most one order per contract per second, so events are
  marked ``lower_bound=True``.
* same socket, ``open-interest``: ``data[]`` of ``{oi (contracts), oiCcy, ts}`` as
  :class:`OiTick`. The two sockets are not ordered relative to each other, so by default
  a bar's open interest comes from REST at its close (``oi_from_stream=True`` uses the
  latest tick instead).

REST (``https://www.okx.com``): ``/api/v5/market/history-candles``, open interest from
``/api/v5/rubik/stat/contracts/open-interest-history`` (``[ts, oi, oiCcy, oiUsd]``, 5m/1H/1D
periods) and, for the newest bar, ``/api/v5/public/open-interest``. Pages are newest first
between exclusive ``after`` / ``before`` (candles) or ``begin`` / ``end`` bounds.

Liquidations lost while a socket was down come back over REST:
``/api/v5/public/liquidation-orders?instType=SWAP&instFamily=BTC-USDT&state=filled``
answers the same ``data[].details[]`` as the stream, newest first, at most 100 details a
page, paged back in time with ``after`` (details older than that ``ts``). OKX keeps only a
short recent window of them (days, not months), so a gap older than that stays a hole.
The runner calls :meth:`OkxRest.fetch_liquidations` when it fills a gap.

>>> spec = symbol_spec("BTC/USDT:USDT")
>>> msg = {"arg": {"channel": "liquidation-orders", "instType": "SWAP"}, "data": [{
...     "instId": "BTC-USDT-SWAP", "instType": "SWAP", "details": [{"side": "sell",
...     "posSide": "long", "sz": "250", "bkPx": "90000", "ts": "1764547201000"}]}]}
>>> ev = parse_message(msg, spec)[0]
>>> ev.side, ev.qty_coin
(1, 2.5)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import numpy as np

from liqmap._exceptions import ConfigError, DataError
from liqmap.timeutil import MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE
from liqmap.venues._shared.records import LiveBar, LiveLiquidation, OiTick
from liqmap.venues._shared.rest import RestBars
from liqmap.venues._shared.spec import VenueSpec
from liqmap.venues._shared.ws import StreamClosed, get_json, open_ws, timeframe_ms
from liqmap.venues.okx.spec import symbol_spec

__all__ = ["LIVE_CLIENTS", "OKX_REST", "OKX_WS", "OkxConnection", "OkxRest", "OkxStream",
           "okx_bar", "parse_message", "subscribe_message"]

OKX_WS = "wss://ws.okx.com:8443"
OKX_REST = "https://www.okx.com"
_OI_PERIODS = {5 * MS_PER_MINUTE: "5m", MS_PER_HOUR: "1H", MS_PER_DAY: "1D"}
_PAGE = 100


def okx_bar(bar_ms: int) -> str:
    """OKX bar name of a bar length: ``5m``, ``1H``, ``6Hutc``, ``1Dutc`` (UTC-aligned).

    >>> okx_bar(300_000), okx_bar(3_600_000), okx_bar(86_400_000)
    ('5m', '1H', '1Dutc')
    """
    if bar_ms % MS_PER_DAY == 0:
        return f"{bar_ms // MS_PER_DAY}Dutc"
    if bar_ms % MS_PER_HOUR == 0:
        hours = bar_ms // MS_PER_HOUR
        return f"{hours}H" + ("utc" if hours >= 6 else "")
    return f"{bar_ms // MS_PER_MINUTE}m"


def subscribe_message(args: list[dict]) -> str:
    """The subscribe frame for ``args`` (``[{"channel": ..., "instId": ...}]``)."""
    return json.dumps({"op": "subscribe", "args": args})


# ----------------------------------------------------------------------------- parsing


def parse_candle(row: list, spec: VenueSpec, *, source: str = "stream") -> LiveBar | None:
    """One candle row ``[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]``; None
    while the bar is open (``confirm`` "0")."""
    if len(row) < 9:
        raise DataError(f"OKX candle row has {len(row)} fields, expected 9: {row!r}",
                        source=f"okx {source}")
    if str(row[8]) != "1":
        return None
    try:
        o, h, lo, c, vol = (float(x) for x in row[1:6])
        return LiveBar(ts_ms=int(row[0]), open=o, high=h, low=lo, close=c,
                       volume=spec.to_base(vol, c), venue=spec.venue, symbol=spec.symbol,
                       source=source)
    except (TypeError, ValueError):
        raise DataError(f"OKX candle without numeric ts/o/h/l/c/vol: {row!r}",
                        source=f"okx {source}") from None


def parse_liquidation(d: dict, spec: VenueSpec) -> LiveLiquidation:
    """One ``details[]`` entry: order side ``sell`` = a long liquidated (+1)."""
    side = {"sell": 1, "buy": -1}.get(d.get("side", ""))
    if side is None:
        raise DataError(f"liquidation-orders side {d.get('side')!r} is neither sell nor buy",
                        source="okx stream")
    try:
        price, qty = float(d["bkPx"]), float(d["sz"])
        ts = int(d["ts"])
    except (KeyError, TypeError, ValueError):
        raise DataError(f"liquidation-orders detail without numeric bkPx/sz/ts: {d!r}",
                        source="okx stream") from None
    base = spec.to_base(qty, price)
    usd = qty * spec.contract_size if spec.inverse else base * price
    return LiveLiquidation(ts_ms=ts, side=side, price=price, qty_coin=base,
                           notional_usd=usd, venue=spec.venue, symbol=spec.symbol,
                           lower_bound=True)


def parse_message(msg: Any, spec: VenueSpec) -> list:
    """Events of one decoded OKX message (acks give none; an ``error`` event raises)."""
    if not isinstance(msg, dict):
        return []
    if msg.get("event") == "error":
        raise DataError(f"OKX refused a subscription: code {msg.get('code')} "
                        f"{msg.get('msg')!r}; check the symbol and the channel",
                        source="okx stream")
    arg, data = msg.get("arg") or {}, msg.get("data")
    channel = arg.get("channel", "")
    if data is None or "event" in msg:
        return []
    if channel.startswith("candle") and arg.get("instId") == spec.venue_symbol:
        bars = (parse_candle(r, spec) for r in data)
        return [b for b in bars if b is not None]
    if channel == "liquidation-orders":
        return [parse_liquidation(d, spec) for item in data
                if item.get("instId") == spec.venue_symbol for d in item.get("details", [])]
    if channel == "open-interest":
        return [OiTick(ts_ms=int(d["ts"]), open_interest=spec.to_base(float(d["oi"]), 1.0))
                for d in data if d.get("instId") == spec.venue_symbol]
    return []


# ----------------------------------------------------------------------------- stream


class OkxConnection:
    """The business (candles) and public (liquidations, open interest) sockets as one.

    ``next_events`` returns the parsed events of whichever socket speaks first; ``ping``
    text frames go to both every ``ping_every_s``. A business socket silent for
    ``stall_s`` while the public one still talks counts as a stall.
    """

    def __init__(self, business: Any, public: Any, spec: VenueSpec, *,
                 ping_every_s: float = 20.0, stall_s: float = 120.0) -> None:
        self._socks = {"business": business, "public": public}
        self._spec, self._stall_s = spec, float(stall_s)
        self._recv: dict[asyncio.Future, str] = {}
        self._loop = asyncio.get_running_loop()
        self._business_at = self._loop.time()
        self._pinger = asyncio.create_task(self._ping_loop(ping_every_s))

    async def _ping_loop(self, every_s: float) -> None:
        try:
            while True:
                await asyncio.sleep(every_s)
                for ws in self._socks.values():
                    await ws.send("ping")
        except Exception:  # noqa: BLE001 - the receive side reports the broken socket
            return

    async def send(self, which: str, text: str) -> None:
        """Send a text frame on the ``business`` or ``public`` socket."""
        await self._socks[which].send(text)

    async def next_events(self) -> list:
        """Wait for the next message on either socket; its parsed events."""
        from websockets.exceptions import ConnectionClosed

        for name, ws in self._socks.items():
            if name not in self._recv.values():
                self._recv[asyncio.ensure_future(ws.recv())] = name
        done, _ = await asyncio.wait(self._recv, return_when=asyncio.FIRST_COMPLETED)
        # liquidations and OI of a bar before the candle that closes it, when both are in
        task = next((t for t in done if self._recv[t] == "public"), next(iter(done)))
        name = self._recv.pop(task)
        try:
            raw = task.result()
        except ConnectionClosed as exc:
            raise StreamClosed(f"okx {name} connection closed ({exc})") from None
        except OSError as exc:
            raise StreamClosed(f"okx {name} connection lost ({exc})") from None
        now = self._loop.time()
        if name == "business":
            self._business_at = now
        elif now - self._business_at > self._stall_s:
            raise StreamClosed(f"okx: no candle message for {self._stall_s:g} s (stall)")
        return [] if raw == "pong" else parse_message(json.loads(raw), self._spec)

    async def close(self) -> None:
        """Close both sockets (without waiting long for a server that vanished)."""
        self._pinger.cancel()
        for task in self._recv:
            task.cancel()
        self._recv.clear()
        for ws in self._socks.values():
            # closing a dead socket may fail in any way
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 0.25)
            transport = getattr(ws, "transport", None)
            if transport is not None and not transport.is_closing():
                transport.abort()


def _linear(spec: VenueSpec) -> VenueSpec:
    if spec.inverse:
        raise ConfigError("the OKX live client covers USDT swaps; use a symbol like "
                          "'BTC/USDT:USDT'")
    return spec


class OkxStream:
    """OKX v5 public websocket client for one USDT swap (candles, liquidations, OI).

    Parameters
    ----------
    symbol : str
        ccxt unified symbol (``"BTC/USDT:USDT"`` -> ``BTC-USDT-SWAP``).
    timeframe : str
        Candle interval (``"1m"``, ``"5m"``, ``"1h"``).
    url : str, optional
        Websocket base URL (default ``wss://ws.okx.com:8443``); ``/ws/v5/business`` and
        ``/ws/v5/public`` are appended.
    oi_from_stream : bool
        Attach the latest ``open-interest`` tick to each bar instead of REST at its close.
    spec : VenueSpec, optional
        Contract rules (``spec_from_ccxt_market`` for a ctVal not built in).

    Examples
    --------
    >>> OkxStream().public_args[0]
    {'channel': 'liquidation-orders', 'instType': 'SWAP'}
    """

    venue = "okx"

    def __init__(self, symbol: str = "BTC/USDT:USDT", timeframe: str = "5m", *,
                 url: str | None = None, liquidations: bool = True,
                 oi_from_stream: bool = False, ping_every_s: float = 20.0,
                 stall_s: float = 120.0, spec: VenueSpec | None = None) -> None:
        self.spec = _linear(spec or symbol_spec(symbol))
        self.bar_ms = timeframe_ms(timeframe)
        self.base_url = (url or OKX_WS).rstrip("/")
        inst = self.spec.venue_symbol
        self.business_args = [{"channel": f"candle{okx_bar(self.bar_ms)}", "instId": inst}]
        self.public_args = ([{"channel": "liquidation-orders", "instType": "SWAP"}]
                            if liquidations else [])
        self.public_args += [{"channel": "open-interest", "instId": inst}]
        self.ping_every_s, self.stall_s = ping_every_s, stall_s
        self.has_oi_stream = bool(oi_from_stream)
        self.liquidations = bool(liquidations)  # the runner backfills them only if streamed

    async def open(self) -> OkxConnection:
        """Connect both sockets and subscribe (public first, so no event is missed)."""
        public = await open_ws(f"{self.base_url}/ws/v5/public")
        try:
            business = await open_ws(f"{self.base_url}/ws/v5/business")
        except StreamClosed:
            await public.close()
            raise
        conn = OkxConnection(business, public, self.spec, ping_every_s=self.ping_every_s,
                             stall_s=self.stall_s)
        await conn.send("public", subscribe_message(self.public_args))
        await conn.send("business", subscribe_message(self.business_args))
        return conn


# ----------------------------------------------------------------------------- REST


class OkxRest(RestBars):
    """OKX v5 REST backfill: history candles and open interest, in base coin.

    Parameters
    ----------
    symbol, timeframe : str
        As for :class:`OkxStream`; open-interest history exists for 5m, 1h and 1d.
    url : str, optional
        Base URL (default ``https://www.okx.com``).
    """

    venue = "okx"
    #: Details per ``liquidation-orders`` page (OKX's maximum is 100).
    liq_page = 100

    def __init__(self, symbol: str = "BTC/USDT:USDT", timeframe: str = "5m", *,
                 url: str | None = None, spec: VenueSpec | None = None) -> None:
        self.spec = _linear(spec or symbol_spec(symbol))
        self.bar_ms = timeframe_ms(timeframe)
        if self.bar_ms not in _OI_PERIODS:
            raise ConfigError(f"OKX open-interest history has no {timeframe} period; use "
                              "5m, 1h or 1d")
        self.base_url = (url or OKX_REST).rstrip("/")

    async def _get(self, client, path: str, params: dict, *, inst_id: bool = True) -> list:
        query = {"instId": self.spec.venue_symbol, **params} if inst_id else dict(params)
        r = await get_json(client, f"{self.base_url}{path}", query)
        if str(r.get("code")) != "0":
            raise DataError(f"OKX {path}: code {r.get('code')} {r.get('msg')!r}; check the "
                            "symbol and the REST base URL", source="okx rest")
        return r.get("data") or []

    async def fetch_ohlcv(self, client, since_ms: int, until_ms: int) -> list[LiveBar]:
        """Closed bars opening in ``[since_ms, until_ms]`` (newest-first pages of 100)."""
        out: dict[int, LiveBar] = {}
        after = int(until_ms) + 1
        while after > since_ms:
            rows = await self._get(client, "/api/v5/market/history-candles", {
                "bar": okx_bar(self.bar_ms), "after": after, "before": int(since_ms) - 1,
                "limit": _PAGE})
            for r in rows:
                bar = parse_candle(r, self.spec, source="rest")
                if bar is not None and since_ms <= bar.ts_ms <= until_ms:
                    out[bar.ts_ms] = bar
            if len(rows) < _PAGE:
                break
            after = min(int(r[0]) for r in rows)
        return [out[k] for k in sorted(out)]

    async def fetch_open_interest_history(self, client, since_ms: int,
                                          until_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """OI snapshots ``(ts_ms, base)`` stamped in ``[since_ms, until_ms]`` (paged)."""
        got: dict[int, float] = {}
        end = int(until_ms) + 1
        while end > since_ms:
            rows = await self._get(client, "/api/v5/rubik/stat/contracts/open-interest-history",
                                   {"period": _OI_PERIODS[self.bar_ms], "begin": int(since_ms) - 1,
                                    "end": end, "limit": _PAGE})
            for r in rows:
                got[int(r[0])] = self.spec.to_base(float(r[1]), 1.0)
            if len(rows) < _PAGE:
                break
            end = min(int(r[0]) for r in rows)
        ts = sorted(got)
        return np.array(ts, dtype=np.int64), np.array([got[t] for t in ts], dtype=np.float64)

    async def fetch_open_interest(self, client) -> tuple[int, float]:
        """The current open interest ``(time_ms, base)``."""
        rows = await self._get(client, "/api/v5/public/open-interest", {"instType": "SWAP"})
        if not rows:
            raise DataError("OKX /api/v5/public/open-interest returned no row",
                            source="okx rest")
        return int(rows[0]["ts"]), self.spec.to_base(float(rows[0]["oi"]), 1.0)

    async def fetch_liquidations(self, client, since_ms: int,
                                 until_ms: int) -> list[LiveLiquidation]:
        """Filled liquidation orders of this swap stamped in ``[since_ms, until_ms]``, oldest
        first, in base coin (``ccxt.fetch_liquidations`` in spirit).

        Pages of ``liq_page`` details are read back in time from ``until_ms`` with ``after``
        until a page is short or older than ``since_ms`` (``after`` is exclusive, so an
        event sharing a full page's oldest millisecond may be missed). Only OKX's recent
        window is available; older events are simply not returned.

        Examples
        --------
        >>> rest = OkxRest()                                           # doctest: +SKIP
        >>> await rest.fetch_liquidations(client, t0, t1)              # doctest: +SKIP
        """
        family = self.spec.venue_symbol.rsplit("-", 1)[0]  # BTC-USDT-SWAP -> BTC-USDT
        params = {"instType": "SWAP", "instFamily": family, "state": "filled",
                  "limit": self.liq_page}
        out: list[LiveLiquidation] = []
        after = int(until_ms) + 1
        while after > since_ms:
            rows = await self._get(client, "/api/v5/public/liquidation-orders",
                                   {**params, "after": after}, inst_id=False)
            details = [d for item in rows if item.get("instId") == self.spec.venue_symbol
                       for d in item.get("details", [])]
            evs = [parse_liquidation(d, self.spec) for d in details]
            out += [e for e in evs if since_ms <= e.ts_ms <= until_ms]
            if len(details) < self.liq_page or not evs:
                break
            after = min(e.ts_ms for e in evs)
        return sorted(out, key=lambda e: e.ts_ms)


#: The clients ``liqmap live --venue okx`` builds: (stream, REST backfill).
LIVE_CLIENTS = (OkxStream, OkxRest)
