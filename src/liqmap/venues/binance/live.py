"""Binance USDⓈ-M futures: websocket streams and REST backfill, parsed at the edge.

Stream (``wss://fstream.binance.com/stream?streams=...``, combined-stream envelope
``{"stream": ..., "data": ...}``):

* ``<symbol>@kline_<tf>``: kline events; a bar is emitted only when ``k.x`` is true
  (closed). ``k.V`` is the taker-buy base volume.
* ``!forceOrder@arr``: liquidation orders of all symbols, filtered to ours. ``o.S`` is
  the *order* side: ``SELL`` closes a long (side +1), ``BUY`` a short (-1). Binance sends
  at most one event per symbol per second (the latest), so every event is marked
  ``lower_bound=True``: their sum under-counts what was liquidated.
* ``<symbol>@markPrice@1s``: ``r`` is the current funding rate (per 8 h on BTCUSDT).

Open interest has no stream on Binance: it is polled over REST
(``/futures/data/openInterestHist``, else ``/fapi/v1/openInterest`` for the latest bar).

>>> spec = symbol_spec("BTC/USDT:USDT")
>>> msg = {"e": "forceOrder", "E": 1, "o": {"s": "BTCUSDT", "S": "SELL", "q": "0.014",
...        "p": "9910", "ap": "9910", "z": "0.014", "T": 1568014460893}}
>>> parse_message(msg, spec)[0].side
1
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from liqmap._exceptions import ConfigError, DataError
from liqmap.venues._shared.records import FundingTick, LiveBar, LiveLiquidation
from liqmap.venues._shared.rest import RestBars
from liqmap.venues._shared.spec import VenueSpec
from liqmap.venues._shared.ws import Connection, get_json, open_ws, timeframe_ms
from liqmap.venues.binance.spec import symbol_spec

__all__ = ["BINANCE_REST", "BINANCE_WS", "BinanceRest", "BinanceStream", "LIVE_CLIENTS",
           "parse_message", "parse_rest_kline"]

BINANCE_WS = "wss://fstream.binance.com"
BINANCE_REST = "https://fapi.binance.com"
_KLINE_LIMIT = 1500
_OI_LIMIT = 500


# ----------------------------------------------------------------------------- parsing


def _f(d: dict, key: str, where: str) -> float:
    try:
        return float(d[key])
    except (KeyError, TypeError, ValueError):
        raise DataError(f"Binance {where} without a numeric {key!r}: {d!r}",
                        source="binance stream") from None


def parse_kline(k: dict, spec: VenueSpec, *, source: str = "stream") -> LiveBar | None:
    """A closed ``kline`` payload (``k``) as a bar; None while the bar is still open."""
    if not k.get("x"):
        return None
    vol = _f(k, "v", "kline")
    return LiveBar(ts_ms=int(k["t"]), open=_f(k, "o", "kline"), high=_f(k, "h", "kline"),
                   low=_f(k, "l", "kline"), close=_f(k, "c", "kline"),
                   volume=spec.to_base(vol, _f(k, "c", "kline")) if spec.inverse else vol,
                   taker_buy_volume=None if spec.inverse else float(k.get("V", "nan")),
                   venue=spec.venue, symbol=spec.symbol, source=source)


def parse_force_order(o: dict, spec: VenueSpec) -> LiveLiquidation | None:
    """A ``forceOrder`` order (``o``) of our symbol as a liquidation event."""
    if o.get("s") != spec.venue_symbol:
        return None
    side = {"SELL": 1, "BUY": -1}.get(o.get("S", ""))
    if side is None:
        raise DataError(f"forceOrder side {o.get('S')!r} is neither SELL nor BUY",
                        source="binance stream")
    price = float(o.get("ap") or 0.0) or _f(o, "p", "forceOrder")
    qty = float(o.get("z") or 0.0) or _f(o, "q", "forceOrder")
    base = spec.to_base(qty, price)
    usd = qty * spec.contract_size if spec.inverse else base * price
    return LiveLiquidation(ts_ms=int(o["T"]), side=side, price=price, qty_coin=base,
                           notional_usd=usd, venue=spec.venue, symbol=spec.symbol,
                           lower_bound=True)


def parse_message(msg: Any, spec: VenueSpec) -> list:
    """Events of one decoded websocket message (combined envelope or raw)."""
    if isinstance(msg, dict) and "data" in msg and "stream" in msg:
        msg = msg["data"]
    items = msg if isinstance(msg, list) else [msg]
    out: list = []
    for ev in items:
        kind = ev.get("e") if isinstance(ev, dict) else None
        if kind == "kline" and ev.get("s") == spec.venue_symbol:
            bar = parse_kline(ev["k"], spec)
            out += [bar] if bar is not None else []
        elif kind == "forceOrder":
            liq = parse_force_order(ev["o"], spec)
            out += [liq] if liq is not None else []
        elif kind == "markPriceUpdate" and ev.get("s") == spec.venue_symbol and "r" in ev:
            out.append(FundingTick(ts_ms=int(ev["E"]), funding_rate=float(ev["r"])))
    return out


def parse_rest_kline(row: list, spec: VenueSpec) -> LiveBar:
    """One ``/fapi/v1/klines`` row ``[open_time, o, h, l, c, v, close_time, q, n, V, Q, _]``."""
    if len(row) < 10:
        raise DataError(f"kline row has {len(row)} fields, expected 12: {row!r}",
                        source="binance /fapi/v1/klines")
    k = {"t": row[0], "o": row[1], "h": row[2], "l": row[3], "c": row[4], "v": row[5],
         "V": row[9], "x": True}
    bar = parse_kline(k, spec, source="rest")
    assert bar is not None
    return bar


# ----------------------------------------------------------------------------- stream


def _linear(spec: VenueSpec) -> VenueSpec:
    if spec.inverse:
        raise ConfigError("the Binance live client covers USDⓈ-M (linear) perpetuals; COIN-M "
                          "streams (dstream/dapi) are not wired yet: use 'BTC/USDT:USDT'")
    return spec


class BinanceStream:
    """Binance USDⓈ-M websocket client for one symbol (klines, force orders, funding).

    Parameters
    ----------
    symbol : str
        ccxt unified symbol (``"BTC/USDT:USDT"``).
    timeframe : str
        Kline interval (``"1m"``, ``"5m"``).
    url : str, optional
        Base websocket URL (default ``wss://fstream.binance.com``; a loopback server in
        tests). The combined-stream path ``/stream?streams=...`` is appended.
    """

    venue = "binance"

    def __init__(self, symbol: str = "BTC/USDT:USDT", timeframe: str = "5m", *,
                 url: str | None = None, liquidations: bool = True, funding: bool = True,
                 spec: VenueSpec | None = None) -> None:
        self.spec = _linear(spec or symbol_spec(symbol))
        self.timeframe = timeframe
        self.bar_ms = timeframe_ms(timeframe)
        self.base_url = (url or BINANCE_WS).rstrip("/")
        s = self.spec.venue_symbol.lower()
        self.streams = [f"{s}@kline_{timeframe}"] + (["!forceOrder@arr"] if liquidations else [])
        self.streams += [f"{s}@markPrice@1s"] if funding else []
        self.has_oi_stream = False

    @property
    def url(self) -> str:
        """The combined-stream URL."""
        return f"{self.base_url}/stream?streams={'/'.join(self.streams)}"

    async def open(self) -> Connection:
        """Connect (the combined URL subscribes; no message has to be sent)."""
        ws = await open_ws(self.url)
        return Connection(ws, lambda msg: parse_message(msg, self.spec))


# ----------------------------------------------------------------------------- REST


class BinanceRest(RestBars):
    """Binance USDⓈ-M REST backfill: klines and open-interest history (``httpx``).

    Parameters
    ----------
    symbol, timeframe : str
        As for :class:`BinanceStream`.
    url : str, optional
        Base URL (default ``https://fapi.binance.com``).
    """

    venue = "binance"

    def __init__(self, symbol: str = "BTC/USDT:USDT", timeframe: str = "5m", *,
                 url: str | None = None, spec: VenueSpec | None = None) -> None:
        self.spec = _linear(spec or symbol_spec(symbol))
        self.timeframe = timeframe
        self.bar_ms = timeframe_ms(timeframe)
        self.base_url = (url or BINANCE_REST).rstrip("/")

    async def fetch_ohlcv(self, client, since_ms: int, until_ms: int) -> list[LiveBar]:
        """Bars opening in ``[since_ms, until_ms]`` (paged by 1500)."""
        out: list[LiveBar] = []
        start = int(since_ms)
        while start <= until_ms:
            rows = await get_json(client, f"{self.base_url}/fapi/v1/klines", {
                "symbol": self.spec.venue_symbol, "interval": self.timeframe,
                "startTime": start, "endTime": int(until_ms), "limit": _KLINE_LIMIT})
            bars = [parse_rest_kline(r, self.spec) for r in rows]
            out += [b for b in bars if since_ms <= b.ts_ms <= until_ms]
            if len(rows) < _KLINE_LIMIT:
                break
            start = bars[-1].ts_ms + self.bar_ms
        return out

    async def fetch_open_interest_history(self, client, since_ms: int,
                                          until_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """OI snapshots ``(ts_ms, base)`` stamped in ``[since_ms, until_ms]`` (paged)."""
        ts: list[int] = []
        oi: list[float] = []
        start = int(since_ms)
        while start <= until_ms:
            rows = await get_json(client, f"{self.base_url}/futures/data/openInterestHist", {
                "symbol": self.spec.venue_symbol, "period": self.timeframe,
                "startTime": start, "endTime": int(until_ms), "limit": _OI_LIMIT})
            ts += [int(r["timestamp"]) for r in rows]
            oi += [float(r["sumOpenInterest"]) for r in rows]
            if len(rows) < _OI_LIMIT:
                break
            start = ts[-1] + 1
        return np.array(ts, dtype=np.int64), np.array(oi, dtype=np.float64)

    async def fetch_open_interest(self, client) -> tuple[int, float]:
        """The current open interest ``(time_ms, base)``."""
        r = await get_json(client, f"{self.base_url}/fapi/v1/openInterest",
                           {"symbol": self.spec.venue_symbol})
        return int(r["time"]), float(r["openInterest"])



def subscribe_message(streams: list[str], req_id: int = 1) -> str:
    """The ``SUBSCRIBE`` frame for a raw ``/ws`` connection (not needed on ``/stream``)."""
    return json.dumps({"method": "SUBSCRIBE", "params": streams, "id": req_id})


#: The clients ``liqmap live --venue binance`` builds: (stream, REST backfill).
LIVE_CLIENTS = (BinanceStream, BinanceRest)
