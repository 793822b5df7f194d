"""Loopback Bybit v5 server (tests, demos): the subscribe/ping protocol, ``kline``,
``tickers`` and ``allLiquidation`` topics and the ``/v5/market`` REST answers.

Built on :class:`liqmap.venues._shared.loopback.LoopbackServer` (drop, refuse, skip, stall).

>>> from liqmap.io.sample import load_sample                     # doctest: +SKIP
>>> with BybitLoopback(load_sample(), start=100, drop_after=5) as srv:  # doctest: +SKIP
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
from liqmap.venues.bybit.spec import symbol_spec

__all__ = ["BybitLoopback"]


class BybitLoopback(LoopbackServer):
    """Bybit v5 public linear: subscribe/ping protocol, ``kline``, ``tickers``,
    ``allLiquidation`` topics; ``/v5/market/kline`` and ``/v5/market/open-interest``.

    ``liquidations`` are ``allLiquidation`` entries (``{"T", "s", "S", "v", "p"}``);
    ``recorded`` maps other REST paths to recorded answers served as they are (e.g. the
    ``/v5/market/risk-limit`` and ``/v5/market/instruments-info`` fixtures).
    """

    venue = "bybit"
    symbol_param = "symbol"

    def spec_for(self, symbol: str) -> VenueSpec:
        return symbol_spec(symbol)

    def __init__(self, bars: Bars, *, recorded: Mapping[str, Any] | None = None, **kw) -> None:
        super().__init__(bars, **kw)
        #: Recorded venue answers served verbatim by path (``/v5/market/risk-limit``,
        #: ``/v5/market/instruments-info``: what ccxt needs for ``fetch_market_leverage_tiers``).
        self.recorded = dict(recorded or {})
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
            ois = [{"openInterest": f"{b.open_interest[i]}",
                    "timestamp": str(int(b.ts_ms[i]) + self.bar_ms)} for i in idx]
            off, lim = int(params.get("cursor") or 0), int(params.get("limit", 50))
            more = off + lim < len(ois)
            return {"retCode": 0, "retMsg": "OK",
                    "result": {"list": ois[off:off + lim],
                               "nextPageCursor": str(off + lim) if more else ""}}
        return self.recorded.get(path)
