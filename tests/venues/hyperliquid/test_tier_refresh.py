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


def test_a_table_the_answer_names_but_does_not_list_is_one_unverified_tier():
    with _loopback(_meta()) as srv:  # ATOM: marginTableId 5, not in marginTables; maxLeverage 5
        table = fetch_tier_table("hyperliquid", "ATOM", rest_url=srv.rest_url, now_ms=NOW_MS)
    assert [(t.floor_usd, t.max_leverage, t.mmr) for t in table.tiers] == [(0.0, 5.0, 0.1)]
    assert math.isinf(table.tiers[0].cap_usd)
    assert not table.verified and "NOT verified" in table.source


def test_malformed_meta_is_a_data_error():
    with _loopback({"universe": "nope"}) as srv, pytest.raises(DataError, match="universe"):
        fetch_tier_table("hyperliquid", "ETH", rest_url=srv.rest_url, now_ms=NOW_MS)


@pytest.mark.parametrize("symbol", ["ETH-USDT-SWAP", "ETH/USDT:USDT", "ETH/", "BTC-PERP"])
def test_refresh_symbols_refuses_what_is_not_a_hyperliquid_coin(symbol):
    with pytest.raises(InputError, match="USDC perpetual"):
        refresh_symbols("hyperliquid", symbol)
