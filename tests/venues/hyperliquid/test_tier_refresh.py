"""Hyperliquid margin tables fetched through ccxt from the loopback's recorded ``meta`` answer
(``liqmap tiers --refresh --venue hyperliquid``, #17). No network."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from liqmap._exceptions import DataError, InputError
from liqmap.core.tiers import get_tier_table
from liqmap.io.sample import load_sample
from liqmap.venues.ccxt_history import make_exchange
from liqmap.venues.hyperliquid.loopback import HyperliquidLoopback
from liqmap.venues.tier_refresh import fetch_tier_table, refresh_symbols

FIX = Path(__file__).resolve().parents[2] / "core" / "fixtures"
NOW_MS = 1_796_300_000_000  # 2026-12-03


def _meta(name: str = "hyperliquid_meta_eth_sol_2026-09-25.json") -> dict:
    return json.loads((FIX / name).read_text())["response"]


def _loopback(meta: object) -> HyperliquidLoopback:
    return HyperliquidLoopback(load_sample().take(slice(0, 10)), start=0, recorded={"meta": meta})


def test_loopback_answers_meta_with_the_recording_verbatim():
    with _loopback(_meta()) as srv:
        got = make_exchange("hyperliquid", api_url=srv.rest_url).publicPostInfo({"type": "meta"})
    assert got == _meta()
    with HyperliquidLoopback(load_sample().take(slice(0, 10)), start=0) as srv:
        assert srv.info({"type": "meta"}) is None  # nothing recorded: not understood (422)


@pytest.mark.parametrize(("symbol", "fixture", "shipped_version"), [
    ("SOL/USDC:USDC", "hyperliquid_meta_eth_sol_2026-09-25.json", "2026-09-25"),
    ("BTC", "hyperliquid_meta_btc_margin_table.json", None),
])
def test_fetched_tables_are_the_shipped_ones_read_from_the_same_recordings(symbol, fixture,
                                                                           shipped_version):
    with _loopback(_meta(fixture)) as srv:
        table = fetch_tier_table("hyperliquid", symbol, rest_url=srv.rest_url, now_ms=NOW_MS)
    coin = symbol.split("/")[0]
    shipped = get_tier_table("hyperliquid", coin, version=shipped_version)
    assert table.tiers == shipped.tiers and table.symbol == coin
    assert table.version == "2026-12-03" and table.verified
    assert "2026-12-03 " in table.source and "UTC" in table.source


@pytest.mark.parametrize(("coin", "lev"), [("ATOM", 5.0), ("MATIC", 20.0)])
def test_an_id_below_50_is_the_implicit_single_tier_table_at_that_leverage(coin, lev):
    with _loopback(_meta()) as srv:  # ATOM: marginTableId 5, maxLeverage 5, not listed
        table = fetch_tier_table("hyperliquid", coin, rest_url=srv.rest_url, now_ms=NOW_MS)
    assert [(t.floor_usd, t.max_leverage, t.mmr) for t in table.tiers] == [(0.0, lev, 0.5 / lev)]
    assert math.isinf(table.tiers[0].cap_usd)
    assert table.verified and "NOT verified" not in table.source
    assert (f"implicit single-tier table {lev:g} (ids below 50 are not listed in meta)"
            in table.source)


def _with_atom(**fields) -> dict:
    """The recorded meta with ATOM's universe entry changed."""
    meta = _meta()
    meta["universe"] = [{**a, **fields} if a["name"] == "ATOM" else a for a in meta["universe"]]
    return meta


@pytest.mark.parametrize("fields", [{"marginTableId": 5, "maxLeverage": 3},   # id != leverage
                                    {"marginTableId": 77, "maxLeverage": 5},  # unlisted >= 50
                                    {"marginTableId": None, "maxLeverage": 5}])  # no table named
def test_another_unlisted_table_is_one_unverified_tier_at_max_leverage(fields):
    with _loopback(_with_atom(**fields)) as srv:
        table = fetch_tier_table("hyperliquid", "ATOM", rest_url=srv.rest_url, now_ms=NOW_MS)
    lev = float(fields["maxLeverage"])
    assert [(t.floor_usd, t.max_leverage, t.mmr) for t in table.tiers] == [(0.0, lev, 0.5 / lev)]
    assert not table.verified and "NOT verified" in table.source
    assert "implicit" not in table.source


def test_malformed_meta_is_a_data_error():
    with _loopback({"universe": "nope"}) as srv, pytest.raises(DataError, match="universe"):
        fetch_tier_table("hyperliquid", "ETH", rest_url=srv.rest_url, now_ms=NOW_MS)


def _eth_tiers(*bounds: str) -> dict:
    """The recorded meta with ETH's table 55 given these lowerBounds (40x, 20x, 10x ...)."""
    meta = _meta()
    meta["marginTables"] = [
        [tid, {**tbl, "marginTiers": [{"lowerBound": b, "maxLeverage": 40 >> i}
                                      for i, b in enumerate(bounds)]} if tid == 55 else tbl]
        for tid, tbl in meta["marginTables"]]
    return meta


@pytest.mark.parametrize(("coin", "meta", "words"), [
    ("ATOM", _with_atom(marginTableId=[5]), "marginTableId must be an integer"),
    ("ATOM", _with_atom(marginTableId={"id": 5}), "marginTableId must be an integer"),
    ("ATOM", _with_atom(marginTableId="5"), "marginTableId must be an integer"),
    ("ATOM", _with_atom(marginTableId=5.5), "marginTableId must be an integer"),
    ("ATOM", _with_atom(marginTableId=77, maxLeverage="lots"), "maxLeverage must be a number"),
    ("ETH", {**_meta(), "marginTables": [[[55], {"marginTiers": []}]]},
     "table id must be an integer"),
    ("ETH", {**_meta(), "marginTables": [[{"id": 55}, {}]]}, "table id must be an integer"),
    ("ETH", {**_meta(), "marginTables": _meta()["marginTables"] * 2}, "table id 54 twice"),
    ("ETH", _eth_tiers("0.0", "1000000.0", "1000000.0"), "margin table 55 is malformed"),
    ("ETH", _eth_tiers("0.0", "5000000.0", "1000000.0"), "margin table 55 is malformed"),
])
def test_a_malformed_table_id_or_bounds_is_a_data_error_naming_it(coin, meta, words):
    with _loopback(meta) as srv, pytest.raises(DataError, match=words) as exc:
        fetch_tier_table("hyperliquid", coin, rest_url=srv.rest_url, now_ms=NOW_MS)
    assert "meta" in str(exc.value.source)


@pytest.mark.parametrize("symbol", ["ETH-USDT-SWAP", "ETH/USDT:USDT", "ETH/", "BTC-PERP"])
def test_refresh_symbols_refuses_what_is_not_a_hyperliquid_coin(symbol):
    with pytest.raises(InputError, match="USDC perpetual"):
        refresh_symbols("hyperliquid", symbol)
