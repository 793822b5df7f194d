"""Shipped tier tables against the venues' own published or recorded tables.

Each fixture under ``fixtures/`` holds a venue answer (or a transcribed venue table) with its
source and date in ``_source``. The answers are parsed with the venue's ccxt parser where ccxt
has one, turned into tiers by :mod:`liqmap.core.tiers`, and compared with the shipped table.
Golden liquidation prices at a tier boundary are worked out by hand in the comments.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liqmap import ConfigError
from liqmap.core.liqprice import liquidation_price, liquidation_result, okx_contracts_to_coin
from liqmap.core.tiers import (
    get_tier_table,
    list_tier_tables,
    tiers_from_leverage_tiers,
    tiers_from_margin_table,
)

FIXTURES = Path(__file__).parent / "fixtures"


def _load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _as_tuples(tiers):
    return [(t.floor_usd, t.cap_usd, t.max_leverage, t.mmr, t.cum_usd) for t in tiers]


# --------------------------------------------------------------------------- OKX


@pytest.fixture(scope="module")
def okx_records() -> list[dict]:
    ccxt = pytest.importorskip("ccxt")
    data = _load("okx_position_tiers_btc_usdt_2026-09-25.json")["response"]["data"]
    return ccxt.okx().parse_market_leverage_tiers(data, None)  # OKX's own ccxt parser


def test_okx_recorded_tier_one_is_the_shipped_tier_one(okx_records):
    table = get_tier_table("okx", version="2026-09-25")
    assert table.version == "2026-09-25" and table is get_tier_table("okx")
    ct_val = table.contract_size  # 0.01 BTC per contract
    recorded = tiers_from_leverage_tiers(okx_records, size_scale=ct_val, open_ended=False)
    # 0 .. 1,000 contracts x 0.01 BTC = 0 .. 10 BTC at mmr 0.4 %, 100x
    assert _as_tuples(recorded) == [(0.0, 10.0, 100.0, 0.004, 0.0)]
    # the shipped table is that tier applied to every size (tiers 2+ not found)
    shipped = tiers_from_leverage_tiers(okx_records, size_scale=ct_val)
    assert _as_tuples(shipped) == _as_tuples(table.tiers)
    info = okx_records[0]["info"]
    assert float(info["imr"]) == pytest.approx(1.0 / table.tiers[0].max_leverage)


def test_okx_golden_at_the_verified_tier_one_cap():
    # 1,000 contracts = 10 BTC (the recorded tier-1 cap) long at 100,000 USDT, 10,000 USDT
    # isolated margin, taker fee 0.05 %. OKX: M + Q (P - EP) = Q P (mmr + fee), so
    # P = (Q EP - M) / (Q (1 - mmr - fee)) = (1,000,000 - 10,000) / (10 x 0.9955)
    #   = 990,000 / 9.955 = 99,447.5138...
    qty = okx_contracts_to_coin(1000)
    res = liquidation_result("okx", "long", 100_000.0, qty, 10_000.0)
    assert res.liquidation_price == pytest.approx(990_000 / 9.955, rel=1e-12)
    assert res.liquidation_price == pytest.approx(99_447.5138, abs=1e-4)
    assert res.tier.mmr == 0.004 and res.table.version == "2026-09-25"


# --------------------------------------------------------------------------- Hyperliquid


def _hl_btc_margin_tiers() -> list[dict]:
    meta = _load("hyperliquid_meta_btc_margin_table.json")["response"]
    btc = next(a for a in meta["universe"] if a["name"] == "BTC")
    tables = dict((tid, tbl) for tid, tbl in meta["marginTables"])
    return tables[btc["marginTableId"]]["marginTiers"]


def test_hyperliquid_recorded_margin_table_is_the_shipped_table():
    parsed = tiers_from_margin_table(_hl_btc_margin_tiers())
    table = get_tier_table("hyperliquid")
    assert _as_tuples(parsed) == _as_tuples(table.tiers)
    # by hand: 40x -> 1/80 = 1.25 %, 20x -> 1/40 = 2.5 %, deduction 150M x 1.25 % = 1.875M
    assert _as_tuples(parsed) == [
        (0.0, 150e6, 40.0, 0.0125, 0.0),
        (150e6, math.inf, 20.0, 0.025, 1_875_000.0),
    ]


def test_hyperliquid_golden_in_tier_two():
    # 2,000 BTC at 100,000 = 200M USDC notional (tier 2), isolated margin C = 10M (20x).
    # Long: C + Q (P - EP) = Q P mmr - ded  =>  P = (Q EP - C - ded) / (Q (1 - mmr))
    #   = (200M - 10M - 1.875M) / (2,000 x 0.975) = 188,125,000 / 1,950 = 96,474.3590
    #   (notional there 192.9M: still tier 2)
    long_ = liquidation_result("hyperliquid", "long", 100_000.0, 2_000.0, 10e6)
    assert long_.liquidation_price == pytest.approx(188_125_000 / 1_950, rel=1e-12)
    assert long_.tier.mmr == 0.025
    # Short: P = (C + Q EP + ded) / (Q (1 + mmr)) = 211,875,000 / 2,050 = 103,353.6585
    short = liquidation_price("hyperliquid", "short", 100_000.0, 2_000.0, 10e6)
    assert short == pytest.approx(211_875_000 / 2_050, rel=1e-12)


def test_hyperliquid_golden_repicks_tier_one_below_the_boundary():
    # 1,600 BTC at 100,000 = 160M (tier 2 at entry), C = 16M (10x). With tier 2 the price
    # would be (160M - 16M - 1.875M) / 1,560 = 91,105.77, where the notional is 145.8M:
    # tier 1. Tier 1: P = (160M - 16M - 0) / (1,600 x 0.9875) = 144,000,000 / 1,580
    #   = 91,139.2405 (notional 145.8M < 150M, consistent)
    res = liquidation_result("hyperliquid", "long", 100_000.0, 1_600.0, 16e6)
    assert res.liquidation_price == pytest.approx(144_000_000 / 1_580, rel=1e-12)
    assert res.tier.mmr == 0.0125 and res.tier.cap_usd == 150e6


# --------------------------------------------------------------------------- Binance COIN-M


def test_binance_coinm_faq_caps_and_leverage_are_the_shipped_brackets():
    faq = _load("binance_coinm_btcusd_perp_faq_brackets.json")["brackets"]
    table = get_tier_table("binance-inverse")
    caps = [b["max_position_btc"] if b["max_position_btc"] is not None else math.inf for b in faq]
    assert [t.cap_usd for t in table.tiers] == caps
    assert [t.max_leverage for t in table.tiers] == [b["max_leverage"] for b in faq]
    for tier, row in zip(table.tiers, faq):
        assert row["initial_margin_rate"] == pytest.approx(1.0 / tier.max_leverage, abs=1e-4)
        assert tier.mmr <= row["initial_margin_rate"] / 2 + 1e-12  # MM never above IM/2


def test_binance_coinm_cum_matches_faq_example_through_the_verified_caps():
    # FAQ example: 300 BTC, bracket 200-400 BTC, MMR 12.5 %, maintenance amount 11.605 BTC =
    # 5(0.5-0.4)% + 10(1-0.5)% + 20(2.5-1)% + 50(5-2.5)% + 100(10-5)% + 200(12.5-10)%
    # = 0.005 + 0.05 + 0.3 + 1.25 + 5 + 5 = 11.605, with the FAQ's caps 5/10/20/50/100/200
    tier = get_tier_table("binance-inverse").tier_for(300.0)
    assert (tier.floor_usd, tier.cap_usd, tier.mmr) == (200.0, 400.0, 0.125)
    assert tier.cum_usd == pytest.approx(11.605, abs=1e-12)


def test_binance_coinm_golden_in_bracket_three():
    # 7,500 contracts x 100 USD = N 750,000 USD; at EP 50,000 that is 15 BTC (bracket 3,
    # 10-20 BTC: MMR 1 %, cum = 5 x 0.1 % + 10 x 0.5 % = 0.055 BTC); wallet 1.5 BTC.
    # LP = N (MMR + s) / (WB + cum + s N / EP)
    # long:  750,000 x 1.01 / (1.5 + 0.055 + 15)  = 757,500 / 16.555 = 45,756.5690
    #        (N / LP = 16.39 BTC: bracket 3 holds)
    # short: 750,000 x -0.99 / (1.5 + 0.055 - 15) = 742,500 / 13.445 = 55,224.9907
    #        (N / LP = 13.58 BTC: bracket 3 holds)
    long_ = liquidation_result("binance-inverse", "long", 50_000.0, 7_500.0, 1.5)
    assert long_.liquidation_price == pytest.approx(757_500 / 16.555, rel=1e-12)
    assert (long_.tier.floor_usd, long_.tier.cap_usd) == (10.0, 20.0)
    short = liquidation_price("binance-inverse", "short", 50_000.0, 7_500.0, 1.5)
    assert short == pytest.approx(742_500 / 13.445, rel=1e-12)


def test_binance_coinm_golden_short_repicks_bracket_two():
    # 5,250 contracts = N 525,000 USD = 10.5 BTC at 50,000 (bracket 3), wallet 1.05 BTC.
    # Bracket 3 gives 519,750 / 9.395 = 55,321.98, where N / LP = 9.49 BTC: bracket 2
    # (5-10 BTC, MMR 0.5 %, cum 0.005). Bracket 2: 525,000 x 0.995 / (10.5 - 1.05 - 0.005)
    #   = 522,375 / 9.445 = 55,307.0408 (N / LP = 9.49 BTC, consistent)
    res = liquidation_result("binance-inverse", "short", 50_000.0, 5_250.0, 1.05)
    assert res.liquidation_price == pytest.approx(522_375 / 9.445, rel=1e-12)
    assert (res.tier.floor_usd, res.tier.mmr, res.tier.cum_usd) == (5.0, 0.005, 0.005)


# --------------------------------------------------------------------------- sources and parsers


def test_new_okx_version_keeps_the_old_one_and_says_what_is_unverified():
    versions = [t.version for t in list_tier_tables()
                if t.venue == "okx" and t.symbol == "BTC-USDT-SWAP"]
    assert versions == ["2024-01-01", "2026-09-25"]
    assert get_tier_table("okx", version="2025-06-30").version == "2024-01-01"
    src = get_tier_table("okx").source
    assert "2026-09-25" in src and "BYTEX-TRADE/bytex@134941fc" in src
    assert "NOT verified" in src
    coinm = get_tier_table("binance-inverse").source
    assert "be2c7d9d95b04a7e8044ed02dd7dfe5c" in coinm and "NOT verified" in coinm


def test_parsers_reject_malformed_records_with_a_clear_message():
    ok = {"minNotional": 0, "maxNotional": 10, "maintenanceMarginRate": 0.01, "maxLeverage": 50}
    gap = {"minNotional": 20, "maxNotional": None, "maintenanceMarginRate": 0.02, "maxLeverage": 20}
    with pytest.raises(ConfigError, match="contiguous"):
        tiers_from_leverage_tiers([ok, gap])
    with pytest.raises(ConfigError, match="field 'maxLeverage' missing or not a number"):
        tiers_from_leverage_tiers([{k: v for k, v in ok.items() if k != "maxLeverage"}])
    with pytest.raises(ConfigError, match="no leverage tiers given"):
        tiers_from_leverage_tiers([])
    with pytest.raises(ConfigError, match="ascending lowerBound"):
        tiers_from_margin_table([{"lowerBound": "5", "maxLeverage": 10},
                                 {"lowerBound": "0", "maxLeverage": 20}])
    with pytest.raises(ConfigError, match="start at 0"):
        tiers_from_margin_table([{"lowerBound": "5", "maxLeverage": 10}])
    with pytest.raises(ConfigError, match="no repeats"):  # a repeated bound: an empty tier
        tiers_from_margin_table([{"lowerBound": "0", "maxLeverage": 40},
                                 {"lowerBound": "1e6", "maxLeverage": 20},
                                 {"lowerBound": "1e6", "maxLeverage": 10}])


@st.composite
def _ladders(draw):
    n = draw(st.integers(1, 8))
    widths = draw(st.lists(st.floats(1.0, 1e6), min_size=n, max_size=n))
    rates = sorted(draw(st.lists(st.floats(1e-4, 0.5), min_size=n, max_size=n)))
    floors = [0.0]
    for w in widths[:-1]:
        floors.append(floors[-1] + w)
    caps = floors[1:] + [None]
    return [{"minNotional": f, "maxNotional": c, "maintenanceMarginRate": r,
             "maxLeverage": 1.0 / (2 * r)} for f, c, r in zip(floors, caps, rates)]


@given(recs=_ladders(), frac=st.floats(0.0, 1.0))
def test_parsed_maintenance_margin_is_the_sum_of_marginal_rates(recs, frac):
    # MM(n) = sum over tiers of mmr_k x (part of [0, n] inside tier k): what the cum
    # recurrence encodes, checked on random ladders parsed from ccxt-shaped records.
    tiers = tiers_from_leverage_tiers(recs)
    n = frac * (tiers[-1].floor_usd + 1e6)
    expected = sum(t.mmr * max(0.0, min(n, t.cap_usd) - t.floor_usd) for t in tiers)
    tier = next(t for t in tiers if n < t.cap_usd)
    assert tier.maintenance_margin(n) == pytest.approx(expected, rel=1e-9, abs=1e-6)
