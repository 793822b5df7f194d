"""Cascade kernel: parity with its NumPy twin, venue rules, and the invariants as properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqmap._exceptions import ConfigError
from liqmap.core.cascade_kernels import (
    BINANCE_RULES,
    HYPERLIQUID_RULES,
    MARKET_RULES,
    VenueRules,
    build_level_book,
    rules_for,
    simulate,
)
from liqmap.core.impact import (
    BookImpact,
    DepthProfileImpact,
    SqrtImpact,
    decay_per_step,
    impact_frac,
)
from liqmap.core.records import LiqMap

P0 = 100_000.0
SQRT = SqrtImpact(0.8, 0.02, 2e9)
DEPTH = DepthProfileImpact(2e8, 1.0, withdrawal=0.5)
BOOK = BookImpact.from_snapshot([99_999.0, 99_990.0, 99_950.0], [10.0, 20.0, 50.0],
                                [100_001.0, 100_010.0, 100_050.0], [10.0, 20.0, 50.0],
                                beyond_beta=1.0)
MODELS = [SQRT, DEPTH, BOOK]


def _map(seed=0, n=801, scale=3e6, venue="binance", price=P0):
    rng = np.random.default_rng(seed)
    bins = np.linspace(0.7 * price, 1.3 * price, n)
    w = rng.gamma(0.6, 1.0, n) * scale
    return LiqMap(0, price, bins, np.where(bins < price, w, 0.0), np.where(bins > price, w, 0.0),
                  venue=venue)


def _run(maps, shock_pct, *, rules=None, model=SQRT, decay=1.0, engine="numba", max_steps=720):
    book = build_level_book(maps)
    rules = rules or {v: rules_for(v) for v in book.venues}
    path = np.log1p(np.atleast_1d(np.asarray(shock_pct, float)) / 100.0)
    return book, simulate(book, path, rules=rules, model=model, decay=decay, engine=engine,
                          max_steps=max_steps)


def _total(out):
    return out.liq_long_usd.sum() + out.liq_short_usd.sum()


TWO = {"binance": _map(1), "hyperliquid": _map(2, scale=1e6, venue="hyperliquid", price=P0 * 1.001)}


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
@pytest.mark.parametrize("shock", [-6.0, -2.0, 0.0, 1.5, 4.0])
@pytest.mark.parametrize("decay", [1.0, 0.9])
def test_kernel_matches_reference_twin(model, shock, decay):
    _, a = _run(TWO, shock, model=model, decay=decay)
    _, b = _run(TWO, shock, model=model, decay=decay, engine="reference")
    assert a.t_s.size == b.t_s.size and a.truncated == b.truncated
    for name in ("price_usd", "liq_long_usd", "liq_short_usd", "buy_usd", "sell_usd", "vault_usd"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-9, atol=1e-3)
    np.testing.assert_array_equal(a.up_step, b.up_step)
    np.testing.assert_array_equal(a.dn_step, b.dn_step)


def test_kernel_matches_reference_on_a_path():
    path = [1.0, 2.0, 0.5, -1.0, -3.0, -2.0]
    _, a = _run(TWO, path)
    _, b = _run(TWO, path, engine="reference")
    np.testing.assert_allclose(a.price_usd, b.price_usd, rtol=1e-12)
    assert a.liq_long_usd.sum() > 0 and a.liq_short_usd.sum() > 0


def test_zero_shock_liquidates_nothing():
    for model in MODELS:
        _, out = _run(TWO, 0.0, model=model)
        assert _total(out) == 0.0 and out.t_s.size == 1


def test_no_impact_move_equals_shock_and_crosses_exactly_the_shocked_levels():
    m = _map(3)
    _, out = _run({"binance": m}, 4.0, model=SqrtImpact(0.0, 0.02, 1e9))
    assert out.price_usd[-1] == pytest.approx(P0 * 1.04)
    inside = (m.price_bins_usd > P0) & (m.price_bins_usd <= P0 * 1.04)
    assert out.liq_short_usd.sum() == pytest.approx(m.short_usd[inside].sum())


def test_hyperliquid_slices_take_minutes_and_binance_is_immediate():
    m = _map(4, venue="hyperliquid")
    rules = {"hyperliquid": VenueRules("hl", large_share=1.0, slice_frac=0.2, cooldown_s=30.0)}
    _, hl = _run({"hyperliquid": m}, 1.0, rules=rules, model=SqrtImpact(0.0, 0.02, 1e9))
    _, bn = _run({"hyperliquid": m}, 1.0, rules={"hyperliquid": BINANCE_RULES},
                 model=SqrtImpact(0.0, 0.02, 1e9))
    assert hl.t_s[-1] >= 120.0 and bn.t_s[-1] == 5.0
    fl = hl.buy_usd[hl.buy_usd > 0]
    assert fl.size == 5 and np.allclose(fl, fl[0])
    assert hl.buy_usd.sum() == pytest.approx(bn.buy_usd.sum())


def test_vault_takes_levels_jumped_past_beyond_a_third_of_maintenance():
    m = _map(5, venue="hyperliquid")
    _, out = _run({"hyperliquid": m}, 3.0, rules={"hyperliquid": HYPERLIQUID_RULES},
                  model=SqrtImpact(0.0, 0.02, 1e9))
    bins, s = m.price_bins_usd, m.short_usd
    deep = (bins > P0) & (bins < P0 * 1.03 / (1 + 0.0125 / 3))
    assert out.vault_usd.sum() == pytest.approx(s[deep].sum())


def test_rules_and_book_reject_bad_input():
    with pytest.raises(ConfigError, match="unknown venue"):
        rules_for("mtgox")
    with pytest.raises(ConfigError):
        VenueRules("x", large_share=1.5)
    bad = LiqMap(0, P0, np.array([9e4, 1.1e5]), np.array([-1.0, 0.0]), np.array([0.0, 1.0]))
    with pytest.raises(ConfigError, match="negative"):
        build_level_book({"binance": bad})
    with pytest.raises(ConfigError, match="NaN"):
        _run(TWO, float("nan"))
    with pytest.raises(ConfigError, match="no venue rules"):
        _run(TWO, 1.0, rules={"binance": MARKET_RULES})


# ---------------------------------------------------------------- properties
maps_st = st.builds(lambda seed, scale: _map(seed, n=201, scale=scale),
                    st.integers(0, 10_000), st.floats(1e5, 5e7))
settings_ = settings(max_examples=40, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])


@settings_
@given(m=maps_st, shock=st.floats(-25, 25), model=st.sampled_from(MODELS),
       venue=st.sampled_from(["binance", "hyperliquid"]), decay=st.sampled_from([1.0, 0.8]))
def test_each_level_once_and_forced_flow_equals_liquidated(m, shock, model, venue, decay):
    m = LiqMap(0, m.price_usd, m.price_bins_usd, m.long_usd, m.short_usd, venue=venue)
    book, out = _run({venue: m}, shock, model=model, decay=decay)
    n_liq = (out.up_step >= 0).sum() + (out.dn_step >= 0).sum()
    liq_per_level = book.up_usd[out.up_step >= 0].sum() + book.dn_usd[out.dn_step >= 0].sum()
    assert _total(out) == pytest.approx(liq_per_level, rel=1e-9)
    assert n_liq <= book.up_usd.size + book.dn_usd.size
    flow = out.buy_usd.sum() + out.sell_usd.sum() + out.vault_usd.sum()
    assert flow == pytest.approx(_total(out), rel=1e-9, abs=1e-6)
    assert _total(out) <= book.up_usd.sum() + book.dn_usd.sum() + 1e-6


@settings_
@given(m=maps_st, shock=st.floats(0.1, 25), model=st.sampled_from(MODELS))
def test_move_is_bounded_by_the_book(m, shock, model):
    book, out = _run({"binance": m}, shock, model=model)
    bound = P0 * (1 + shock / 100) * math.exp(impact_frac(model, book.up_usd.sum())[0])
    assert out.price_usd.max() <= bound * (1 + 1e-12)
    book, out = _run({"binance": m}, -shock, model=model)
    bound = P0 * (1 - shock / 100) * math.exp(impact_frac(model, -book.dn_usd.sum())[0])
    assert out.price_usd.min() >= bound * (1 - 1e-12)


def test_capped_book_bounds_the_move_to_its_deepest_level():
    capped = BookImpact(BOOK.ask_x, BOOK.ask_cum_usd, BOOK.bid_x, BOOK.bid_cum_usd)
    _, out = _run({"binance": _map(6, scale=5e7)}, 2.0, model=capped)
    assert out.price_usd[-1] <= P0 * 1.02 * math.exp(BOOK.ask_x[-1]) * (1 + 1e-12)


@settings_
@given(m=maps_st, a=st.floats(0, 25), b=st.floats(0, 25), model=st.sampled_from(MODELS),
       rules=st.sampled_from([BINANCE_RULES,
                              VenueRules("hl-no-vault", 0.75, 0.2, 30.0)]))
def test_cascade_is_monotone_in_the_shock(m, a, b, model, rules):
    lo, hi = sorted((a, b))
    for sign in (1, -1):
        _, x = _run({"binance": m}, sign * lo, model=model, rules={"binance": rules})
        _, y = _run({"binance": m}, sign * hi, model=model, rules={"binance": rules})
        assert _total(y) >= _total(x) * (1 - 1e-12) - 1e-6  # float summation order
        assert sign * y.price_usd[-1] >= sign * x.price_usd[-1] - 1e-9 * P0


def test_resilience_makes_impact_transient():
    m = _map(7)
    _, perm = _run({"binance": m}, 3.0)
    _, tran = _run({"binance": m}, 3.0, decay=decay_per_step(None, 5.0) * 0.5)
    assert tran.price_usd[-1] < perm.price_usd[-1]
