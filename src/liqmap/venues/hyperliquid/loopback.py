"""Loopback Hyperliquid server: candle and activeAssetCtx websocket frames (the open candle
pushed repeatedly, as Hyperliquid does) and ``POST /info`` answers on a plain HTTP port.

Built on :class:`liqmap.venues._shared.loopback.LoopbackServer` (drop, refuse, skip, stall as
there).

>>> from liqmap.io.sample import load_sample                     # doctest: +SKIP
>>> with HyperliquidLoopback(load_sample(), start=100) as srv:    # doctest: +SKIP
...     srv.ws_url, srv.rest_url
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Mapping
from dataclasses import replace
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from liqmap.core.bars import Bars
from liqmap.venues._shared.loopback import LoopbackServer
from liqmap.venues._shared.spec import VenueSpec
from liqmap.venues.hyperliquid.live import hl_interval
from liqmap.venues.hyperliquid.spec import SZ_DECIMALS, symbol_spec

if TYPE_CHECKING:
    from http.server import ThreadingHTTPServer

__all__ = ["HyperliquidLoopback"]


class HyperliquidLoopback(LoopbackServer):
    """Hyperliquid: ``/ws`` with ``candle`` and ``activeAssetCtx`` subscriptions and the
    ``{"method": "ping"}`` / ``{"channel": "pong"}`` keep-alive; ``POST /info`` with
    ``candleSnapshot`` and ``metaAndAssetCtxs`` on a second port (``rest_url``);
    ``recorded`` maps other ``/info`` request types to recorded answers served as they are
    (e.g. ``{"meta": ...}``, the ``tests/core/fixtures/hyperliquid_meta_*.json`` answers that
    ``liqmap tiers --refresh --venue hyperliquid`` reads the margin tables from).

    Like the venue, each bar's candle is pushed several times while it is open (a partial
    push, then the whole candle twice), with an ``activeAssetCtx`` (the bar's open interest
    in coins, funding per hour) before its last pushes; nothing says a candle is closed.
    The series is relabelled ``hyperliquid`` / ``BASE/USDC:USDC``. ``candleSnapshot``
    includes the current open candle (partial), as Hyperliquid's does.
    """

    venue = "hyperliquid"

    def spec_for(self, symbol: str) -> VenueSpec:
        return symbol_spec(symbol)

    def __init__(self, bars: Bars, *, recorded: Mapping[str, Any] | None = None, **kw) -> None:
        base = bars.symbol.split("/")[0]
        super().__init__(replace(bars, venue="hyperliquid", symbol=f"{base}/USDC:USDC"), **kw)
        #: Recorded venue answers served verbatim by ``/info`` request type (``meta``).
        self.recorded = dict(recorded or {})
        self.pings = 0
        self.subscriptions: list[dict] = []
        self.info_requests: list[dict] = []
        self._http_server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------------ REST server
    def __enter__(self) -> HyperliquidLoopback:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        srv = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                reply = srv.info(body) if self.path == "/info" else None
                code = HTTPStatus.OK if reply is not None else HTTPStatus.UNPROCESSABLE_ENTITY
                data = json.dumps(reply if reply is not None else
                                  "Failed to deserialize the JSON body").encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                return None

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._http_server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return super().__enter__()

    def __exit__(self, *exc) -> None:
        super().__exit__(*exc)
        if self._http_server is not None:
            self._http_server.shutdown()
            self._http_server.server_close()

    @property
    def rest_url(self) -> str:
        if self._http_server is None:
            raise RuntimeError("the loopback's REST server is not started (use it in a with block)")
        return f"http://127.0.0.1:{self._http_server.server_address[1]}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.base}/ws"

    def rest(self, path: str, params: dict) -> Any:
        return None  # no GET endpoints: /info is POST only

    def _candle(self, i: int, *, partial: bool = False) -> dict:
        b = self.bars
        t = int(b.ts_ms[i])
        vol = float(b.volume[i]) if b.volume is not None else 0.0
        o, c, h, lo = b.open[i], b.close[i], b.high[i], b.low[i]
        if partial:  # the candle early in its life: first trades only
            c, h, lo, vol = o, max(o, (o + c) / 2), min(o, (o + c) / 2), vol / 3
        return {"t": t, "T": t + self.bar_ms - 1, "s": self.spec.venue_symbol,
                "i": hl_interval(self.bar_ms), "o": f"{o}", "c": f"{c}", "h": f"{h}",
                "l": f"{lo}", "v": f"{vol}", "n": 3 if partial else 10}

    def _ctx(self, i: int) -> dict:
        b = self.bars
        px = f"{b.close[i]}"
        fr = float(b.funding_rate[i]) / 8.0 if b.funding_rate is not None else 0.0
        return {"dayNtlVlm": "0", "prevDayPx": px, "markPx": px, "midPx": px,
                "oraclePx": px, "funding": f"{fr}", "openInterest": f"{b.open_interest[i]}",
                "premium": "0", "impactPxs": [px, px]}

    def info(self, body: dict) -> Any:
        """The answer to one ``POST /info`` body (None: not understood)."""
        self.info_requests.append(body)
        if body.get("type") == "candleSnapshot":
            req = body.get("req") or {}
            if req.get("coin") != self.spec.venue_symbol:
                return []
            now = min(self._next, len(self.bars) - 1)  # the current, open candle
            idx = self._rows(int(req["startTime"]), int(req.get("endTime") or 2 ** 62), 5000)
            return [self._candle(int(i), partial=int(i) == now) for i in idx if i <= now]
        if body.get("type") == "metaAndAssetCtxs":
            i = max(self._next - 1, 0)
            other = {**self._ctx(i), "openInterest": "1.0"}
            coin = self.spec.venue_symbol  # another coin listed first, as the venue does
            decoy = "ETH" if coin != "ETH" else "BTC"
            return [{"universe": [{"name": decoy, "szDecimals": SZ_DECIMALS[decoy],
                                   "maxLeverage": 25},
                                  {"name": coin, "szDecimals": SZ_DECIMALS.get(coin, 5),
                                   "maxLeverage": 40}]}, [other, self._ctx(i)]]
        return self.recorded.get(str(body.get("type")))

    # ------------------------------------------------------------------ websocket
    async def on_open(self, ws) -> None:
        try:
            for _ in range(2):  # candle and activeAssetCtx
                msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if msg.get("method") != "subscribe":
                    await ws.close(1008, "subscribe first")
                    return
                self.subscriptions.append(msg["subscription"])
                await ws.send(json.dumps({"channel": "subscriptionResponse", "data": msg}))
        except Exception:  # noqa: BLE001 - streaming to the closed socket then ends it
            return

    def on_message(self, msg: Any) -> Any:
        if isinstance(msg, dict) and msg.get("method") == "ping":
            self.pings += 1
            return {"channel": "pong"}
        return None

    def bar_frames(self, i: int) -> list[str]:
        ctx = {"channel": "activeAssetCtx",
               "data": {"coin": self.spec.venue_symbol, "ctx": self._ctx(i)}}
        pushes = [self._candle(i, partial=True), None, self._candle(i), self._candle(i)]
        return [json.dumps(ctx if p is None else {"channel": "candle", "data": p})
                for p in pushes]
