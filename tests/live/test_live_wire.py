"""Venue payloads parsed at the edge; contract units per venue."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest

from liqmap import ConfigError, DataError
from liqmap.live.runner import Backoff, _add_reason
from liqmap.venues import (
    RateLimited,
    StreamClosed,
    spec_from_ccxt_market,
    timeframe_ms,
    venue_spec,
)
from liqmap.venues.binance import live as binance
from liqmap.venues.bybit import live as bybit

BN = venue_spec("binance", "BTC/USDT:USDT")
BY = venue_spec("bybit", "BTC/USDT:USDT")


def _kline(x: bool) -> dict:
    return {"stream": "btcusdt@kline_5m", "data": {"e": "kline", "E": 1, "s": "BTCUSDT", "k": {
        "t": 1_764_547_200_000, "T": 1_764_547_499_999, "s": "BTCUSDT", "i": "5m",
        "o": "90000.1", "c": "90100.0", "h": "90200.0", "l": "89900.5", "v": "12.5", "n": 9,
        "x": x, "q": "0", "V": "7.5", "Q": "0", "B": "0"}}}


def test_binance_kline_only_when_closed():
    assert binance.parse_message(_kline(False), BN) == []
    (bar,) = binance.parse_message(_kline(True), BN)
    assert (bar.ts_ms, bar.open, bar.high, bar.low, bar.close) == (
        1_764_547_200_000, 90000.1, 90200.0, 89900.5, 90100.0)
    assert bar.volume == 12.5 and bar.taker_buy_volume == 7.5 and np.isnan(bar.open_interest)
    other = _kline(True)
    other["data"]["s"] = "ETHUSDT"
    assert binance.parse_message(other, BN) == []


def test_binance_rest_kline_row_and_funding():
    row = [1_764_547_200_000, "1", "3", "0.5", "2", "10", 1_764_547_499_999, "0", 5, "4",
           "0", "0"]
    bar = binance.parse_rest_kline(row, BN)
    assert bar.source == "rest" and bar.taker_buy_volume == 4.0 and bar.close == 2.0
    with pytest.raises(DataError, match="expected 12"):
        binance.parse_rest_kline(row[:5], BN)
    (tick,) = binance.parse_message({"e": "markPriceUpdate", "E": 5, "s": "BTCUSDT",
                                     "p": "1", "r": "0.00012"}, BN)
    assert tick.funding_rate == 0.00012


def _recorded(path: Path) -> list[dict]:
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    if rows and rows[0][0] == "symbol_stripped":
        rows = rows[1:]
    return [{"s": r[0] + "USDT", "S": r[1], "o": r[2], "f": r[3], "q": r[4], "p": r[5],
             "ap": r[6], "X": r[7], "l": r[8], "z": r[9], "T": int(r[10])} for r in rows
            if len(r) >= 11]


def _check_force_orders(orders: list[dict]) -> int:
    n = 0
    for o in orders:
        evs = binance.parse_message({"stream": "!forceOrder@arr",
                                     "data": {"e": "forceOrder", "E": o["T"], "o": o}}, BN)
        if o["s"] != "BTCUSDT":
            assert evs == []
            continue
        (ev,) = evs
        assert ev.side == (1 if o["S"] == "SELL" else -1) and ev.lower_bound
        assert ev.qty_coin == float(o["z"]) and ev.price == float(o["ap"])
        assert ev.notional_usd == pytest.approx(float(o["z"]) * float(o["ap"]))
        n += 1
    return n


def test_recorded_force_orders_fixture():
    fx = Path(__file__).resolve().parents[1] / "fixtures" / "forceorder_allsymbols_sample.csv"
    assert _check_force_orders(_recorded(fx)) == 6


def test_recorded_force_orders_shared_data():
    root = Path(os.environ.get("LIQMAP_SHARED_DATA",
                               Path(__file__).resolve().parents[3] / "shared" / "data"))
    folder = root / "raw" / "binance_forceorder_samples"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent (real recorded !forceOrder@arr events)")
    total = sum(_check_force_orders(_recorded(p)) for p in sorted(folder.glob("*.csv")))
    assert total > 50  # every BTC event of the three recordings parsed


def test_bybit_messages():
    kl = {"topic": "kline.5.BTCUSDT", "type": "snapshot", "ts": 1, "data": [
        {"start": 300_000, "end": 599_999, "interval": "5", "open": "1", "close": "2",
         "high": "3", "low": "0.5", "volume": "7", "turnover": "0", "confirm": False},
        {"start": 0, "end": 299_999, "interval": "5", "open": "1", "close": "2", "high": "3",
         "low": "0.5", "volume": "7", "turnover": "0", "confirm": True}]}
    (bar,) = bybit.parse_message(kl, BY)
    assert bar.ts_ms == 0 and bar.volume == 7.0
    liq = {"topic": "allLiquidation.BTCUSDT", "type": "snapshot", "ts": 9, "data": [
        {"T": 5, "s": "BTCUSDT", "S": "Buy", "v": "0.2", "p": "90000"},
        {"T": 6, "s": "BTCUSDT", "S": "Sell", "v": "0.1", "p": "91000"}]}
    a, b = bybit.parse_message(liq, BY)
    assert (a.side, b.side) == (1, -1) and not a.lower_bound  # Buy = a long was liquidated
    assert a.notional_usd == pytest.approx(18_000.0)
    oi, fr = bybit.parse_message({"topic": "tickers.BTCUSDT", "type": "delta", "ts": 7, "data": {
        "symbol": "BTCUSDT", "openInterest": "51000.5", "fundingRate": "0.0001"}}, BY)
    assert oi.open_interest == 51000.5 and fr.funding_rate == 0.0001
    assert bybit.parse_message({"success": True, "op": "pong"}, BY) == []
    with pytest.raises(DataError, match="neither Buy nor Sell"):
        bybit.parse_message({"topic": "allLiquidation.BTCUSDT", "data": [
            {"T": 5, "s": "BTCUSDT", "S": "x", "v": "1", "p": "1"}]}, BY)


def test_units_per_venue():
    assert venue_spec("okx", "BTC/USDT:USDT").to_base(250.0, 90_000.0) == pytest.approx(2.5)
    inv = venue_spec("binance", "BTC/USD:BTC")
    assert inv.inverse and inv.rules == "binance-inverse" and inv.venue_symbol == "BTCUSD_PERP"
    assert inv.to_base(900, 90_000.0) == pytest.approx(1.0)  # 900 x 100 USD / 90k
    with pytest.raises(ConfigError, match="no liquidation rules"):
        venue_spec("bybit", "BTC/USD:BTC")  # Bybit inverse rules are not in liqmap.core
    spec = spec_from_ccxt_market("okx", {"symbol": "ETH/USDT:USDT", "id": "ETH-USDT-SWAP",
                                         "contractSize": 0.1, "inverse": False})
    assert spec.to_base(30, 3000.0) == pytest.approx(3.0) and spec.rules == "okx"
    with pytest.raises(ConfigError, match="ccxt perpetual symbol"):
        venue_spec("binance", "BTCUSDT")
    with pytest.raises(ConfigError, match="COIN-M"):
        binance.BinanceStream("BTC/USD:BTC")


def test_backoff_reasons_and_timeframes():
    assert [Backoff(1.0, 2.0, 5.0).delay(i) for i in range(4)] == [1.0, 2.0, 4.0, 5.0]
    r = _add_reason(None, StreamClosed("x: no message for 1 s (stall)"))
    r = _add_reason(r, RateLimited("429"))
    assert _add_reason(r, RateLimited("429")) == "stall+rate-limit"
    assert timeframe_ms("1h") == 3_600_000
    with pytest.raises(ConfigError, match="ccxt timeframe"):
        timeframe_ms("5x")
