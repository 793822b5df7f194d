"""Loopback venue servers speaking Binance's, Bybit's and OKX's wire formats (tests, demos);
Hyperliquid's is in :mod:`liqmap.live.loopback_hyperliquid`.

One ``websockets`` server on ``127.0.0.1`` answers both the websocket (klines,
liquidations, tickers) and the REST paths used for backfill (plain HTTP GETs are answered
from ``process_request``; Hyperliquid's REST is JSON POSTs, answered by a second, plain
HTTP server on its own port). It replays a ``Bars`` series as closed bars and can misbehave
on purpose, like a real venue:

* ``drop_after``: after streaming that many bars on the first connection, the TCP
  connection is aborted (no close frame);
* ``refuse``: the next that many connection attempts get HTTP 503;
* ``skip``: the next connection resumes that many bars later (those bars are only
  available over REST);
* ``stall``: instead of dropping, the first connection goes silent (stays open);
* ``refuse_status``: 503 by default, 429 to act as a rate limit (``Retry-After: 0``).

>>> from liqmap.io.sample import load_sample                     # doctest: +SKIP
>>> with BinanceLoopback(load_sample(), start=100, drop_after=5) as srv:  # doctest: +SKIP
...     srv.ws_url, srv.rest_url
"""

from __future__ import annotations

import asyncio
import json
import threading
from http import HTTPStatus
from typing import Any, Sequence
from urllib.parse import parse_qs, urlsplit

import numpy as np

from liqmap.bars import Bars
from liqmap.live.units import venue_spec
from liqmap.timeutil import MS_PER_MINUTE

__all__ = ["BinanceLoopback", "BybitLoopback", "OkxLoopback"]


class _Loopback:
    """Threaded server; subclasses give the venue's frames and REST answers."""

    venue = ""

    def __init__(self, bars: Bars, *, start: int, drop_after: int | None = None,
                 refuse: int = 0, skip: int = 0, liquidations: Sequence[dict] = (),
                 bar_delay_s: float = 0.0, stall: bool = False,
                 refuse_status: int = 503) -> None:
        self.bars = bars
        self.bar_ms = bars.bar_ms
        self.spec = venue_spec(self.venue, bars.symbol)
        self.start, self.drop_after, self.refuse, self.skip = start, drop_after, refuse, skip
        self.liquidations = list(liquidations)
        self.bar_delay_s = bar_delay_s
        self.stall, self.refuse_status = stall, refuse_status
        self.connections = 0
        self.refused = 0
        self.dropped = False
        self.streamed: list[int] = []
        self._next = start
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.port = 0

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> "_Loopback":
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("loopback server did not start")
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._stop.set_result, None)
        self._thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        from websockets.asyncio.server import serve

        self._stop = self._loop.create_future()
        server = await serve(self._handler, "127.0.0.1", 0, process_request=self._http,
                             ping_interval=None, close_timeout=0.2)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop
        server.close()
        try:
            await asyncio.wait_for(server.wait_closed(), 1.0)
        except asyncio.TimeoutError:
            pass

    @property
    def base(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def rest_url(self) -> str:
        return f"http://{self.base}"

    # ------------------------------------------------------------------ HTTP side
    def _http(self, connection, request):
        parts = urlsplit(request.path)
        if request.headers.get("Upgrade", "").lower() == "websocket":
            if self.dropped and self.refused < self.refuse:
                self.refused += 1
                resp = connection.respond(HTTPStatus(self.refuse_status), "try later\n")
                resp.headers["Retry-After"] = "0"
                return resp
            return None
        params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        body = self.rest(parts.path, params)
        if body is None:
            return connection.respond(HTTPStatus.NOT_FOUND, "unknown path\n")
        resp = connection.respond(HTTPStatus.OK, json.dumps(body))
        resp.headers["Content-Type"] = "application/json"
        return resp

    def _rows(self, lo_ms: int, hi_ms: int, limit: int) -> np.ndarray:
        ts = self.bars.ts_ms
        idx = np.flatnonzero((ts >= lo_ms) & (ts <= hi_ms))
        return idx[:limit]

    # ------------------------------------------------------------------ websocket side
    async def _handler(self, ws) -> None:
        self.connections += 1
        first = self.connections == 1
        if not first and self.dropped and self.skip:
            self._next += self.skip  # the bars in between exist only over REST
            self.skip = 0
        await self.on_open(ws)
        sent = 0
        consumer = asyncio.ensure_future(self._read(ws))
        try:
            while self._next < len(self.bars):
                i = self._next
                frames = self.bar_frames(i)
                await self.flush()
                for frame in frames:
                    await ws.send(frame)
                self.streamed.append(int(self.bars.ts_ms[i]))
                self._next += 1
                sent += 1
                await asyncio.sleep(self.bar_delay_s)
                if first and self.drop_after is not None and sent >= self.drop_after:
                    self.dropped = True
                    if self.stall:  # stay connected, send nothing more
                        await consumer
                        return
                    ws.transport.abort()  # no close frame: a dead TCP connection
                    return
            await consumer
        except Exception:  # noqa: BLE001 - the client went away
            return
        finally:
            consumer.cancel()

    async def _read(self, ws) -> None:
        async for msg in ws:
            reply = self.on_message(json.loads(msg))
            if reply is not None:
                await ws.send(json.dumps(reply))

    async def on_open(self, ws) -> None:  # pragma: no cover - overridden
        return None

    def on_message(self, msg: Any) -> Any:
        return None

    async def flush(self) -> None:
        """Wait until frames a bar queued for other sockets are sent (before its candle)."""
        return None

    def bar_frames(self, i: int) -> list[str]:  # pragma: no cover - overridden
        raise NotImplementedError

    def rest(self, path: str, params: dict) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def _liqs_in(self, i: int) -> list[dict]:
        t0 = int(self.bars.ts_ms[i])
        return [e for e in self.liquidations if t0 <= int(e["T"]) < t0 + self.bar_ms]


class BinanceLoopback(_Loopback):
    """Binance USDⓈ-M: ``/stream?streams=...`` klines + ``!forceOrder@arr``, and
    ``/fapi/v1/klines``, ``/futures/data/openInterestHist``, ``/fapi/v1/openInterest``.

    ``liquidations`` are force-order ``o`` payloads (``{"s", "S", "q", "p", "ap", "z", "T"}``)
    sent in the bar that contains their ``T``.
    """

    venue = "binance"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.base}"

    def _kline(self, i: int, closed: bool) -> dict:
        b = self.bars
        t = int(b.ts_ms[i])
        vol = float(b.volume[i]) if b.volume is not None else 0.0
        return {"t": t, "T": t + self.bar_ms - 1, "s": self.spec.venue_symbol,
                "i": f"{self.bar_ms // MS_PER_MINUTE}m", "o": f"{b.open[i]}", "c": f"{b.close[i]}",
                "h": f"{b.high[i]}", "l": f"{b.low[i]}", "v": f"{vol}", "n": 1, "x": closed,
                "q": f"{vol * b.close[i]}", "V": f"{vol / 2}", "Q": "0", "B": "0"}

    def bar_frames(self, i: int) -> list[str]:
        sym = self.spec.venue_symbol
        stream = f"{sym.lower()}@kline_{self.bar_ms // MS_PER_MINUTE}m"
        t = int(self.bars.ts_ms[i])

        def kline(closed):
            return json.dumps({"stream": stream, "data": {
                "e": "kline", "E": t + (self.bar_ms if closed else 1000), "s": sym,
                "k": self._kline(i, closed)}})

        frames = [kline(False)]
        frames += [json.dumps({"stream": "!forceOrder@arr", "data": {
            "e": "forceOrder", "E": int(o["T"]), "o": o}}) for o in self._liqs_in(i)]
        return frames + [kline(True)]

    def rest(self, path: str, params: dict) -> Any:
        b = self.bars
        if path == "/fapi/v1/klines":
            idx = self._rows(int(params.get("startTime", 0)),
                             int(params.get("endTime", 2 ** 62)), int(params.get("limit", 500)))
            ks = [self._kline(i, True) for i in idx]
            return [[k["t"], k["o"], k["h"], k["l"], k["c"], k["v"], k["T"], k["q"], k["n"],
                     k["V"], k["Q"], "0"] for k in ks]
        if path == "/futures/data/openInterestHist":
            lo, hi = int(params.get("startTime", 0)), int(params.get("endTime", 2 ** 62))
            idx = self._rows(lo - self.bar_ms, hi - self.bar_ms, int(params.get("limit", 30)))
            return [{"symbol": self.spec.venue_symbol, "timestamp": int(b.ts_ms[i]) + self.bar_ms,
                     "sumOpenInterest": f"{b.open_interest[i]}",
                     "sumOpenInterestValue": f"{b.open_interest[i] * b.close[i]}"}
                    for i in idx]
        if path == "/fapi/v1/openInterest":
            i = max(self._next - 1, 0)
            return {"symbol": self.spec.venue_symbol, "openInterest": f"{b.open_interest[i]}",
                    "time": int(b.ts_ms[i]) + self.bar_ms}
        return None


class BybitLoopback(_Loopback):
    """Bybit v5 public linear: subscribe/ping protocol, ``kline``, ``tickers``,
    ``allLiquidation`` topics; ``/v5/market/kline`` and ``/v5/market/open-interest``.

    ``liquidations`` are ``allLiquidation`` entries (``{"T", "s", "S", "v", "p"}``).
    """

    venue = "bybit"

    def __init__(self, bars: Bars, **kw) -> None:
        super().__init__(bars, **kw)
        self.pings = 0
        self._subscribed: asyncio.Event | None = None

    @property
    def ws_url(self) -> str:
        return f"ws://{self.base}/v5/public/linear"

    async def on_open(self, ws) -> None:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if msg.get("op") != "subscribe":
            await ws.close(1008, "subscribe first")
            return
        await ws.send(json.dumps({"success": True, "ret_msg": "", "conn_id": "loopback",
                                  "req_id": msg.get("req_id", ""), "op": "subscribe"}))

    def on_message(self, msg: Any) -> Any:
        if isinstance(msg, dict) and msg.get("op") == "ping":
            self.pings += 1
            return {"success": True, "ret_msg": "pong", "conn_id": "loopback", "op": "ping"}
        return None

    def _k(self, i: int, confirm: bool) -> dict:
        b = self.bars
        t = int(b.ts_ms[i])
        vol = float(b.volume[i]) if b.volume is not None else 0.0
        return {"start": t, "end": t + self.bar_ms - 1,
                "interval": str(self.bar_ms // MS_PER_MINUTE),
                "open": f"{b.open[i]}", "close": f"{b.close[i]}", "high": f"{b.high[i]}",
                "low": f"{b.low[i]}", "volume": f"{vol}", "turnover": "0", "confirm": confirm,
                "timestamp": t + self.bar_ms}

    def bar_frames(self, i: int) -> list[str]:
        sym = self.spec.venue_symbol
        t = int(self.bars.ts_ms[i])
        topic = f"kline.{self.bar_ms // MS_PER_MINUTE}.{sym}"
        frames = [json.dumps({"topic": topic, "type": "snapshot", "ts": t + 1000,
                              "data": [self._k(i, False)]})]
        liq = self._liqs_in(i)
        if liq:
            frames.append(json.dumps({"topic": f"allLiquidation.{sym}", "type": "snapshot",
                                      "ts": int(liq[-1]["T"]), "data": liq}))
        ticker = {"symbol": sym, "openInterest": f"{self.bars.open_interest[i]}",
                  "lastPrice": f"{self.bars.close[i]}"}
        frames.append(json.dumps({"topic": f"tickers.{sym}", "type": "delta",
                                  "ts": t + self.bar_ms, "data": ticker}))
        frames.append(json.dumps({"topic": topic, "type": "snapshot", "ts": t + self.bar_ms,
                                  "data": [self._k(i, True)]}))
        return frames

    def rest(self, path: str, params: dict) -> Any:
        b = self.bars
        if path == "/v5/market/kline":
            idx = self._rows(int(params.get("start", 0)), int(params.get("end", 2 ** 62)),
                             10 ** 9)[::-1][:int(params.get("limit", 200))]
            rows = [[str(int(b.ts_ms[i]))] + [self._k(i, True)[k] for k in
                                              ("open", "high", "low", "close", "volume",
                                               "turnover")] for i in idx]
            return {"retCode": 0, "retMsg": "OK", "result": {"list": rows}}
        if path == "/v5/market/open-interest":
            lo, hi = int(params.get("startTime", 0)), int(params.get("endTime", 2 ** 62))
            idx = self._rows(lo - self.bar_ms, hi - self.bar_ms, 10 ** 9)[::-1]
            rows = [{"openInterest": f"{b.open_interest[i]}",
                     "timestamp": str(int(b.ts_ms[i]) + self.bar_ms)} for i in idx]
            off, lim = int(params.get("cursor") or 0), int(params.get("limit", 50))
            more = off + lim < len(rows)
            return {"retCode": 0, "retMsg": "OK",
                    "result": {"list": rows[off:off + lim],
                               "nextPageCursor": str(off + lim) if more else ""}}
        return None


class OkxLoopback(_Loopback):
    """OKX v5 public: ``/ws/v5/business`` (``candle<bar>``) and ``/ws/v5/public``
    (``liquidation-orders``, ``open-interest``), both with the text ``ping``/``pong``
    keep-alive; ``/api/v5/market/history-candles``,
    ``/api/v5/rubik/stat/contracts/open-interest-history`` and
    ``/api/v5/public/open-interest``. Sizes in contracts of ``ctVal`` (0.01 BTC).

    ``liquidations`` are ``details[]`` entries (``{"side", "posSide", "sz", "bkPx", "ts",
    "bkLoss", "ccy"}``, ``sz`` in contracts), pushed on the public socket with the bar that
    contains their ``ts``, and served by ``/api/v5/public/liquidation-orders`` once their
    bar was streamed or skipped (so those of skipped bars exist only over REST). Bars stream on the business socket once a public socket has
    subscribed, so no liquidation of a streamed bar is missed. ``connections``,
    ``drop_after`` and ``skip`` count business connections only.
    """

    venue = "okx"

    def __init__(self, bars: Bars, **kw) -> None:
        super().__init__(bars, **kw)
        self.pings = 0
        self.subscriptions: list[dict] = []
        self._public: list[asyncio.Queue] = []
        self._public_ready: asyncio.Event | None = None

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
        queue: asyncio.Queue = asyncio.Queue()
        queue.liquidations = any(a.get("channel") == "liquidation-orders" for a in msg["args"])
        self._public.append(queue)
        self._public_ready.set()
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
                self._public_ready.clear()  # a reconnect streams once public is back

    async def on_open(self, ws) -> None:
        try:
            await self._subscribe(ws)
            await asyncio.wait_for(self._public_ready.wait(), 10)
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
        liqs = []
        for d in self._liqs_in(i):
            liqs.append(json.dumps({"arg": {"channel": "liquidation-orders", "instType": "SWAP"},
                                    "data": [{"details": [d], "instFamily": "BTC-USDT",
                                              "instId": inst, "instType": "SWAP",
                                              "uly": "BTC-USDT"}]}))
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

