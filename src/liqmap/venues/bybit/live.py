"""Bybit v5 public streams and REST backfill (linear perpetuals), parsed at the edge.

Stream ``wss://stream.bybit.com/v5/public/linear``: after connecting, the client sends
``{"op": "subscribe", "args": ["kline.5.BTCUSDT", "allLiquidation.BTCUSDT",
"tickers.BTCUSDT"]}`` and ``{"op": "ping"}`` every 20 s (Bybit drops silent clients).

* ``kline.<interval>.<symbol>``: ``data`` is a list of bars; one is emitted only when
  ``confirm`` is true (closed).
* ``allLiquidation.<symbol>``: ``data`` lists events ``{T, s, S, v, p}``; ``S`` is the
  *position* side: ``Buy`` means a long was liquidated (+1), ``Sell`` a short (-1).
* ``tickers.<symbol>``: ``openInterest`` (contracts = base coin on linear) and
  ``fundingRate``, in snapshots and deltas (a delta carries only changed fields).

>>> spec = symbol_spec("BTC/USDT:USDT")
>>> msg = {"topic": "allLiquidation.BTCUSDT", "type": "snapshot", "ts": 1,
...        "data": [{"T": 1739502302929, "s": "BTCUSDT", "S": "Sell", "v": "0.5", "p": "96000"}]}
>>> parse_message(msg, spec)[0].side
-1
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from liqmap._exceptions import ConfigError, DataError
from liqmap.timeutil import MS_PER_HOUR, MS_PER_MINUTE
from liqmap.venues._shared.records import FundingTick, LiveBar, LiveLiquidation, OiTick
from liqmap.venues._shared.rest import RestBars
from liqmap.venues._shared.spec import VenueSpec
from liqmap.venues._shared.ws import Connection, get_json, open_ws, timeframe_ms
from liqmap.venues.bybit.spec import symbol_spec

__all__ = ["BYBIT_REST", "BYBIT_WS", "BybitRest", "BybitStream", "LIVE_CLIENTS", "parse_message",
           "subscribe_message"]

BYBIT_WS = "wss://stream.bybit.com/v5/public/linear"
BYBIT_REST = "https://api.bybit.com"
_OI_INTERVALS = {5 * MS_PER_MINUTE: "5min", 15 * MS_PER_MINUTE: "15min",
                 30 * MS_PER_MINUTE: "30min", MS_PER_HOUR: "1h"}


def _interval(bar_ms: int) -> str:
    """Bybit kline interval: minutes as a string (``"5"``)."""
    return str(bar_ms // MS_PER_MINUTE)


def subscribe_message(topics: list[str], req_id: str = "liqmap") -> str:
    """The subscribe frame."""
    return json.dumps({"op": "subscribe", "args": topics, "req_id": req_id})


def _kline_bar(d: dict, spec: VenueSpec, source: str) -> LiveBar:
    try:
        o, h, lo, c, v = (float(d[k]) for k in ("open", "high", "low", "close", "volume"))
        return LiveBar(ts_ms=int(d["start"]), open=o, high=h, low=lo, close=c,
                       volume=spec.to_base(v, c), venue=spec.venue, symbol=spec.symbol,
                       source=source)
    except (KeyError, TypeError, ValueError):
        raise DataError(f"Bybit kline without numeric start/open/high/low/close/volume: {d!r}",
                        source="bybit stream") from None


def _liquidation(d: dict, spec: VenueSpec) -> LiveLiquidation:
    side = {"Buy": 1, "Sell": -1}.get(d.get("S", ""))
    if side is None:
        raise DataError(f"allLiquidation side {d.get('S')!r} is neither Buy nor Sell",
                        source="bybit stream")
    price, qty = float(d["p"]), float(d["v"])
    base = spec.to_base(qty, price)
    usd = qty * spec.contract_size if spec.inverse else base * price
    return LiveLiquidation(ts_ms=int(d["T"]), side=side, price=price, qty_coin=base,
                           notional_usd=usd, venue=spec.venue, symbol=spec.symbol)


def _ticker(d: dict, ts_ms: int, spec: VenueSpec) -> list:
    out: list = []
    if d.get("openInterest") not in (None, ""):
        qty = float(d["openInterest"])
        px = float(d.get("lastPrice") or d.get("markPrice") or "nan")
        base = spec.to_base(qty, px) if spec.inverse else spec.to_base(qty, 1.0)
        out.append(OiTick(ts_ms=ts_ms, open_interest=base))
    if d.get("fundingRate") not in (None, ""):
        out.append(FundingTick(ts_ms=ts_ms, funding_rate=float(d["fundingRate"])))
    return out


def parse_message(msg: Any, spec: VenueSpec) -> list:
    """Events of one decoded Bybit message (acks and pongs give none)."""
    topic = msg.get("topic", "") if isinstance(msg, dict) else ""
    if not topic.endswith("." + spec.venue_symbol):
        return []
    data = msg.get("data")
    if topic.startswith("kline."):
        return [_kline_bar(d, spec, "stream") for d in data if d.get("confirm")]
    if topic.startswith("allLiquidation."):
        return [_liquidation(d, spec) for d in data if d.get("s") == spec.venue_symbol]
    if topic.startswith("tickers."):
        return _ticker(data, int(msg.get("ts", 0)), spec)
    return []


class BybitStream:
    """Bybit v5 public websocket client for one linear symbol.

    Parameters
    ----------
    symbol : str
        ccxt unified symbol (``"BTC/USDT:USDT"``).
    timeframe : str
        Kline interval (``"1m"``, ``"5m"``).
    url : str, optional
        Websocket URL (default the public linear endpoint).
    ping_every_s : float
        Keep-alive period (Bybit asks for 20 s).
    """

    venue = "bybit"

    def __init__(self, symbol: str = "BTC/USDT:USDT", timeframe: str = "5m", *,
                 url: str | None = None, liquidations: bool = True,
                 ping_every_s: float = 20.0, spec: VenueSpec | None = None) -> None:
        self.spec = spec or symbol_spec(symbol)
        if self.spec.inverse:
            raise ConfigError("the Bybit live client covers linear perpetuals; use a symbol "
                              "like 'BTC/USDT:USDT'")
        self.bar_ms = timeframe_ms(timeframe)
        self.url = url or BYBIT_WS
        s = self.spec.venue_symbol
        self.topics = [f"kline.{_interval(self.bar_ms)}.{s}", f"tickers.{s}"]
        self.topics += [f"allLiquidation.{s}"] if liquidations else []
        self.ping_every_s = ping_every_s
        self.has_oi_stream = True

    async def open(self) -> Connection:
        """Connect and subscribe; the connection pings every ``ping_every_s``."""
        ws = await open_ws(self.url)
        conn = Connection(ws, lambda msg: parse_message(msg, self.spec),
                          ping=lambda: json.dumps({"op": "ping"}),
                          ping_every_s=self.ping_every_s)
        await conn.send(subscribe_message(self.topics))
        return conn


class BybitRest(RestBars):
    """Bybit v5 REST backfill: ``/v5/market/kline`` and ``/v5/market/open-interest``."""

    current_oi_fallback = False  # Bybit's OI history is its only REST source


    venue = "bybit"

    def __init__(self, symbol: str = "BTC/USDT:USDT", timeframe: str = "5m", *,
                 url: str | None = None, spec: VenueSpec | None = None) -> None:
        self.spec = spec or symbol_spec(symbol)
        self.bar_ms = timeframe_ms(timeframe)
        if self.bar_ms not in _OI_INTERVALS:
            raise ConfigError(f"Bybit open-interest history has no {timeframe} interval; use "
                              "5m, 15m, 30m or 1h")
        self.base_url = (url or BYBIT_REST).rstrip("/")

    async def _get(self, client, path: str, params: dict) -> dict:
        r = await get_json(client, f"{self.base_url}{path}",
                           {"category": "linear", "symbol": self.spec.venue_symbol, **params})
        if r.get("retCode") != 0:
            raise DataError(f"Bybit {path}: retCode {r.get('retCode')} {r.get('retMsg')!r}",
                            source="bybit rest")
        return r["result"]

    async def fetch_ohlcv(self, client, since_ms: int, until_ms: int) -> list[LiveBar]:
        """Bars opening in ``[since_ms, until_ms]`` (Bybit returns newest first; paged)."""
        out: dict[int, LiveBar] = {}
        end = int(until_ms)
        while end >= since_ms:
            res = await self._get(client, "/v5/market/kline", {
                "interval": _interval(self.bar_ms), "start": int(since_ms), "end": end,
                "limit": 1000})
            rows = res.get("list", [])
            for r in rows:
                d = dict(zip(("start", "open", "high", "low", "close", "volume"), r))
                bar = _kline_bar(d, self.spec, "rest")
                if since_ms <= bar.ts_ms <= until_ms:
                    out[bar.ts_ms] = bar
            if len(rows) < 1000:
                break
            end = min(int(r[0]) for r in rows) - 1
        return [out[k] for k in sorted(out)]

    async def fetch_open_interest_history(self, client, since_ms: int,
                                          until_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """OI snapshots ``(ts_ms, base)`` in ``[since_ms, until_ms]`` (cursor-paged)."""
        ts: list[int] = []
        oi: list[float] = []
        cursor = ""
        while True:
            res = await self._get(client, "/v5/market/open-interest", {
                "intervalTime": _OI_INTERVALS[self.bar_ms], "startTime": int(since_ms),
                "endTime": int(until_ms), "limit": 200, **({"cursor": cursor} if cursor else {})})
            for r in res.get("list", []):
                ts.append(int(r["timestamp"]))
                oi.append(self.spec.to_base(float(r["openInterest"]), 1.0))
            cursor = res.get("nextPageCursor") or ""
            if not cursor or not res.get("list"):
                break
        return np.array(ts, dtype=np.int64), np.array(oi, dtype=np.float64)


#: The clients ``liqmap live --venue bybit`` builds: (stream, REST backfill).
LIVE_CLIENTS = (BybitStream, BybitRest)
