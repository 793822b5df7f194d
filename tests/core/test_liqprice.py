"""Liquidation prices: exchange worked examples, independent derivations, properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from liqmap import ConfigError
from liqmap.core.liqprice import (
    OKX_TAKER_FEE,
    isolated_liq_factors,
    liquidation_price,
    liquidation_result,
    okx_contracts_to_coin,
)
from liqmap.core.tiers import VENUES, get_tier_table

# ----------------------------------------------------------------- golden values


def test_binance_method_golden_long_and_short():
    assert liquidation_price("binance", "long", 100_000, 0.1, 1_000) == pytest.approx(90_361.45, abs=0.005)
    assert liquidation_price("binance", "short", 100_000, 0.1, 1_000) == pytest.approx(109_561.75, abs=0.005)


@pytest.mark.parametrize("lev", [2, 5, 10, 20, 50, 100, 125])
def test_binance_isolated_tier_one_closed_forms(lev):
    ep, mmr = 60_000.0, 0.004
    qty = 40_000.0 / ep / 2  # 20,000 USDT notional: tier 1 at entry and at either liquidation price
    margin = qty * ep / lev
    long_lp = liquidation_price("binance", "long", ep, qty, margin)
    short_lp = liquidation_price("binance", "short", ep, qty, margin)
    assert long_lp == pytest.approx(ep * (1 - 1 / lev) / (1 - mmr), rel=1e-12)
    assert short_lp == pytest.approx(ep * (1 + 1 / lev) / (1 + mmr), rel=1e-12)


def test_binance_bracket_repick_short():
    # 0.49 BTC short at 100,000 (49,000 USDT, bracket 1) with 20x margin 2,450 USDT.
    # Bracket 1 gives LP = (2450 + 49000)/(0.49*1.004) = 104,577.7 -> notional 51,243 (bracket 2),
    # so the rule re-picks bracket 2 (MMR 0.5 %, cum 50):
    ep, qty, wb = 100_000.0, 0.49, 2_450.0
    res = liquidation_result("binance", "short", ep, qty, wb)
    expected = (wb + 50 + qty * ep) / (qty * 0.005 + qty)
    assert res.liquidation_price == pytest.approx(expected, rel=1e-12)
    assert res.liquidation_price == pytest.approx(104_579.15, abs=0.01)
    assert (res.tier.mmr, res.tier.cum_usd) == (0.005, 50)
    naive = (wb + qty * ep) / (qty * 0.004 + qty)
    assert qty * naive > 50_000  # bracket 1's answer lies outside bracket 1


def test_binance_bracket_repick_long_to_lower_bracket():
    # 0.51 BTC long at 100,000 (51,000 USDT, bracket 2) at 10x: bracket 2 gives LP 90,353.7,
    # notional 46,080 < 50k, so the rule re-picks bracket 1
    res = liquidation_result("binance", "long", 100_000, 0.51, 5_100)
    assert (res.tier.mmr, res.tier.cum_usd) == (0.004, 0)
    assert res.liquidation_price == pytest.approx((5_100 - 51_000) / (0.51 * 0.004 - 0.51), rel=1e-12)
    assert 0.51 * (5_100 + 50 - 51_000) / (0.51 * 0.005 - 0.51) < 50_000


def test_binance_cross_margin_arguments():
    # cross: WB 5,000, other positions' MM 1,000 and uPnL -500 -> effective 3,500
    lp = liquidation_price("binance", "long", 100_000, 0.1, 5_000, tmm=1_000, upnl=-500)
    assert lp == pytest.approx(liquidation_price("binance", "long", 100_000, 0.1, 3_500), rel=1e-12)
    assert lp == pytest.approx((3_500 - 10_000) / (0.1 * 0.004 - 0.1), rel=1e-12)


def test_binance_2021_table_version():
    table = get_tier_table("binance", version="2021-06-01")
    # 5 BTC short at 100,000 (500k USDT) at 10x; LP notional ~ 546k. The 2021 table puts it in
    # bracket 3 (250k-1M, 1 %, cum 1,300); the 2024 table in bracket 2 (50k-600k, 0.5 %, cum 50).
    res = liquidation_result("binance", "short", 100_000, 5.0, 50_000, table=table)
    assert (res.tier.mmr, res.tier.cum_usd) == (0.01, 1_300)
    assert res.liquidation_price == pytest.approx((50_000 + 1_300 + 500_000) / (5 * 0.01 + 5), rel=1e-12)
    new = liquidation_result("binance", "short", 100_000, 5.0, 50_000)
    assert (new.tier.mmr, new.tier.cum_usd) == (0.005, 50)
    assert new.liquidation_price > res.liquidation_price  # the tighter 2021 table liquidates sooner


def test_bybit_doc_example():
    # Bybit: 1 BTC long at 20,000, 50x, MMR 0.5 % -> IM 400, MM 100 -> 19,700
    assert liquidation_price("bybit", "long", 20_000, 1.0, 400) == pytest.approx(19_700, abs=1e-9)
    assert liquidation_price("bybit", "short", 20_000, 1.0, 400) == pytest.approx(20_300, abs=1e-9)


def test_bybit_tier_two_uses_deduction():
    # 3M USDT position at 30,000 (100 BTC), 20x: tier 2 (MMR 1 %, deduction 10,000)
    res = liquidation_result("bybit", "long", 30_000, 100.0, 150_000)
    mm = 3e6 * 0.01 - 10_000
    assert res.liquidation_price == pytest.approx(30_000 - (150_000 - mm) / 100, rel=1e-12)


def test_hyperliquid_doc_example():
    lp = liquidation_price("hyperliquid", "long", 100_000, 1.0, 10_000)
    assert lp == pytest.approx(91_139.24, abs=0.005)
    # short mirrored: 100,000 + 8,750 / (1 + 0.0125)
    assert liquidation_price("hyperliquid", "short", 100_000, 1.0, 10_000) == pytest.approx(
        100_000 + 8_750 / 1.0125, rel=1e-12
    )


def test_hyperliquid_mark_price_form_equals_entry_form():
    # equity at mark = isolated margin + uPnL; the formula at mark gives the same price
    ep, mark, qty, margin = 100_000.0, 97_000.0, 2.0, 25_000.0
    equity = margin + qty * (mark - ep)
    at_mark = liquidation_price("hyperliquid", "long", ep, qty, equity, mark_price=mark)
    assert at_mark == pytest.approx(liquidation_price("hyperliquid", "long", ep, qty, margin), rel=1e-12)
    # the docs' form: liq = price - side * margin_available / size / (1 - l * side)
    ma = equity - qty * mark * 0.0125
    assert at_mark == pytest.approx(mark - ma / qty / (1 - 0.0125), rel=1e-12)


def test_hyperliquid_second_tier_above_150m():
    # 2,000 BTC at 100,000 = 200M notional at 10x: short LP notional > 150M -> tier 2 (2.5 %)
    res = liquidation_result("hyperliquid", "short", 100_000, 2_000.0, 20e6)
    assert res.tier.mmr == 0.025
    ded = 150e6 * 0.0125
    assert res.liquidation_price == pytest.approx((20e6 + ded + 2e8) / (2_000 * 1.025), rel=1e-12)


def test_okx_fee_folded_in():
    qty = okx_contracts_to_coin(100)  # 1 BTC
    assert qty == 1.0
    ep, margin, mmr, fee = 100_000.0, 10_000.0, 0.004, OKX_TAKER_FEE
    long_lp = liquidation_price("okx", "long", ep, qty, margin)
    short_lp = liquidation_price("okx", "short", ep, qty, margin)
    assert long_lp == pytest.approx((ep - margin) / (1 - mmr - fee), rel=1e-12)
    assert short_lp == pytest.approx((ep + margin) / (1 + mmr + fee), rel=1e-12)
    # equity at the liquidation price equals maintenance margin plus the fee to close
    assert margin + qty * (long_lp - ep) == pytest.approx(qty * long_lp * (mmr + fee), rel=1e-12)
    no_fee = liquidation_price("okx", "long", ep, qty, margin, taker_fee=0.0)
    assert no_fee == pytest.approx((ep - margin) / (1 - mmr), rel=1e-12) and no_fee < long_lp


def _inverse_equity_gap(side, ep, contracts, wallet_btc, price, mmr, cum):
    """Independent check: equity in BTC minus maintenance margin in BTC at ``price``."""
    n_usd = contracts * 100.0
    pnl_btc = n_usd * (1 / ep - 1 / price) * (1 if side == "long" else -1)
    mm_btc = n_usd / price * mmr - cum
    return wallet_btc + pnl_btc - mm_btc


@pytest.mark.parametrize("side", ["long", "short"])
def test_binance_inverse_matches_coin_pnl_derivation(side):
    # 1,000 contracts (100,000 USD) at 50,000 = 2 BTC notional (bracket 1), 20x -> 0.1 BTC
    ep, contracts, wallet = 50_000.0, 1_000.0, 0.1
    res = liquidation_result("binance-inverse", side, ep, contracts, wallet)
    gap = _inverse_equity_gap(side, ep, contracts, wallet, res.liquidation_price, res.tier.mmr,
                              res.tier.cum_usd)
    assert gap == pytest.approx(0.0, abs=1e-12)
    s = 1 if side == "long" else -1
    closed = 1e5 * (0.004 + s) / (wallet + s * 1e5 / ep)
    assert res.liquidation_price == pytest.approx(closed, rel=1e-12)
    assert res.liquidation_price == pytest.approx(47_809.52 if s > 0 else 52_421.05, abs=0.01)


def test_binance_inverse_bracket_repick_and_unliquidatable_short():
    # 60,000 contracts (6M USD) at 50,000 = 120 BTC (bracket 6), 4x long: LP notional ~ 150+ BTC
    res = liquidation_result("binance-inverse", "long", 50_000, 60_000, 30.0)
    n_btc_at_lp = 6e6 / res.liquidation_price
    assert res.tier.floor_usd <= n_btc_at_lp < res.tier.cap_usd
    assert _inverse_equity_gap("long", 50_000, 60_000, 30.0, res.liquidation_price, res.tier.mmr,
                               res.tier.cum_usd) == pytest.approx(0.0, abs=1e-9)
    # a 1x short holds as much BTC as it is short: never liquidated
    assert liquidation_price("binance-inverse", "short", 50_000, 1_000, 2.0) == math.inf


def test_never_liquidated_long_returns_zero():
    assert liquidation_price("binance", "long", 100_000, 0.1, 10_000) == 0.0  # 1x long
    assert liquidation_price("hyperliquid", "long", 100_000, 0.1, 20_000) == 0.0


def test_bankruptcy_prices():
    res = liquidation_result("binance", "long", 100_000, 0.1, 1_000)
    assert res.bankruptcy_price == pytest.approx(90_000)
    res = liquidation_result("binance-inverse", "long", 50_000, 1_000, 0.1)
    assert res.bankruptcy_price == pytest.approx(1 / (1 / 50_000 + 0.1 / 1e5))


# ----------------------------------------------------------------- factors


def test_factors_binance_closed_forms_and_price_independence():
    levs = np.array([2.0, 10.0, 50.0, 125.0])
    lo, sh = isolated_liq_factors("binance", levs, 20_000.0)
    assert lo == pytest.approx((1 - 1 / levs) / (1 - 0.004), rel=1e-12)
    assert sh == pytest.approx((1 + 1 / levs) / (1 + 0.004), rel=1e-12)
    for ep in (3_000.0, 65_432.1, 250_000.0):
        direct = [liquidation_price("binance", "long", ep, 20_000 / ep, 20_000 / lv) / ep for lv in levs]
        assert lo == pytest.approx(direct, rel=1e-12)


def test_factors_edge_values():
    lo, sh = isolated_liq_factors("binance", [1.0, 0.5], 10_000.0)
    assert list(lo) == [0.0, 0.0]
    lo, sh = isolated_liq_factors("binance-inverse", [1.0], 10_000.0, reference_price_usd=50_000)
    assert sh[0] == math.inf and 0 < lo[0] < 1


def test_factors_inverse_need_reference_price():
    with pytest.raises(ConfigError, match="pass reference_price_usd"):
        isolated_liq_factors("binance-inverse", [10.0], 10_000.0)


@pytest.mark.parametrize("venue", VENUES)
@settings(max_examples=40, deadline=None)
@given(notional=st.floats(1e3, 5e8), lev=st.floats(1.0, 125.0), price=st.floats(1e3, 5e5))
def test_factors_consistent_with_liquidation_price(venue, notional, lev, price):
    lo, sh = isolated_liq_factors(venue, [lev], notional, reference_price_usd=price)
    for side, f in (("long", lo[0]), ("short", sh[0])):
        if venue == "binance-inverse":
            lp = liquidation_price(venue, side, price, notional / 100, notional / price / lev)
        else:
            lp = liquidation_price(venue, side, price, notional / price, notional / lev)
        if math.isinf(f):
            assert math.isinf(lp)
        else:
            assert f * price == pytest.approx(lp, rel=1e-9, abs=1e-9)


# ----------------------------------------------------------------- properties


def _valid_position(venue, notional_usd, price):
    table = get_tier_table(venue)
    size = notional_usd / price if table.notional_unit == "coin" else notional_usd
    return table.tier_for(size).max_leverage


@pytest.mark.parametrize("venue", VENUES)
@settings(max_examples=60, deadline=None)
@given(notional=st.floats(100.0, 2e9), price=st.floats(100.0, 1e6), u=st.floats(0.0, 1.0))
def test_long_liq_below_entry_below_short_liq(venue, notional, price, u):
    max_lev = _valid_position(venue, notional, price)
    assume(max_lev >= 1.5)
    lev = 1.5 + u * (max_lev - 1.5)
    if venue == "binance-inverse":
        qty, margin = notional / 100, notional / price / lev
    else:
        qty, margin = notional / price, notional / lev
    long_lp = liquidation_price(venue, "long", price, qty, margin)
    short_lp = liquidation_price(venue, "short", price, qty, margin)
    assert 0.0 <= long_lp < price < short_lp


# ----------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"venue": "ftx"}, "unknown venue 'ftx'; use one of: binance"),
        ({"side": "up"}, "side must be 'long' or 'short', got 'up'"),
        ({"qty": 0.0}, "qty must be a finite number > 0"),
        ({"qty": -1.0}, "qty must be a finite number > 0"),
        ({"entry_price": float("nan")}, "entry_price must be a finite number > 0"),
        ({"margin": float("nan")}, "margin must be a finite number >= 0"),
        ({"margin": -5.0}, "margin must be a finite number >= 0"),
    ],
)
def test_bad_input_raises_config_error(kwargs, message):
    args = {"venue": "binance", "side": "long", "entry_price": 100_000.0, "qty": 0.1, "margin": 1_000.0}
    args.update(kwargs)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        liquidation_price(**args)


def test_bad_options_raise_config_error():
    with pytest.raises(ConfigError,
                       match=r"unknown option\(s\) \['taker_fee'\] for binance; allowed: tmm, upnl"):
        liquidation_price("binance", "long", 1e5, 0.1, 1e3, taker_fee=0.001)
    with pytest.raises(ConfigError, match="taker_fee is a fraction"):
        liquidation_price("okx", "long", 1e5, 0.1, 1e3, taker_fee=5.0)
    with pytest.raises(ConfigError, match="tier table is for 'bybit', not 'binance'"):
        liquidation_price("binance", "long", 1e5, 0.1, 1e3, table=get_tier_table("bybit"))
    with pytest.raises(ConfigError, match="leverages must be finite and > 0"):
        isolated_liq_factors("binance", [10.0, float("nan")], 1e4)
    with pytest.raises(ConfigError, match="position_notional_usd must be a finite number > 0"):
        isolated_liq_factors("binance", [10.0], -1.0)


# ----------------------------------------------------------------- venue limits


def test_max_leverage_is_the_first_tier_or_the_tier_of_the_size():
    from liqmap.core.liqprice import max_leverage

    assert [max_leverage(v) for v in VENUES] == [125.0, 125.0, 100.0, 100.0, 40.0]
    assert max_leverage("binance", 1e6) == 75.0 and max_leverage("binance", 49_999.0) == 125.0
    assert max_leverage("binance", table=get_tier_table("binance", version="2022-01-01")) == 125.0


@pytest.mark.parametrize(("venue", "entry", "qty"), [
    ("binance", 100_000.0, 0.1), ("bybit", 100_000.0, 1.0), ("okx", 100_000.0, 1.0),
    ("hyperliquid", 100_000.0, 1.0), ("binance-inverse", 50_000.0, 1_000.0)])
def test_leverage_exactly_at_the_venue_maximum_is_accepted_and_above_refused(venue, entry, qty):
    from liqmap.core.liqprice import check_position_leverage, max_leverage

    top = max_leverage(venue)
    notional = qty * 100 / entry if venue == "binance-inverse" else qty * entry
    assert check_position_leverage(venue, entry, qty, notional / top) == pytest.approx(top)
    assert liquidation_price(venue, "long", entry, qty, notional / top) < entry
    with pytest.raises(ConfigError, match=f"{venue}'s maximum leverage of {top:g}x"):
        check_position_leverage(venue, entry, qty, notional / (top * 1.01), name="--leverage")


def test_leverage_above_the_tier_of_a_large_position_is_refused():
    from liqmap.core.liqprice import check_position_leverage

    with pytest.raises(ConfigError, match=r"maximum leverage of 50x for a position of "
                                          r"10,000,000 USD \(125x only up to 50,000 USD\)"):
        check_position_leverage("binance", 100_000, 100, 1e7 / 75)
    with pytest.raises(ConfigError, match=r"\(infx\)"):
        check_position_leverage("binance", 100_000, 0.1, 0.0)


@pytest.mark.parametrize(("qty", "entry"), [(1e300, 1e5), (1e8, 1e5), (1e-320, 1e5)])
def test_notional_beyond_any_market_is_refused_not_never_liquidated(qty, entry):
    with pytest.raises(ConfigError, match="position notional"):
        liquidation_price("binance", "long", entry, qty, 1_000.0)
    with pytest.raises(ConfigError, match="position notional"):
        liquidation_price("binance-inverse", "short", entry, 1e11, 1.0)


@pytest.mark.parametrize("venue", VENUES)
@settings(max_examples=60, deadline=None)
@given(notional=st.floats(10.0, 5e9), price=st.floats(100.0, 1e6), lev=st.floats(1.0, 1e4))
def test_every_accepted_position_has_long_liq_below_entry_below_short_liq(venue, notional,
                                                                          price, lev):
    from liqmap.core.liqprice import check_position_leverage

    if venue == "binance-inverse":
        qty, margin = notional / 100, notional / price / lev
    else:
        qty, margin = notional / price, notional / lev
    try:
        check_position_leverage(venue, price, qty, margin)
    except ConfigError as exc:
        assert "maximum leverage" in str(exc)
        return
    long_lp = liquidation_price(venue, "long", price, qty, margin)
    short_lp = liquidation_price(venue, "short", price, qty, margin)
    assert 0.0 <= long_lp < price < short_lp
