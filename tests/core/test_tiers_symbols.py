"""ETH and SOL tier tables against the recorded venue answers they were read from.

Each fixture under ``fixtures/`` holds a recorded answer with its source and date in
``_source``. Round trips: answer -> tiers (ccxt's own parser where ccxt has one) -> the shipped
table. Golden liquidation prices are worked out by hand in the comments (the venues publish
no ETH or SOL worked example; METHOD.md's examples are BTC's, pinned in test_liqprice.py).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from liqmap import ConfigError
from liqmap.core.liqprice import liquidation_result, max_leverage, okx_contracts_to_coin
from liqmap.core.tiers import (
    MISSING,
    get_tier_table,
    list_tier_tables,
    tier_symbols,
    tiers_from_leverage_tiers,
    tiers_from_margin_table,
)

FIXTURES = Path(__file__).parent / "fixtures"
NATIVE = {"binance": "{c}USDT", "bybit": "{c}USDT", "okx": "{c}-USDT-SWAP", "hyperliquid": "{c}"}


def _load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _as_tuples(tiers):
    return [(t.floor_usd, t.cap_usd, t.max_leverage, t.mmr, t.cum_usd) for t in tiers]


# --------------------------------------------------------------------------- coverage


@pytest.mark.parametrize("coin", ["BTC", "ETH", "SOL"])
@pytest.mark.parametrize("venue", list(NATIVE))
def test_every_venue_and_coin_is_shipped_or_listed_missing(venue, coin):
    sym = NATIVE[venue].format(c=coin)
    shipped = sym in tier_symbols(venue)
    assert shipped != ((venue, sym) in MISSING)
    if not shipped:
        with pytest.raises(ConfigError, match=r"not shipped: no recorded venue answer.*shipped "
                                              r"symbols: "):
            get_tier_table(venue, sym)


def test_verified_tables_are_the_fully_recorded_ones():
    verified = {(t.venue, t.symbol, t.version) for t in list_tier_tables() if t.verified}
    assert verified == {
        ("binance", "ETHUSDT", "2026-09-29"), ("binance", "SOLUSDT", "2026-09-29"),
        ("hyperliquid", "BTC", "2025-01-01"), ("hyperliquid", "ETH", "2026-09-25"),
        ("hyperliquid", "SOL", "2026-09-25"),
    }
    okx_eth = get_tier_table("okx", "ETH-USDT-SWAP")
    assert not okx_eth.verified and "NOT verified" in okx_eth.source


def test_btc_defaults_are_unchanged():
    assert (get_tier_table("binance").symbol, get_tier_table("binance").version) == (
        "BTCUSDT", "2024-10-24")
    assert get_tier_table("hyperliquid").symbol == "BTC"
    assert get_tier_table("okx").symbol == "BTC-USDT-SWAP"


@pytest.mark.parametrize(
    ("venue", "given", "native"),
    [("binance", "ETH/USDT:USDT", "ETHUSDT"), ("binance", "solusdt", "SOLUSDT"),
     ("okx", "ETH/USDT:USDT", "ETH-USDT-SWAP"), ("hyperliquid", "SOL/USDC:USDC", "SOL"),
     ("hyperliquid", "eth", "ETH")],
)
def test_ccxt_and_lower_case_symbols_are_aliases(venue, given, native):
    assert get_tier_table(venue, given).symbol == native


@pytest.mark.parametrize("given", ["kPEPE/USDC:USDC", "kPEPE", "KPEPE/USDC:USDC", "kpepe"])
def test_a_stored_mixed_case_hyperliquid_coin_is_found_from_its_symbols(given):
    """Hyperliquid spells some coins mixed-case: ``liqmap tiers --refresh`` stores ``kPEPE``,
    and its ccxt symbol (or the coin in another case) finds that table."""
    from dataclasses import replace

    from liqmap.core.tiers import build_tiers

    kpepe = replace(get_tier_table("hyperliquid"), symbol="kPEPE", version="2026-10-01",
                    source="fetched", tiers=build_tiers(((0, math.inf, 10, 0.05),)))
    other = replace(kpepe, symbol="PEPE", tiers=build_tiers(((0, math.inf, 5, 0.1),)))
    assert get_tier_table("hyperliquid", given, stored=[other, kpepe]) == kpepe
    assert get_tier_table("hyperliquid", "PEPE/USDC:USDC", stored=[kpepe, other]) == other
    with pytest.raises(ConfigError, match="no tier table for hyperliquid"):
        get_tier_table("hyperliquid", given, stored=[other])


def test_unknown_symbol_lists_the_shipped_ones():
    with pytest.raises(ConfigError, match="shipped symbols: BTCUSDT, ETHUSDT, SOLUSDT"):
        get_tier_table("binance", "DOGEUSDT")
    with pytest.raises(ConfigError, match="no binance ETHUSDT tier table in force on 2026-01-01"):
        get_tier_table("binance", "ETHUSDT", version="2026-01-01")


# --------------------------------------------------------------------------- Binance


@pytest.mark.parametrize(("ccxt_symbol", "native"),
                         [("ETH/USDT:USDT", "ETHUSDT"), ("SOL/USDT:USDT", "SOLUSDT")])
def test_binance_recorded_brackets_are_the_shipped_table(ccxt_symbol, native):
    data = _load("binance_leverage_tiers_eth_sol_usdt_2026-09-29.json")
    records = data["response"][ccxt_symbol]
    table = get_tier_table("binance", native)
    assert table.version == data["_source"]["recorded"] == "2026-09-29"
    assert _as_tuples(tiers_from_leverage_tiers(records)) == _as_tuples(table.tiers)
    # Binance's own maintenance amount per bracket is the recurrence's cum
    for tier, rec in zip(table.tiers, records, strict=True):
        assert tier.cum_usd == pytest.approx(float(rec["info"]["cum"]), abs=1e-6)
        assert tier.max_leverage == float(rec["info"]["initialLeverage"])
    assert math.isinf(table.tiers[-1].cap_usd)  # last recorded cap extended


def test_binance_eth_golden_repicks_bracket_one():
    # 90 ETH long at 3,500 = 315,000 USDT (bracket 2: 300k-800k, MMR 0.5 %, cum 300), isolated
    # wallet 31,500 (10x). LP = (WB + cum - s Q EP) / (Q MMR - s Q).
    # Bracket 2: (31,500 + 300 - 315,000) / (0.45 - 90) = 3,162.48, notional 284.6k: bracket 1.
    # Bracket 1 (MMR 0.4 %, cum 0): (31,500 - 315,000) / (0.36 - 90) = 283,500 / 89.64
    #   = 3,162.6506 (notional 284,638.6 < 300k, consistent)
    res = liquidation_result("binance", "long", 3_500.0, 90.0, 31_500.0,
                             table=get_tier_table("binance", "ETHUSDT"))
    assert res.liquidation_price == pytest.approx(283_500 / 89.64, rel=1e-12)
    assert (res.tier.mmr, res.tier.cap_usd) == (0.004, 300e3)


def test_binance_eth_golden_short_in_bracket_two():
    # 100 ETH short at 3,500 = 350,000 (bracket 2), wallet 35,000:
    # (35,000 + 300 + 350,000) / (0.5 + 100) = 385,300 / 100.5 = 3,833.8308 (383.4k: bracket 2)
    res = liquidation_result("binance", "short", 3_500.0, 100.0, 35_000.0,
                             table=get_tier_table("binance", "ETH/USDT:USDT"))
    assert res.liquidation_price == pytest.approx(385_300 / 100.5, rel=1e-12)
    assert res.tier.cum_usd == 300.0


def test_binance_sol_golden_and_max_leverage():
    # 100 SOL long at 150 = 15,000 (bracket 1: 0-50k, MMR 0.5 %, 100x), wallet 1,500:
    # (1,500 - 15,000) / (0.5 - 100) = 13,500 / 99.5 = 135.6784
    sol = get_tier_table("binance", "SOLUSDT")
    res = liquidation_result("binance", "long", 150.0, 100.0, 1_500.0, table=sol)
    assert res.liquidation_price == pytest.approx(13_500 / 99.5, rel=1e-12)
    assert max_leverage("binance", table=sol) == 100.0
    assert max_leverage("binance", 1e6, table=sol) == 25.0  # 1M opens bracket 4 (1M-4M, 25x)


# --------------------------------------------------------------------------- OKX


def test_okx_recorded_eth_tier_one_is_the_shipped_tier_one():
    ccxt = pytest.importorskip("ccxt")
    data = _load("okx_position_tiers_eth_usdt_2026-09-25.json")["response"]["data"]
    records = ccxt.okx().parse_market_leverage_tiers(data, None)  # OKX's own ccxt parser
    table = get_tier_table("okx", "ETH-USDT-SWAP")
    assert (table.version, table.contract_size, table.notional_unit) == ("2026-09-25", 0.1, "coin")
    recorded = tiers_from_leverage_tiers(records, size_scale=table.contract_size, open_ended=False)
    # 0 .. 5,000 contracts x 0.1 ETH = 0 .. 500 ETH at mmr 0.4 %, 100x
    assert _as_tuples(recorded) == [(0.0, 500.0, 100.0, 0.004, 0.0)]
    shipped = tiers_from_leverage_tiers(records, size_scale=table.contract_size)
    assert _as_tuples(shipped) == _as_tuples(table.tiers)


def test_okx_eth_golden_at_the_recorded_tier_one_cap():
    # 5,000 contracts = 500 ETH long at 3,000, isolated 150,000 USDT (10x), taker fee 0.05 %:
    # P = (Q EP - M) / (Q (1 - mmr - fee)) = 1,350,000 / (500 x 0.9955) = 2,712.2049
    table = get_tier_table("okx", "ETH-USDT-SWAP")
    qty = okx_contracts_to_coin(5_000, table.contract_size)
    res = liquidation_result("okx", "long", 3_000.0, qty, 150_000.0, table=table)
    assert qty == 500.0
    assert res.liquidation_price == pytest.approx(1_350_000 / 497.75, rel=1e-12)


# --------------------------------------------------------------------------- Hyperliquid


def _hl_margin_tiers(coin: str) -> list[dict]:
    meta = _load("hyperliquid_meta_eth_sol_2026-09-25.json")["response"]
    asset = next(a for a in meta["universe"] if a["name"] == coin)
    tables = dict((tid, tbl) for tid, tbl in meta["marginTables"])
    return tables[asset["marginTableId"]]["marginTiers"]


@pytest.mark.parametrize(("coin", "expected"), [
    # 25x -> 1/50 = 2 %, 15x -> 1/30; deduction 100M x (1/30 - 1/50) = 1,333,333.33
    ("ETH", [(0.0, 100e6, 25.0, 0.02, 0.0), (100e6, math.inf, 15.0, 0.5 / 15, 100e6 / 75)]),
    # 20x -> 2.5 %, 10x -> 5 %; deduction 70M x 2.5 % = 1.75M
    ("SOL", [(0.0, 70e6, 20.0, 0.025, 0.0), (70e6, math.inf, 10.0, 0.05, 1_750_000.0)]),
    ("BTC", [(0.0, 150e6, 40.0, 0.0125, 0.0), (150e6, math.inf, 20.0, 0.025, 1_875_000.0)]),
])
def test_hyperliquid_recorded_margin_tables_are_the_shipped_tables(coin, expected):
    parsed = tiers_from_margin_table(_hl_margin_tiers(coin))
    table = get_tier_table("hyperliquid", coin)
    assert _as_tuples(parsed) == _as_tuples(table.tiers)
    for got, want in zip(_as_tuples(parsed), expected, strict=True):
        assert got == pytest.approx(want, rel=1e-12)


def test_hyperliquid_eth_golden_in_tier_two():
    # 40,000 ETH long at 3,000 = 120M USDC (tier 2), isolated C = 12M (10x):
    # P = (Q EP - C - ded) / (Q (1 - mmr)) = (120M - 12M - 1,333,333.33) / (40,000 x 29/30)
    #   = 2,758.6207 (notional 110.3M: tier 2 holds)
    res = liquidation_result("hyperliquid", "long", 3_000.0, 40_000.0, 12e6,
                             table=get_tier_table("hyperliquid", "ETH"))
    expected = (120e6 - 12e6 - 100e6 / 75) / (40_000 * 29 / 30)
    assert res.liquidation_price == pytest.approx(expected, rel=1e-12)
    assert res.tier.max_leverage == 15.0


def test_hyperliquid_sol_golden_ten_x():
    # 1 SOL long at 150, isolated 15 (10x), tier 1 mmr 2.5 %: P = 135 / 0.975 = 138.4615
    res = liquidation_result("hyperliquid", "long", 150.0, 1.0, 15.0,
                             table=get_tier_table("hyperliquid", "SOL"))
    assert res.liquidation_price == pytest.approx(135 / 0.975, rel=1e-12)
