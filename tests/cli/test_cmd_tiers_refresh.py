"""``liqmap tiers --refresh``: fetch through ccxt from a loopback venue, store, read back with
``tiers --db``; maps made from that store apply it from the fetch day on; an unreachable venue
exits 3 (retry later). No network."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import ccxt
import pytest

from liqmap.cli import main
from liqmap.core.tiers import get_tier_table, tiers_from_leverage_tiers, tiers_from_margin_table
from liqmap.io.sample import load_sample
from liqmap.store import DuckDBStore
from liqmap.venues.bybit import BybitLoopback
from liqmap.venues.hyperliquid.loopback import HyperliquidLoopback
from liqmap.venues.okx import OkxLoopback

VFIX = Path(__file__).resolve().parents[1] / "fixtures" / "venues"


def _load(name: str) -> dict:
    return json.loads((VFIX / name).read_text())


def _run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return exc.value.code or 0


@pytest.fixture
def bybit():
    recorded = {"/v5/market/risk-limit": _load("bybit_risk_limit_linear_BTCUSDT.json"),
                "/v5/market/instruments-info": _load("bybit_instruments_info_linear.json")}
    with BybitLoopback(load_sample().take(slice(0, 10)), start=0, recorded=recorded) as srv:
        yield srv


def _recorded_table():
    """The recorded risk-limit answer parsed by ccxt's own Bybit parser, then liqmap's."""
    risk = _load("bybit_risk_limit_linear_BTCUSDT.json")["result"]["list"]
    return tiers_from_leverage_tiers(ccxt.bybit().parse_market_leverage_tiers(risk, None))


def test_refresh_stores_the_recorded_table_and_tiers_db_shows_it(bybit, tmp_path, capsys):
    db = str(tmp_path / "t.duckdb")
    assert _run(["tiers", "--refresh", "--venue", "bybit", "--symbol", "BTCUSDT", "--db", db,
                 "--rest-url", bybit.rest_url, "--json"]) == 0
    fetched = json.loads(capsys.readouterr().out)
    with DuckDBStore(db, read_only=True) as st:
        (stored,) = st.read_tier_tables("bybit", "BTCUSDT")
    assert stored.tiers == _recorded_table() and stored.verified
    assert fetched["version"] == stored.version and stored.notional_unit == "usd"
    shipped = get_tier_table("bybit")  # tiers 1-3 of the shipped table are this recording's
    assert stored.tiers[:2] == shipped.tiers[:2]
    assert (stored.tiers[2].floor_usd, stored.tiers[2].mmr, stored.tiers[2].cum_usd,
            stored.tiers[2].max_leverage) == (shipped.tiers[2].floor_usd, shipped.tiers[2].mmr,
                                              shipped.tiers[2].cum_usd,
                                              shipped.tiers[2].max_leverage)
    assert math.isinf(stored.tiers[-1].cap_usd)

    assert _run(["tiers", "--venue", "bybit", "--symbol", "BTC/USDT:USDT", "--db", db,
                 "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == fetched and shown["source"] == stored.source
    assert _run(["tiers", "--venue", "bybit", "--db", db, "--version", "2025-01-01",
                 "--json"]) == 0  # before the fetch: the shipped table
    assert json.loads(capsys.readouterr().out)["version"] == get_tier_table(
        "bybit", version="2025-01-01").version
    assert _run(["tiers", "--venue", "bybit", "--json"]) == 0  # no --db: shipped only
    assert json.loads(capsys.readouterr().out)["version"] == shipped.version


def test_unreachable_venue_exits_3_without_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("liqmap.venues.tier_refresh.time.sleep", lambda s: None)
    db = tmp_path / "t.duckdb"
    code = _run(["tiers", "--refresh", "--venue", "bybit", "--db", str(db),
                 "--rest-url", "http://127.0.0.1:1"])
    err = capsys.readouterr().err
    assert code == 3 and "retry later" in err and "Traceback" not in err


@pytest.mark.parametrize(("args", "words"), [
    (["--venue", "binance"], "signed call"),
    (["--venue", "binance-inverse"], "signed call"),
    (["--venue", "hyperliquid", "--symbol", "ETH/USDT:USDT"], "USDC perpetual"),
    (["--venue", "bybit", "--symbol", "BTCUSD"], "linear USDT"),
])
def test_refresh_refusals(tmp_path, capsys, args, words):
    code = _run(["tiers", "--refresh", *args, "--db", str(tmp_path / "t.duckdb")])
    assert code == 2 and words in capsys.readouterr().err


def test_refresh_needs_db(capsys):
    assert _run(["tiers", "--refresh", "--venue", "bybit"]) == 2
    assert "--db" in capsys.readouterr().err


def test_okx_refresh_stores_the_recorded_tier_in_coin(tmp_path, capsys):
    tiers = json.loads((VFIX.parents[1] / "core" / "fixtures"
                        / "okx_position_tiers_btc_usdt_2026-09-25.json").read_text())
    recorded = {"/api/v5/public/position-tiers": tiers["response"],
                "/api/v5/public/instruments": _load("okx_instruments_swap.json")}
    db = str(tmp_path / "t.duckdb")
    with OkxLoopback(load_sample().take(slice(0, 10)), start=0, recorded=recorded) as srv:
        assert _run(["tiers", "--refresh", "--venue", "okx", "--symbol", "BTC/USDT:USDT",
                     "--db", db, "--rest-url", srv.rest_url, "--json"]) == 0
    capsys.readouterr()
    with DuckDBStore(db, read_only=True) as st:
        (stored,) = st.read_tier_tables("okx", "BTC-USDT-SWAP")
    shipped = get_tier_table("okx", version="2026-09-25")  # parsed from the same recording
    assert stored.tiers == shipped.tiers and stored.contract_size == shipped.contract_size
    assert stored.notional_unit == "coin"
    assert _run(["tiers", "--venue", "okx", "--db", db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["source"] == stored.source


# ------------------------------------------------------------------- Hyperliquid meta (#17)
HL_META = VFIX.parents[1] / "core" / "fixtures" / "hyperliquid_meta_eth_sol_2026-09-25.json"


@pytest.fixture
def hyperliquid():
    """The loopback answering POST /info {"type": "meta"} with the meta recorded 2026-09-25."""
    meta = json.loads(HL_META.read_text())["response"]
    with HyperliquidLoopback(load_sample().take(slice(0, 10)), start=0,
                             recorded={"meta": meta}) as srv:
        yield srv


@pytest.mark.parametrize("symbol", ["ETH", "ETH/USDC:USDC", "eth"])
def test_hyperliquid_refresh_stores_the_recorded_margin_table(hyperliquid, tmp_path, capsys,
                                                              symbol):
    db = str(tmp_path / "t.duckdb")
    assert _run(["tiers", "--refresh", "--venue", "hyperliquid", "--symbol", symbol, "--db", db,
                 "--rest-url", hyperliquid.rest_url, "--json"]) == 0
    fetched = json.loads(capsys.readouterr().out)
    assert hyperliquid.info_requests == [{"type": "meta"}]  # one request, through ccxt
    with DuckDBStore(db, read_only=True) as st:
        (stored,) = st.read_tier_tables("hyperliquid", "ETH")
    shipped = get_tier_table("hyperliquid", "ETH", version="2026-09-25")  # the same recording
    meta = json.loads(HL_META.read_text())["response"]
    table_55 = dict((tid, tbl) for tid, tbl in meta["marginTables"])[55]["marginTiers"]
    assert stored.tiers == shipped.tiers == tiers_from_margin_table(table_55)
    assert stored.verified and stored.notional_unit == "usd" and stored.contract_size == 1.0
    assert stored.symbol == fetched["symbol"] == "ETH" and fetched["version"] == stored.version
    assert stored.version > shipped.version  # dated by the fetch day, not the recording's
    assert 'POST /info {"type": "meta"}' in stored.source and "margin table 55" in stored.source
    assert "tiered 25x" in stored.source and hyperliquid.rest_url in stored.source
    assert f"fetched {stored.version} " in stored.source  # the fetch time, to the second
    assert math.isinf(stored.tiers[-1].cap_usd)

    assert _run(["tiers", "--venue", "hyperliquid", "--symbol", "ETH/USDC:USDC", "--db", db,
                 "--json"]) == 0  # the store's table over the shipped one
    assert json.loads(capsys.readouterr().out) == fetched


def test_hyperliquid_unknown_symbol_exits_2_naming_the_known_ones(hyperliquid, tmp_path,
                                                                 capsys):
    code = _run(["tiers", "--refresh", "--venue", "hyperliquid", "--symbol", "DOGE", "--db",
                 str(tmp_path / "t.duckdb"), "--rest-url", hyperliquid.rest_url])
    err = capsys.readouterr().err
    assert code == 2 and "'DOGE'" in err and "Traceback" not in err
    assert "known symbols: BTC, ETH, ATOM, MATIC, DYDX, SOL" in err


@pytest.mark.parametrize(("table_id", "words"), [([5], "marginTableId must be an integer"),
                                                 ({"id": 5}, "marginTableId must be an integer")])
def test_hyperliquid_malformed_table_id_exits_2_without_traceback(tmp_path, capsys, table_id,
                                                                  words):
    meta = json.loads(HL_META.read_text())["response"]
    meta["universe"] = [{**a, "marginTableId": table_id} if a["name"] == "ATOM" else a
                        for a in meta["universe"]]
    db = tmp_path / "t.duckdb"
    with HyperliquidLoopback(load_sample().take(slice(0, 10)), start=0,
                             recorded={"meta": meta}) as srv:
        code = _run(["tiers", "--refresh", "--venue", "hyperliquid", "--symbol", "ATOM", "--db",
                     str(db), "--rest-url", srv.rest_url])
    err = capsys.readouterr().err
    assert code == 2 and words in err and "Traceback" not in err, err
    if db.exists():
        with DuckDBStore(db, read_only=True) as st:
            assert st.read_tier_tables() == []


def test_hyperliquid_unreachable_exits_3_without_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("liqmap.venues.tier_refresh.time.sleep", lambda s: None)
    code = _run(["tiers", "--refresh", "--venue", "hyperliquid", "--symbol", "ETH", "--db",
                 str(tmp_path / "t.duckdb"), "--rest-url", "http://127.0.0.1:1"])
    err = capsys.readouterr().err
    assert code == 3 and "retry later" in err and "Traceback" not in err
    assert not (tmp_path / "t.duckdb").exists()  # nothing stored


# ---------------------------------------------- maps made from the store apply the fetch (#17)
def _eth_answers() -> dict:
    """The recorded Bybit answers turned into an ETHUSDT market whose tiers differ from
    BTC's (tier 1: 50x, mmr 1 %; ETH's own answer is not recorded)."""
    inst = _load("bybit_instruments_info_linear.json")
    eth = {**inst["result"]["list"][0], "symbol": "ETHUSDT", "baseCoin": "ETH"}
    inst["result"]["list"].append(eth)
    risk = _load("bybit_risk_limit_linear_BTCUSDT.json")
    for row, (mmr, lev) in zip(risk["result"]["list"],
                               (("0.01", "50.00"), ("0.015", "33.33"), ("0.02", "25.00"))):
        row.update(symbol="ETHUSDT", maintenanceMargin=mmr, maxLeverage=lev)
    return {"/v5/market/risk-limit": risk, "/v5/market/instruments-info": inst}


def test_a_map_from_the_store_applies_the_table_fetched_by_then(tmp_path, capsys):
    from dataclasses import replace

    from liqmap.timeutil import MS_PER_DAY, iso_ms, utc_date

    sample = load_sample().take(slice(0, 2000))  # 5-minute bars, about 7 days
    now_ms = int(time.time() * 1000)
    bars = replace(sample, venue="bybit", symbol="ETH/USDT:USDT",  # the fetch mid-series
                   ts_ms=sample.ts_ms - sample.ts_ms[1000] + now_ms)
    db, plain = str(tmp_path / "t.duckdb"), str(tmp_path / "plain.duckdb")
    for path in (db, plain):
        with DuckDBStore(path) as st:
            st.write_bars(bars)
    with BybitLoopback(sample.take(slice(0, 10)), start=0, recorded=_eth_answers()) as srv:
        assert _run(["tiers", "--refresh", "--venue", "bybit", "--symbol", "ETHUSDT", "--db",
                     db, "--rest-url", srv.rest_url, "--json"]) == 0
    day = json.loads(capsys.readouterr().out)["version"]
    assert day in (utc_date(now_ms), utc_date(now_ms + MS_PER_DAY))

    def brief(path: str, *args: str) -> dict:
        assert _run(["brief", "--db", path, "--venue", "bybit", "--symbol", "ETH/USDT:USDT",
                     "--scorecard-dir", str(tmp_path / "none"), "--json", *args]) == 0
        return json.loads(capsys.readouterr().out)

    fallback = ("bybit BTCUSDT tiers 2023-01-01, not verified (fallback: no bybit table for "
                "ETH/USDT:USDT is shipped")
    used, without = brief(db), brief(plain)
    assert used["tiers"] == f"bybit ETHUSDT tiers fetched {day} (store)"
    assert used["model"]["venue"] == "bybit"
    assert without["tiers"] == fallback + ")"  # a store without fetched tables: as before
    assert used["bands"] != without["bands"]  # 50x / 1 % tiers move the levels
    # a map at a time before the fetch does not use it: the plain store's map, said so
    at = iso_ms(int(bars.ts_ms[1000]) - 2 * MS_PER_DAY)
    before, plain_before = brief(db, "--at", at), brief(plain, "--at", at)
    assert before["tiers"] == fallback + f" or was fetched by {utc_date(now_ms - 2 * MS_PER_DAY)})"
    assert {**before, "tiers": ""} == {**plain_before, "tiers": ""}
