"""Impact models: formulas, compiled/NumPy parity, bad parameters, and the fits on synthetic data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqmap._exceptions import ConfigError
from liqmap.cascade.impact_fit import (
    fit_depth_profile,
    fit_sqrt_impact,
    load_impact_preset,
    preset_models,
)
from liqmap.core.impact import (
    BookImpact,
    DepthProfileImpact,
    Resilience,
    SqrtImpact,
    decay_per_step,
    encode_impact,
    impact_frac,
    impact_x_nb,
)
from liqmap.venues.hyperliquid import HLBooks, HLTrades

BOOK = BookImpact.from_snapshot([99.0, 98.0], [1.0, 2.0], [101.0, 102.0], [1.0, 1.0])
MODELS = [SqrtImpact(0.7, 0.03, 1e9), DepthProfileImpact(1e8, 1.3, 0.4),
          BookImpact.from_snapshot([99.0, 98.0], [1.0, 2.0], [101.0, 102.0], [1.0, 1.0], beyond_beta=1.5),
          BOOK]


def test_sqrt_law_value():
    m = SqrtImpact(y=1.0, sigma_daily=0.02, volume_daily_usd=1e9)
    assert impact_frac(m, 1e7)[0] == pytest.approx(0.02 * math.sqrt(0.01))
    assert impact_frac(m, -1e7)[0] == pytest.approx(-0.002)


def test_depth_profile_value_and_withdrawal_thins_the_book():
    m = DepthProfileImpact(depth_1pct_usd=1e8, beta=1.0)
    assert impact_frac(m, 1e8)[0] == pytest.approx(0.01)
    thin = DepthProfileImpact(depth_1pct_usd=1e8, beta=1.0, withdrawal=1.0)
    assert impact_frac(thin, 1e8)[0] == pytest.approx(0.02)


def test_book_walk_reaches_levels_and_is_capped_without_beta():
    mid = 100.0
    assert impact_frac(BOOK, 101.0)[0] == pytest.approx(math.log(101 / mid))
    assert impact_frac(BOOK, 1e9)[0] == pytest.approx(math.log(102 / mid))  # bounded by the book
    assert impact_frac(BOOK, -99.0)[0] == pytest.approx(-math.log(mid / 99))
    assert impact_frac(BOOK, 50.5)[0] == pytest.approx(0.5 * math.log(1.01))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_compiled_scalar_matches_numpy_reference(model):
    enc = encode_impact(model)
    q = np.r_[-np.logspace(0, 11, 60), 0.0, np.logspace(0, 11, 60)]
    got = np.array([impact_x_nb(*enc, float(x)) for x in q])
    np.testing.assert_allclose(got, impact_frac(model, q), rtol=1e-12, atol=1e-15)


@settings(max_examples=60, deadline=None)
@given(a=st.floats(0, 1e11), b=st.floats(0, 1e11), i=st.integers(0, len(MODELS) - 1))
def test_impact_is_monotone_and_odd(a, b, i):
    m = MODELS[i]
    lo, hi = sorted((a, b))
    assert impact_frac(m, hi)[0] >= impact_frac(m, lo)[0]
    if not isinstance(m, BookImpact):
        assert impact_frac(m, -a)[0] == pytest.approx(-impact_frac(m, a)[0])


def test_bad_parameters_raise_config_error():
    with pytest.raises(ConfigError, match="depth_1pct_usd"):
        DepthProfileImpact(-1e8, 1.0)
    with pytest.raises(ConfigError, match="negative depth"):
        BookImpact.from_snapshot([99.0], [-1.0], [101.0], [1.0])
    with pytest.raises(ConfigError, match="crossed"):
        BookImpact.from_snapshot([101.0], [1.0], [100.0], [1.0])
    with pytest.raises(ConfigError):
        SqrtImpact(float("nan"), 0.02, 1e9)
    with pytest.raises(ConfigError):
        Resilience(0.0)
    with pytest.raises(ConfigError, match="unknown impact"):
        impact_frac("sqrt", 1.0)


def test_decay_per_step():
    assert decay_per_step(None, 5.0) == 1.0
    assert decay_per_step(Resilience(10.0), 10.0) == pytest.approx(0.5)


def test_shipped_preset_loads_and_scales_with_volume():
    p = load_impact_preset()
    assert 0.0 < p["sqrt"]["y"] < 5.0 and p["sqrt"]["y_ci95"][0] <= p["sqrt"]["y"] <= p["sqrt"]["y_ci95"][1]
    assert p["span"]["trades"][0].startswith("2026-06")
    base = preset_models()
    big = preset_models(volume_daily_usd=10 * p["sqrt"]["volume_daily_usd"])
    assert big["depth"].depth_1pct_usd == pytest.approx(10 * base["depth"].depth_1pct_usd)
    with pytest.raises(ConfigError, match="not found"):
        load_impact_preset("no-such-preset")


def _synthetic_trades(exponent: float, c: float, n: int = 3000, seed: int = 0) -> HLTrades:
    rng = np.random.default_rng(seed)
    f = rng.standard_t(3, n) * 1e6
    r = c * np.sign(f) * np.abs(f) ** exponent + rng.normal(0, 1e-4, n)
    px = 60_000 * np.exp(np.cumsum(r))
    ts = np.arange(n, dtype=np.int64) * 300_000 + 1000
    return HLTrades(ts, px, np.abs(f) / px, f > 0)


def test_sqrt_fit_recovers_exponent_and_slope_on_synthetic_trades():
    tr = _synthetic_trades(0.5, 2e-7)
    fit = fit_sqrt_impact(tr, n_boot=20)
    assert fit.exponent_ci95[0] - 0.02 <= 0.5 <= fit.exponent_ci95[1] + 0.02
    slope = fit.y * fit.sigma_daily / math.sqrt(fit.volume_daily_usd)
    assert slope == pytest.approx(2e-7, rel=0.1)
    assert fit.y_ci95[0] <= fit.y <= fit.y_ci95[1]
    lin = fit_sqrt_impact(_synthetic_trades(1.0, 2e-10), n_boot=5)
    assert lin.exponent > 0.85


def test_depth_fit_recovers_beta_on_synthetic_books():
    n, lv, mid = 200, 20, 50_000.0
    d = np.arange(1, lv + 1) * 0.2e-4  # 0.2 bp apart
    for beta in (1.0, 2.0):
        cum = 1e6 * (d / 1e-4) ** beta
        sz = np.diff(np.r_[0.0, cum])
        ask = mid * np.exp(d)
        bid = mid * np.exp(-d)
        books = HLBooks(np.arange(n, dtype=np.int64) * 600_000, np.tile(bid, (n, 1)),
                        np.tile(sz / bid, (n, 1)), np.tile(ask, (n, 1)), np.tile(sz / ask, (n, 1)))
        fit = fit_depth_profile(books, grid_bps=(0.4, 1.0, 2.0, 3.0), n_boot=10)
        assert fit.beta == pytest.approx(beta, abs=0.05)
        assert fit.depth_ref_usd == pytest.approx(1e6 * 2.0**beta, rel=0.05)
