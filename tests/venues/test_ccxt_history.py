"""ccxt venues (Bybit fully, Hyperliquid OHLCV) against loopback servers (no network)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from liqmap import InputError, RetryLaterError
from liqmap.io import load_bars
from liqmap.venues import (
    CcxtHistory,
    RateLimiter,
    RetryPolicy,
    bars_from_ccxt,
    download,
    make_exchange,
)
from liqmap.venues.ccxt_history import paginate

FIX = Path(__file__).resolve().parents[1] / "fixtures"
VFIX = FIX / "venues"
DAY0 = 1764547200000  # 2025-12-01T00:00Z
NOW = DAY0 + 3 * 86_400_000


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _hist(server, venue="bybit", sleeps=None, attempts=3) -> CcxtHistory:
    ex = make_exchange(venue, api_url=server.url)
    ex.enableRateLimit = False  # the loopback needs no throttle; the default keeps it on
    return CcxtHistory(ex, retry=RetryPolicy(attempts=attempts, jitter=0.0),
                       sleep=sleeps if sleeps is not None else Sleeps())


def test_exchange_defaults_are_public_and_rate_limited():
    ex = make_exchange("bybit")
    assert ex.enableRateLimit and not ex.apiKey and not ex.secret
    assert ex.options["fetchMarkets"]["types"] == ["linear", "inverse"]
    local = make_exchange("binanceusdm", api_url="http://127.0.0.1:1")
    assert local.urls["api"]["fapiPublic"] == "http://127.0.0.1:1/fapi/v1"


def test_paginate_follows_short_pages_and_dedups():
    rows = [[t, 1.0] for t in range(0, 3_000_000, 60_000)]  # 50 one-minute rows
    calls = []

    def page(since, limit, until):  # a venue serving at most 7 rows whatever is asked
        calls.append(since)
        return [r for r in rows if since <= r[0] <= until][:7] + [rows[0]]

    got = paginate(page, lambda r: r[0], 0, 3_000_000, 60_000, 7)
    assert [r[0] for r in got] == [r[0] for r in rows]
    assert len(calls) >= 50 // 7


def test_rate_limiter_spaces_requests_per_host():
    now, slept = [0.0], []
    lim = RateLimiter(0.5, clock=lambda: now[0], sleep=slept.append)
    lim.wait("a")
    lim.wait("a")
    lim.wait("b")
    lim.wait("a")
    assert slept == [0.5, 1.0]


def test_bybit_history_through_ccxt(bybit_server):
    hist = _hist(bybit_server)
    sym = "BTC/USDT:USDT"
    ohlcv = hist.fetch_ohlcv(sym, "5m", DAY0, DAY0 + 86_400_000)
    k = pd.read_csv(FIX / "BTCUSDT-5m-2025-12-01.csv")
    assert [r[0] for r in ohlcv] == k.open_time.tolist()
    np.testing.assert_allclose([r[4] for r in ohlcv], k.close)
    oi = hist.fetch_open_interest_history(sym, "5m", DAY0, DAY0 + 86_400_000)
    m = pd.read_csv(FIX / "BTCUSDT-metrics-2025-12-01.csv")
    np.testing.assert_allclose([r["openInterestAmount"] for r in oi], m.sum_open_interest)
    funding = hist.fetch_funding_rate_history(sym, DAY0 - 86_400_000, DAY0 + 86_400_000)
    assert [r["timestamp"] for r in funding] == [DAY0, DAY0 + 8 * 3_600_000, DAY0 + 16 * 3_600_000]
    assert hist.funding_interval_h(sym) == 8.0
    tiers = hist.fetch_leverage_tiers(sym)
    risk = json.loads((VFIX / "bybit_risk_limit_linear_BTCUSDT.json").read_text())
    assert [t["maxNotional"] for t in tiers] == [float(r["riskLimitValue"])
                                                 for r in risk["result"]["list"]]
    assert [t["maintenanceMarginRate"] for t in tiers] == [0.005, 0.01, 0.015]
    bars = bars_from_ccxt(ohlcv, oi, funding, venue="bybit", symbol=sym)
    assert len(bars) == 24 and np.all(bars.open_interest > 0)


def test_bybit_download_writes_days_and_resumes(bybit_server, tmp_path, recording_store):
    out = tmp_path / "out"
    hist_ex = make_exchange("bybit", api_url=bybit_server.url)
    hist_ex.enableRateLimit = False
    rep = download("bybit", "BTC/USDT:USDT", "2025-12-01", "2025-12-01",
                   "klines-5m,metrics,fundingRate,leverage_tiers", out, exchange=hist_ex,
                   store=recording_store, now_ms=NOW, sleep=Sleeps())
    assert rep.ok, rep.failed
    assert sorted(rep.fetched) == sorted([
        "bybit/BTCUSDT/bars-5m/2025-12-01.parquet", "bybit/BTCUSDT/open_interest-5m/2025-12-01.csv",
        "bybit/BTCUSDT/funding/2025-12-01.csv", "bybit/BTCUSDT/leverage_tiers/2025-12-04.json"])
    bars = load_bars(out / "bybit/BTCUSDT/bars-5m/2025-12-01.parquet", venue="bybit")
    assert len(bars) == 24
    np.testing.assert_allclose(bars.open_interest,
                               pd.read_csv(FIX / "BTCUSDT-metrics-2025-12-01.csv").sum_open_interest)
    assert bars.funding_rate is not None and np.all(np.isfinite(bars.funding_rate))
    assert [len(b) for b in recording_store.bars_calls] == [24] and rep.stored_bars == 24
    n = len(bybit_server.log)
    again = download("bybit", "BTC/USDT:USDT", "2025-12-01", "2025-12-01",
                     "klines-5m,metrics,fundingRate,leverage_tiers", out, exchange=hist_ex,
                     now_ms=NOW, sleep=Sleeps())
    assert again.fetched == () and len(again.skipped) == 4
    assert not [p for p in bybit_server.paths()[n:] if not p.startswith("/v5/market/instruments")]


def test_bybit_server_errors_are_retried(bybit_server):
    bybit_server.fail["/v5/market/kline"] = [503, 502]
    sleeps = Sleeps()
    hist = _hist(bybit_server, sleeps=sleeps)
    rows = hist.fetch_ohlcv("BTC/USDT:USDT", "5m", DAY0, DAY0 + 86_400_000)
    assert len(rows) == 24 and sleeps == [0.5, 1.0]
    assert [s for _, p, s in bybit_server.log if p.startswith("/v5/market/kline")] == [503, 502, 200]


def test_bybit_rate_limit_exhausted_is_retry_later(bybit_server):
    bybit_server.fail["/v5/market/open-interest"] = [429] * 5
    hist = _hist(bybit_server, attempts=3)
    with pytest.raises(RetryLaterError, match="3 times"):
        hist.fetch_open_interest_history("BTC/USDT:USDT", "5m", DAY0, DAY0 + 86_400_000)
    assert len([p for p in bybit_server.paths() if p.startswith("/v5/market/open-interest")]) == 3


def test_bybit_refusal_is_an_input_error_without_retry(bybit_server):
    hist = _hist(bybit_server)
    market = hist.market("BTC/USDT:USDT")
    market["id"] = "BTCUSDX"  # the venue answers retCode 10001 for an unknown id
    with pytest.raises(InputError, match="refused"):
        hist.fetch_ohlcv("BTC/USDT:USDT", "5m", DAY0, DAY0 + 86_400_000)
    assert len([p for p in bybit_server.paths() if p.startswith("/v5/market/kline")]) == 1


def test_unknown_symbol_and_missing_capability_are_input_errors(bybit_server, tmp_path):
    hist = _hist(bybit_server)
    with pytest.raises(InputError, match="no market 'ETH/USDT:USDT'"):
        hist.market("ETH/USDT:USDT")
    hl = make_exchange("hyperliquid", api_url=bybit_server.url)
    with pytest.raises(InputError, match="fetchOpenInterestHistory"):
        download("hyperliquid", "BTC/USDC:USDC", "2026-06-12", "2026-06-12",
                 "klines-5m,metrics", tmp_path, exchange=hl)


def test_hyperliquid_ohlcv_download(hyperliquid_server, tmp_path):
    ex = make_exchange("hyperliquid", api_url=hyperliquid_server.url)
    ex.enableRateLimit = False
    rep = download("hyperliquid", "BTC/USDC:USDC", "2026-06-12", "2026-06-12", "klines-5m",
                   tmp_path, exchange=ex, now_ms=1781222400000 + 2 * 86_400_000)
    assert rep.ok, rep.failed
    (path,) = rep.fetched
    frame = pd.read_parquet(tmp_path / path)
    candles = json.loads((VFIX / "hyperliquid_candle_snapshot_BTC_5m.json").read_text())
    assert frame.ts_ms.tolist() == [c["t"] for c in candles]
    np.testing.assert_allclose(frame.high, [float(c["h"]) for c in candles])
    types = {json.loads(b)["type"] for b in hyperliquid_server.bodies}
    assert {"candleSnapshot", "metaAndAssetCtxs"} <= types
