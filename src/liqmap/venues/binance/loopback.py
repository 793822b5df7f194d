"""Loopback Binance USDⓈ-M server (tests, demos): the combined kline and
``!forceOrder@arr`` streams and the ``/fapi`` REST answers used for backfill.

Built on :class:`liqmap.venues._shared.loopback.LoopbackServer` (drop, refuse, skip, stall).

>>> from liqmap.io.sample import load_sample                     # doctest: +SKIP
>>> with BinanceLoopback(load_sample(), start=100, drop_after=5) as srv:  # doctest: +SKIP
...     srv.ws_url, srv.rest_url
"""

from __future__ import annotations

import json
from typing import Any

from liqmap.timeutil import MS_PER_MINUTE
from liqmap.venues._shared.loopback import LoopbackServer
from liqmap.venues._shared.spec import VenueSpec
from liqmap.venues.binance.spec import symbol_spec

__all__ = ["BinanceLoopback"]


class BinanceLoopback(LoopbackServer):
    """Binance USDⓈ-M: ``/stream?streams=...`` klines + ``!forceOrder@arr``, and
    ``/fapi/v1/klines``, ``/futures/data/openInterestHist``, ``/fapi/v1/openInterest``.

    ``liquidations`` are force-order ``o`` payloads (``{"s", "S", "q", "p", "ap", "z", "T"}``)
    sent in the bar that contains their ``T``.
    """

    venue = "binance"
    symbol_param = "symbol"

    def spec_for(self, symbol: str) -> VenueSpec:
        return symbol_spec(symbol)

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
