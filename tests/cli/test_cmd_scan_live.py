"""``liqmap scan --live`` (issue 17): rank each venue's linear perpetuals by open interest
through ccxt, fetch their recent bars over REST, scan them. No network: the venues'
loopback servers answer ccxt and the bar requests.

Fixtures. The instrument lists are recorded (``tests/fixtures/venues/
bybit_instruments_info_linear.json``: BTCUSDT; ``tests/core/fixtures/
okx_instruments_swap_2026-09-25.json``: BTC-USDT-SWAP, ETH-USDT-SWAP, BTC-USD-SWAP), with
synthetic entries copied from them for the other symbols (marked below). The ranking answers
(Bybit ``/v5/market/tickers``, OKX ``/api/v5/public/open-interest?instType=SWAP``) are
synthetic: figures chosen so that the top by open interest differs from the top by 24 h
volume and a larger non-USDT contract is left out. The bars are generated
(``liqmap.scaleout.market.GeneratedSeries``; labelled generated, not market data).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from liqmap.cli import main
from liqmap.scaleout.market import GeneratedSeries
from liqmap.venues.bybit import BybitLoopback
from liqmap.venues.okx import OkxLoopback

TESTS = Path(__file__).resolve().parents[1]
VFIX, CFIX = TESTS / "fixtures" / "venues", TESTS / "core" / "fixtures"
N_BARS, LOOKBACK_BARS = 400, 288  # --lookback 24h of 5-minute bars


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def _bars(base: str, venue: str):
    return GeneratedSeries(base, venue, 17, N_BARS).bars()


def _now(bars) -> str:
    return str(int(bars.ts_ms[-1]) + bars.bar_ms)  # every served bar has closed


def _exit(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return exc.value.code or 0


def _scan(capsys, argv: list[str]) -> dict:
    code = _exit(["scan", *argv, "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


# ------------------------------------------------------------------------ Bybit: tickers
#: Synthetic tickers: (coin, settle, openInterestValue USD, turnover24h USD).
BYBIT_TICKERS = (("BTC", "USDT", 2e9, 9e9), ("ETH", "USDT", 5e9, 1e9),
                 ("SOL", "USDT", 3e9, 1e8), ("DOGE", "USDT", 1e9, 5e9),
                 ("BTC", "USDC", 9e9, 9e9))


def _bybit_answers() -> dict:
    inst = _load(VFIX / "bybit_instruments_info_linear.json")  # recorded: BTCUSDT
    btc = inst["result"]["list"][0]
    for coin, settle, _, _ in BYBIT_TICKERS[1:]:  # synthetic copies of the BTCUSDT entry
        name = f"{coin}{settle}" if settle == "USDT" else f"{coin}PERP"
        inst["result"]["list"].append({**btc, "symbol": name, "baseCoin": coin,
                                       "quoteCoin": settle, "settleCoin": settle})
    tickers = {"retCode": 0, "retMsg": "OK", "time": 1, "result": {"category": "linear", "list": [
        {"symbol": f"{c}{s}" if s == "USDT" else f"{c}PERP", "lastPrice": "1",
         "turnover24h": str(t), "volume24h": "1", "openInterest": "1",
         "openInterestValue": str(oi)} for c, s, oi, t in BYBIT_TICKERS]}}
    return {"/v5/market/instruments-info": inst, "/v5/market/tickers": tickers}


@pytest.fixture
def bybit():
    series = [_bars(c, "bybit") for c in ("BTC", "ETH", "SOL", "DOGE")]
    with BybitLoopback(series[0], start=N_BARS, series=series,
                       recorded=_bybit_answers()) as srv:
        yield srv, {b.symbol: b for b in series}


# ------------------------------------------------------------------------ OKX: open interests
def _okx_answers() -> dict:
    inst = _load(CFIX / "okx_instruments_swap_2026-09-25.json")["response"]  # recorded
    eth = next(d for d in inst["data"] if d["instId"] == "ETH-USDT-SWAP")
    inst["data"].append({**eth, "instId": "SOL-USDT-SWAP", "uly": "SOL-USDT",  # synthetic
                         "instFamily": "SOL-USDT", "ctVal": "1"})
    rows = [("BTC-USD-SWAP", 9e9), ("ETH-USDT-SWAP", 4e9), ("SOL-USDT-SWAP", 3e9),
            ("BTC-USDT-SWAP", 2e9)]  # synthetic; the coin-margined one is left out
    oi = {"code": "0", "msg": "", "data": [
        {"instId": i, "instType": "SWAP", "oi": "1", "oiCcy": "1", "oiUsd": str(v),
         "ts": "1790550000000"} for i, v in rows]}
    return {"/api/v5/public/instruments": inst, "/api/v5/public/open-interest": oi}


@pytest.fixture
def okx():
    series = [_bars(c, "okx") for c in ("BTC", "ETH")]  # no SOL bars: SOL is skipped
    with OkxLoopback(series[0], start=N_BARS, series=series, recorded=_okx_answers()) as srv:
        yield srv, {b.symbol: b for b in series}


# ------------------------------------------------------------------------ the same bars from files
def _file_rows(capsys, tmp_path, served: dict, venue: str) -> dict:
    """Scan rows of the served bars' last ``LOOKBACK_BARS``, read from CSV files."""
    argv = []
    for sym, b in served.items():
        w = b.take(slice(N_BARS - LOOKBACK_BARS, N_BARS))
        path = tmp_path / f"{venue}-{sym.split('/')[0]}.csv"
        pd.DataFrame({"ts_ms": w.ts_ms, "open": w.open, "high": w.high, "low": w.low,
                      "close": w.close, "open_interest": w.open_interest,
                      "volume": w.volume}).to_csv(path, index=False)
        argv += ["--input", f"{path}@{venue}:{sym}"]
    return {r["symbol"]: r for r in _scan(capsys, argv)["rows"]}


def _same(a, b) -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            if k != "source":
                _same(a[k], b[k])
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6), (a, b)
    else:
        assert a == b


def test_bybit_top_by_open_interest_scanned_from_fetched_bars(bybit, capsys, tmp_path):
    srv, bars = bybit
    res = _scan(capsys, ["--live", "--venue", "bybit", "--top-oi", "2", "--lookback", "24h",
                         "--rest-url", srv.rest_url, "--now", _now(bars["ETH/USDT:USDT"])])
    live = res["live"]
    # ETH and SOL: the largest USDT open interest (not BTC / DOGE, the largest by volume;
    # not the USDC contract)
    assert [(c["symbol"], c["oi_usd"]) for c in live["chosen"]] == [
        ("ETH/USDT:USDT", 5e9), ("SOL/USDT:USDT", 3e9)]
    assert live["skipped"] == [] and "fetch_tickers" in live["ranking"]["bybit"]
    assert {(r["venue"], r["symbol"]) for r in res["rows"]} == {
        ("bybit", "ETH/USDT:USDT"), ("bybit", "SOL/USDT:USDT")}
    assert all(r["bars"] == LOOKBACK_BARS and not r["generated"] for r in res["rows"])
    files = _file_rows(capsys, tmp_path, {s: bars[s] for s in ("ETH/USDT:USDT",
                                                               "SOL/USDT:USDT")}, "bybit")
    for r in res["rows"]:
        _same(r, files[r["symbol"]])


def test_okx_ranking_skips_a_symbol_without_bars_and_cluster_rows_match(okx, capsys,
                                                                        tmp_path):
    srv, bars = okx
    argv = ["--live", "--venue", "okx", "--top-oi", "3", "--lookback", "24h",
            "--rest-url", srv.rest_url, "--now", _now(bars["ETH/USDT:USDT"])]
    res = _scan(capsys, argv)
    live = res["live"]
    assert [c["symbol"] for c in live["chosen"]] == [
        "ETH/USDT:USDT", "SOL/USDT:USDT", "BTC/USDT:USDT"]
    assert live["ranking"]["okx"] == "fetch_open_interests"
    (skip,) = live["skipped"]  # the loopback serves no SOL bars: reported, not a crash
    assert skip["symbol"] == "SOL/USDT:USDT" and "51001" in skip["reason"]
    assert [r["symbol"] for r in sorted(res["rows"], key=lambda r: r["symbol"])] == [
        "BTC/USDT:USDT", "ETH/USDT:USDT"]
    files = _file_rows(capsys, tmp_path, bars, "okx")
    for r in res["rows"]:
        _same(r, files[r["symbol"]])
    # a LocalCluster gives the same rows
    local = _scan(capsys, [*argv, "--scheduler", "local"])
    assert local["scheduler"] == "local" and local["rows"] == res["rows"]


def test_two_venues_at_once_and_the_table(bybit, okx, capsys):
    (b_srv, b_bars), (o_srv, _) = bybit, okx
    code = _exit(["scan", "--live", "--venue", "bybit", "--venue", "okx", "--top-oi", "2",
                  "--lookback", "24h", "--rest-url", b_srv.rest_url, "--rest-url",
                  o_srv.rest_url, "--now", _now(b_bars["ETH/USDT:USDT"])])
    out = capsys.readouterr().out
    assert code == 0
    assert "ETH/USDT:USDT" in out and "okx" in out and "bybit" in out
    assert "skipped SOL/USDT:USDT@okx" in out


def test_unreachable_venue_exits_3_without_traceback(capsys, monkeypatch):
    monkeypatch.setattr("liqmap.venues.oi_rank.time.sleep", lambda s: None)
    code = _exit(["scan", "--live", "--venue", "bybit", "--top-oi", "2",
                  "--rest-url", "http://127.0.0.1:1"])
    err = capsys.readouterr().err
    assert code == 3 and "retry later" in err and "Traceback" not in err


@pytest.mark.parametrize(("args", "words"), [
    (["--venue", "kraken", "--top-oi", "3"], ["--venue", "binance, bybit, okx, hyperliquid"]),
    (["--venue", "okx", "--top-oi", "0"], ["--top-oi", "1 to 50"]),
    (["--venue", "okx", "--top-oi", "51"], ["--top-oi", "1 to 50"]),
    (["--venue", "okx"], ["--top-oi"]),
    (["--top-oi", "3"], ["--venue", "bybit"]),
    (["--venue", "okx", "--top-oi", "3", "--generated", "2"], ["drop --db"]),
    (["--venue", "okx", "--top-oi", "3", "--lookback", "5d"], ["--lookback", "7d"]),
])
def test_refusals_exit_2_naming_the_flag(capsys, args, words):
    assert _exit(["scan", "--live", *args]) == 2
    err = capsys.readouterr().err
    assert all(w in err for w in words), err


def test_live_flags_without_live_are_refused(capsys):
    assert _exit(["scan", "--generated", "2", "--top-oi", "3"]) == 2
    assert "--live" in capsys.readouterr().err
