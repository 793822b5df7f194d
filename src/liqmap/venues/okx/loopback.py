"""Loopback OKX v5 server (tests, demos): the business (candles) and public
(liquidation orders, open interest) sockets and the ``/api/v5`` REST answers.

Built on :class:`liqmap.venues._shared.loopback.LoopbackServer` (drop, refuse, skip, stall).

>>> from liqmap.io.sample import load_sample                     # doctest: +SKIP
>>> with OkxLoopback(load_sample(), start=100, drop_after=5) as srv:  # doctest: +SKIP
...     srv.ws_url, srv.rest_url
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from liqmap.core.bars import Bars
from liqmap.timeutil import MS_PER_MINUTE
from liqmap.venues._shared.loopback import LoopbackServer
from liqmap.venues._shared.spec import VenueSpec
from liqmap.venues.okx.spec import symbol_spec

__all__ = ["OkxLoopback"]


class _PublicQueue(asyncio.Queue):
    """The frames waiting for one public socket; ``liquidations``: it subscribed to them."""

    def __init__(self, liquidations: bool) -> None:
        super().__init__()
        self.liquidations = liquidations


class OkxLoopback(LoopbackServer):
    """OKX v5 public: ``/ws/v5/business`` (``candle<bar>``) and ``/ws/v5/public``
    (``liquidation-orders``, ``open-interest``), both with the text ``ping``/``pong``
    keep-alive; ``/api/v5/market/history-candles``,
    ``/api/v5/rubik/stat/contracts/open-interest-history`` and
    ``/api/v5/public/open-interest``; ``recorded`` maps other REST paths to recorded answers
    served as they are. Sizes in contracts of ``ctVal`` (0.01 BTC, 0.1 ETH).

    ``liquidations`` are ``details[]`` entries (``{"side", "posSide", "sz", "bkPx", "ts",
    "bkLoss", "ccy"}``, ``sz`` in contracts), pushed on the public socket with the bar that
    contains their ``ts``, and served by ``/api/v5/public/liquidation-orders`` once their
    bar was streamed or skipped (so those of skipped bars exist only over REST). Bars stream
    on the business socket once a public socket has subscribed, so no liquidation of a
    streamed bar is missed. ``connections``,
    ``drop_after`` and ``skip`` count business connections only.
    """

    venue = "okx"
    symbol_param = "instId"

    def spec_for(self, symbol: str) -> VenueSpec:
        return symbol_spec(symbol)

    def __init__(self, bars: Bars, *, recorded: Mapping[str, Any] | None = None, **kw) -> None:
        super().__init__(bars, **kw)
        #: Recorded venue answers served verbatim by path (``/api/v5/public/position-tiers``,
        #: ``/api/v5/public/instruments``: what ccxt needs for ``fetch_market_leverage_tiers``).
        self.recorded = dict(recorded or {})
        self.pings = 0
        self.subscriptions: list[dict] = []
        self._public: list[_PublicQueue] = []
        self._public_ready: asyncio.Event | None = None

    @property
    def _ready_event(self) -> asyncio.Event:
        """Set while a public socket is connected (made by the first connection)."""
        if self._public_ready is None:
            raise RuntimeError("no connection handled yet")
        return self._public_ready

    @property
    def ws_url(self) -> str:
        return f"ws://{self.base}"

    def _contracts(self, qty_coin: float) -> str:
        return f"{qty_coin / self.spec.contract_size:.6f}"

    async def _subscribe(self, ws) -> dict:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if msg.get("op") != "subscribe":
            await ws.close(1008, "subscribe first")
            raise ConnectionError("no subscribe")
        for arg in msg["args"]:
            self.subscriptions.append(arg)
            await ws.send(json.dumps({"event": "subscribe", "arg": arg, "connId": "loopback"}))
        return msg

    async def _handler(self, ws) -> None:
        if self._public_ready is None:
            self._public_ready = asyncio.Event()
        if ws.request.path.startswith("/ws/v5/public"):
            await self._public_handler(ws)
        else:
            await super()._handler(ws)

    async def _public_handler(self, ws) -> None:
        try:
            msg = await self._subscribe(ws)
        except Exception:  # noqa: BLE001 - the client went away or misbehaved
            return
        queue = _PublicQueue(any(a.get("channel") == "liquidation-orders" for a in msg["args"]))
        self._public.append(queue)
        self._ready_event.set()
        consumer = asyncio.ensure_future(self._read(ws))
        try:
            while not consumer.done():
                getter = asyncio.ensure_future(queue.get())
                await asyncio.wait({getter, consumer}, return_when=asyncio.FIRST_COMPLETED)
                if not getter.done():
                    getter.cancel()
                    break
                await ws.send(getter.result())
        except Exception:  # noqa: BLE001 - the client went away
            return
        finally:
            consumer.cancel()
            self._public.remove(queue)
            if not self._public:
                self._ready_event.clear()  # a reconnect streams once public is back

    async def on_open(self, ws) -> None:
        try:
            await self._subscribe(ws)
            await asyncio.wait_for(self._ready_event.wait(), 10)
        except Exception:  # noqa: BLE001 - streaming to the closed socket then ends it
            return

    async def _read(self, ws) -> None:
        async for msg in ws:
            if msg == "ping":
                self.pings += 1
                await ws.send("pong")

    def _candle(self, i: int, confirm: bool) -> list[str]:
        b = self.bars
        vol = float(b.volume[i]) if b.volume is not None else 0.0
        return [str(int(b.ts_ms[i])), f"{b.open[i]}", f"{b.high[i]}", f"{b.low[i]}",
                f"{b.close[i]}", self._contracts(vol), f"{vol}", f"{vol * b.close[i]}",
                "1" if confirm else "0"]

    def _liqs_in(self, i: int) -> list[dict]:
        t0 = int(self.bars.ts_ms[i])
        return [e for e in self.liquidations if t0 <= int(e["ts"]) < t0 + self.bar_ms]

    async def flush(self) -> None:
        while any(not q.empty() for q in self._public):
            await asyncio.sleep(0.001)

    def bar_frames(self, i: int) -> list[str]:
        inst, t = self.spec.venue_symbol, int(self.bars.ts_ms[i])
        family = inst.rsplit("-", 1)[0]  # ETH-USDT-SWAP -> ETH-USDT
        liqs = []
        for d in self._liqs_in(i):
            liqs.append(json.dumps({"arg": {"channel": "liquidation-orders", "instType": "SWAP"},
                                    "data": [{"details": [d], "instFamily": family,
                                              "instId": inst, "instType": "SWAP",
                                              "uly": family}]}))
        oi = float(self.bars.open_interest[i])
        public = [json.dumps({"arg": {"channel": "open-interest", "instId": inst}, "data": [{
            "instId": inst, "instType": "SWAP", "oi": self._contracts(oi), "oiCcy": f"{oi}",
            "oiUsd": f"{oi * self.bars.close[i]}", "ts": str(t + self.bar_ms)}]})]
        for q in self._public:  # liquidations only to sockets that subscribed to them
            for frame in (liqs if q.liquidations else []) + public:
                q.put_nowait(frame)
        arg = {"channel": f"candle{self.bar_ms // MS_PER_MINUTE}m", "instId": inst}
        return [json.dumps({"arg": arg, "data": [self._candle(i, confirm)]})
                for confirm in (False, True)]

    def _oi_row(self, i: int) -> list[str]:
        b = self.bars
        oi = float(b.open_interest[i])
        return [str(int(b.ts_ms[i]) + self.bar_ms), self._contracts(oi), f"{oi}",
                f"{oi * b.close[i]}"]

    def _liquidation_orders(self, params: dict) -> dict:
        """``/api/v5/public/liquidation-orders``: details that already happened (before the
        close of the last bar streamed), newest first, older than ``after``, newer than
        ``before``, at most ``limit`` (100)."""
        family = self.spec.venue_symbol.rsplit("-", 1)[0]
        if params.get("instType") != "SWAP" or params.get("instFamily") != family \
                or params.get("state") != "filled":
            return {"code": "51000", "msg": "Parameter instFamily error", "data": []}
        i = min(max(self._next - 1, 0), len(self.bars) - 1)
        now = int(self.bars.ts_ms[i]) + self.bar_ms
        after, before = int(params.get("after", 2 ** 62)), int(params.get("before", -1))
        rows = sorted((d for d in self.liquidations
                       if before < int(d["ts"]) < min(after, now)),
                      key=lambda d: -int(d["ts"]))[:min(int(params.get("limit", 100)), 100)]
        inst = self.spec.venue_symbol
        return {"code": "0", "msg": "", "data": [{
            "details": rows, "instFamily": family, "instId": inst, "instType": "SWAP",
            "uly": family}] if rows else []}

    def rest(self, path: str, params: dict) -> Any:
        ok = lambda data: {"code": "0", "msg": "", "data": data}  # noqa: E731
        if path == "/api/v5/public/liquidation-orders":
            return self._liquidation_orders(params)
        if path in self.recorded and not (path == "/api/v5/public/open-interest"
                                          and "instId" in params):
            return self.recorded[path]  # a recorded open-interest answer: all instruments
        if params.get("instId") != self.spec.venue_symbol:
            return {"code": "51001", "msg": "Instrument ID does not exist", "data": []}
        lo, hi = int(params.get("before", params.get("begin", -1))), \
            int(params.get("after", params.get("end", 2 ** 62)))
        limit = int(params.get("limit", 100))
        if path == "/api/v5/market/history-candles":
            idx = self._rows(lo + 1, hi - 1, 10 ** 9)[::-1][:limit]
            return ok([self._candle(i, True) for i in idx])
        if path == "/api/v5/rubik/stat/contracts/open-interest-history":
            idx = self._rows(lo + 1 - self.bar_ms, hi - 1 - self.bar_ms, 10 ** 9)[::-1][:limit]
            return ok([self._oi_row(i) for i in idx])
        if path == "/api/v5/public/open-interest":
            row = self._oi_row(max(self._next - 1, 0))
            return ok([{"instId": self.spec.venue_symbol, "instType": "SWAP", "oi": row[1],
                        "oiCcy": row[2], "oiUsd": row[3], "ts": row[0]}])
        return None
