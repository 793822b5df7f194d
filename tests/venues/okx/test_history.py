"""OKX through the real ``ccxt.okx()`` against a loopback server (no network).

The server answers the OKX v5 public paths ccxt 4.5 calls, with the recorded-shape JSON of
``tests/fixtures/venues/okx_*.json`` (see its README): values are the real Binance
BTCUSDT rows of ``tests/fixtures`` in OKX's units (contracts of ``ctVal`` = 0.01 BTC).
It pages as OKX documents: ``before``/``after`` (candles, funding) and ``begin``/``end``
(open-interest history) are exclusive bounds, the newest ``limit`` rows come first, and
``before`` alone returns the latest rows.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pytest

from liqmap import InputError
from liqmap.io import load_bars
from liqmap.venues import (
    CcxtHistory,
    RetryPolicy,
    bars_from_ccxt,
    ccxt_history,
    download,
    make_exchange,
)

FIX = Path(__file__).resolve().parents[2] / "fixtures"
VFIX = FIX / "venues"
DAY0 = 1764547200000  # 2025-12-01T00:00Z
DAY_MS = 86_400_000
NOW = DAY0 + 3 * DAY_MS
SYM = "BTC/USDT:USDT"
INST = "BTC-USDT-SWAP"


def _load(name: str) -> dict:
    return json.loads((VFIX / name).read_text())


def _q(query: dict, key: str, default=None):
    return query[key][0] if key in query else default


def _page(rows: list, ts_of, query: dict, lo_key: str, hi_key: str, max_limit: int) -> list:
    """OKX paging: exclusive bounds, newest first, the newest ``limit`` rows in range."""
    lo, hi = int(_q(query, lo_key, -1)), int(_q(query, hi_key, 2 ** 62))
    limit = min(int(_q(query, "limit", 100)), max_limit)
    picked = sorted((r for r in rows if lo < ts_of(r) < hi), key=ts_of, reverse=True)
    return picked[:limit]


def _ok(data: list) -> tuple[int, bytes]:
    return 200, json.dumps({"code": "0", "msg": "", "data": data}).encode()


def okx_answer(path: str, query: dict) -> tuple[int, bytes]:
    """One OKX v5 public REST answer."""
    if path == "/api/v5/public/instruments":
        swap = _q(query, "instType") == "SWAP"
        return _ok(_load("okx_instruments_swap.json")["data"] if swap else [])
    if _q(query, "instId") != INST:
        return 200, json.dumps({"code": "51001", "msg": "Instrument ID does not exist",
                                "data": []}).encode()
    if path in ("/api/v5/market/history-candles", "/api/v5/market/candles"):
        if _q(query, "bar") != "5m":
            return 200, json.dumps({"code": "51000", "msg": "Parameter bar error",
                                    "data": []}).encode()
        rows = _load("okx_history_candles_BTC-USDT-SWAP_5m.json")["data"]
        return _ok(_page(rows, lambda r: int(r[0]), query, "before", "after", 300))
    if path == "/api/v5/rubik/stat/contracts/open-interest-history":
        rows = _load("okx_open_interest_history_BTC-USDT-SWAP_5m.json")["data"]
        return _ok(_page(rows, lambda r: int(r[0]), query, "begin", "end", 100))
    if path == "/api/v5/public/funding-rate-history":
        rows = _load("okx_funding_rate_history_BTC-USDT-SWAP.json")["data"]
        return _ok(_page(rows, lambda r: int(r["fundingTime"]), query, "before", "after", 400))
    return 404, b'{"code":"404","msg":"Not Found","data":[]}'


class OkxLoopback:
    """A threaded HTTP server on 127.0.0.1:0 answering as OKX; logs (path, query, status)."""

    def __init__(self):
        self.log: list[tuple[str, dict, int]] = []
        self.fail: dict[str, list[int]] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                queued = server.fail.get(url.path)
                status, body = (queued.pop(0), b"busy") if queued else okx_answer(url.path, query)
                server.log.append((url.path, query, status))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def paths(self, prefix: str = "") -> list[str]:
        return [p for p, _, _ in self.log if p.startswith(prefix)]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def okx_server():
    server = OkxLoopback()
    yield server
    server.close()


def _exchange(server):
    ex = make_exchange("okx", api_url=server.url)
    ex.enableRateLimit = False  # the loopback needs no throttle; the default keeps it on
    return ex


def _hist(server, attempts: int = 3) -> CcxtHistory:
    return CcxtHistory(_exchange(server), retry=RetryPolicy(attempts=attempts, jitter=0.0),
                       sleep=lambda s: None)


def _metrics() -> pd.DataFrame:
    return pd.read_csv(FIX / "BTCUSDT-metrics-2025-12-01.csv")


def _funding() -> pd.DataFrame:
    return pd.read_csv(FIX / "BTCUSDT-fundingRate-2025-12.csv")


def test_okx_market_is_the_swap_with_its_contract_value(okx_server):
    hist = _hist(okx_server)
    market = hist.market(SYM)
    assert market["id"] == INST and market["swap"] and market["linear"]
    assert market["contractSize"] == 0.01
    (inst,) = [q for p, q, _ in okx_server.log if p == "/api/v5/public/instruments"]
    assert inst["instType"] == ["SWAP"]  # only perpetual swaps are loaded


def test_okx_history_through_ccxt_in_coins(okx_server):
    hist = _hist(okx_server)
    ohlcv = hist.fetch_ohlcv(SYM, "5m", DAY0, DAY0 + DAY_MS)
    k = pd.read_csv(FIX / "BTCUSDT-5m-2025-12-01.csv")
    assert [r[0] for r in ohlcv] == k.open_time.tolist()
    np.testing.assert_allclose([r[4] for r in ohlcv], k.close)
    np.testing.assert_allclose([r[5] for r in ohlcv], k.volume)  # volCcy: BTC, not contracts
    oi = hist.fetch_open_interest_history(SYM, "5m", DAY0, DAY0 + DAY_MS)
    m = _metrics()
    # ccxt's openInterestAmount is OKX's contract count: 100 contracts per BTC
    np.testing.assert_allclose([r["openInterestAmount"] for r in oi],
                               m.sum_open_interest / 0.01, rtol=1e-12)
    funding = hist.fetch_funding_rate_history(SYM, DAY0 - DAY_MS, DAY0 + DAY_MS)
    f = _funding()
    assert [r["timestamp"] for r in funding] == [DAY0 + h * 3_600_000 for h in (0, 8, 16)]
    np.testing.assert_allclose([r["fundingRate"] for r in funding], f.last_funding_rate[:3])
    size = hist.market(SYM)["contractSize"]
    bars = bars_from_ccxt(ohlcv, oi, funding, contract_size=size, venue="okx", symbol=SYM)
    assert len(bars) == 24
    np.testing.assert_allclose(bars.open_interest, m.sum_open_interest, rtol=1e-12)  # BTC
    # OKX's own requests: history candles (the day is old), 5m open-interest periods
    assert okx_server.paths("/api/v5/market/history-candles")
    oi_qs = [q for p, q, _ in okx_server.log if p.endswith("open-interest-history")]
    assert oi_qs and all(q["period"] == ["5m"] and q["instId"] == [INST] for q in oi_qs)


def test_okx_download_writes_bitcoin_open_interest_and_resumes(okx_server, tmp_path):
    out = tmp_path / "out"
    ex = _exchange(okx_server)
    datasets = "klines-5m,metrics,fundingRate"
    rep = download("okx", SYM, "2025-12-01", "2025-12-01", datasets, out, exchange=ex,
                   now_ms=NOW, sleep=lambda s: None)
    assert rep.ok, rep.failed
    root = "okx/BTC-USDT-SWAP"
    assert sorted(rep.fetched) == sorted([f"{root}/bars-5m/2025-12-01.parquet",
                                          f"{root}/open_interest-5m/2025-12-01.csv",
                                          f"{root}/funding/2025-12-01.csv"])
    bars = load_bars(out / root / "bars-5m/2025-12-01.parquet", venue="okx")
    m = _metrics()
    assert len(bars) == 24
    np.testing.assert_allclose(bars.open_interest, m.sum_open_interest, rtol=1e-12)
    f = _funding()
    np.testing.assert_allclose(bars.funding_rate, f.last_funding_rate[0])  # the 00:00 settlement
    oi_csv = pd.read_csv(out / root / "open_interest-5m/2025-12-01.csv")
    np.testing.assert_allclose(oi_csv.open_interest_value, m.sum_open_interest_value, rtol=1e-9)
    # OKX reports contracts; the coin column multiplies by ctVal (0.01 BTC)
    np.testing.assert_allclose(oi_csv.open_interest_base, m.sum_open_interest, rtol=1e-12)
    n = len(okx_server.log)
    again = download("okx", SYM, "2025-12-01", "2025-12-01", datasets, out, exchange=ex,
                     now_ms=NOW, sleep=lambda s: None)
    assert again.fetched == () and len(again.skipped) == 3
    assert [p for p in okx_server.paths()[n:] if p != "/api/v5/public/instruments"] == []


def test_okx_funding_pages_stay_inside_their_window(okx_server, monkeypatch):
    # Pages of 2 settlements: OKX answers ``before`` alone with its *latest* rows, so each
    # page must also bound ``after`` or every window but the last comes back empty.
    monkeypatch.setitem(ccxt_history.CCXT_VENUES, "okx",
                        replace(ccxt_history.CCXT_VENUES["okx"], funding_limit=2))
    hist = _hist(okx_server)
    funding = hist.fetch_funding_rate_history(SYM, DAY0, DAY0 + 2 * DAY_MS)
    want = [int(t) // 1000 * 1000 for t in _funding().calc_time
            if DAY0 <= int(t) // 1000 * 1000 < DAY0 + 2 * DAY_MS]
    assert len(want) == 6 and [r["timestamp"] for r in funding] == want
    for _, q, _ in [x for x in okx_server.log if x[0].endswith("funding-rate-history")]:
        assert int(q["after"][0]) - int(q["before"][0]) <= 2 * 3_600_000 + 2


def test_okx_error_code_is_an_input_error_without_retry(okx_server):
    hist = _hist(okx_server)
    market = hist.market(SYM)
    market["id"] = "BTC-USDX-SWAP"  # OKX answers code 51001 for an unknown instId
    with pytest.raises(InputError, match="refused.*51001"):
        hist.fetch_ohlcv(SYM, "5m", DAY0, DAY0 + DAY_MS)
    assert len(okx_server.paths("/api/v5/market/")) == 1


def test_okx_server_errors_are_retried(okx_server):
    okx_server.fail["/api/v5/rubik/stat/contracts/open-interest-history"] = [503]
    hist = _hist(okx_server)
    oi = hist.fetch_open_interest_history(SYM, "5m", DAY0, DAY0 + DAY_MS)
    assert len(oi) == 24
    statuses = [s for p, _, s in okx_server.log if p.endswith("open-interest-history")]
    assert statuses == [503, 200, 200, 200]  # the refused window again, then 2 more of 100
