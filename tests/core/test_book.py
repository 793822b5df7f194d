"""The level book kernel: parity with its reference twin, hand cases and invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqmap.core import book as bk


def make_inputs(seed: int, n_bars: int = 300, policy: int = bk.POLICY_PROPORTIONAL,
                decay: bool = True, n_bins: int = 400) -> bk.BookInputs:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.004, n_bars)))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.003, n_bars))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.003, n_bars))
    oi = 1000 + np.cumsum(rng.normal(0, 5, n_bars))
    oi = np.maximum(oi, 10.0)
    d_oi = np.diff(oi, prepend=oi[0]).clip(min=0)
    lev = np.array([5.0, 10.0, 25.0, 50.0, 100.0])
    side = np.r_[np.ones(5, np.int64), -np.ones(5, np.int64)]
    factor = np.r_[1 - 1 / lev + 0.004, 1 + 1 / lev - 0.004]
    # per side, the aggressive and passive weights each sum to 1: a side receives d_oi
    w_aggr = np.r_[rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(5))]
    w_pass = np.r_[rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(5))]
    j = 3
    u = (np.arange(j) + 0.5) / j
    px = low[:, None] + (high - low)[:, None] * u[None, :]
    w = rng.dirichlet(np.ones(j), n_bars)
    rate = np.where(decay, np.log(2) / (np.r_[lev, lev] * 3_600_000.0), 0.0) * np.ones(10)
    rank = np.argsort(np.argsort(-np.r_[lev, lev], kind="stable"), kind="stable")
    lo = low.min() * 0.75
    bin_usd = (high.max() * 1.25 - lo) / n_bins
    return bk.BookInputs(
        low_usd=low, high_usd=high, dt_ms=np.r_[0.0, np.full(n_bars - 1, 300_000.0)],
        oi_coin=oi, entry_px_usd=px, entry_w=w, open_coin=d_oi,
        aggr_long_share=rng.uniform(0, 1, n_bars), chan_w_aggr=w_aggr, chan_w_pass=w_pass,
        chan_side=side,
        chan_factor=factor, chan_rate_per_ms=rate, chan_rank=rank.astype(np.int64),
        p0_usd=lo, bin_usd=bin_usd, n_bins=n_bins,
        frame_idx=np.array([0, 10, 150, n_bars - 1], np.int64), policy=policy)


@pytest.mark.parametrize("policy", [bk.POLICY_NONE, bk.POLICY_PROPORTIONAL, bk.POLICY_NET,
                                    bk.POLICY_LEVERAGE_FIRST])
@pytest.mark.parametrize("decay", [False, True])
def test_compiled_kernel_matches_reference_twin(policy, decay):
    inp = make_inputs(seed=7 + policy, policy=policy, decay=decay)
    fast = bk.run_book(inp)
    ref = bk.run_book(inp, engine="reference")
    for name in ("liq_long_usd", "liq_short_usd", "liq_long_coin", "liq_short_coin",
                 "frames_long_usd", "frames_short_usd", "book_coin"):
        np.testing.assert_allclose(getattr(fast, name), getattr(ref, name), rtol=1e-9,
                                   atol=1e-9, err_msg=name)
    assert fast.liq_long_usd.sum() > 0 and fast.liq_short_usd.sum() > 0


def _two_bar_inputs(low2, high2, policy=bk.POLICY_NONE, oi=(0.0, 1.0, 1.0)):
    """One long level at 90 and one short level at 110, opened in bar 1."""
    n = 3
    return bk.BookInputs(
        low_usd=np.array([100.0, 100.0, low2]), high_usd=np.array([100.0, 100.0, high2]),
        dt_ms=np.zeros(n), oi_coin=np.array(oi), entry_px_usd=np.full((n, 1), 100.0),
        entry_w=np.ones((n, 1)), open_coin=np.array([0.0, 1.0, 0.0]),
        aggr_long_share=np.full(n, 0.5), chan_w_aggr=np.ones(2), chan_w_pass=np.ones(2),
        chan_side=np.array([1, -1]), chan_factor=np.array([0.9, 1.1]),
        chan_rate_per_ms=np.zeros(2), chan_rank=np.array([0, 1]), p0_usd=0.0, bin_usd=1.0,
        n_bins=200, frame_idx=np.array([1, 2]), policy=policy)


def test_long_level_liquidated_when_low_reaches_it_and_only_once():
    out = bk.run_book(_two_bar_inputs(low2=90.4, high2=101.0))
    # the long level sits in bin [90, 91), centre 90.5 >= low 90.4: liquidated at 90.5
    assert out.liq_long_coin.tolist() == [0.0, 0.0, 1.0]
    assert out.liq_long_usd[2] == pytest.approx(90.5)
    assert out.liq_short_coin.sum() == 0.0
    assert out.frames_long_usd[1].sum() == 0.0 and out.frames_short_usd[1].sum() > 0


def test_level_not_reached_stays_in_book():
    out = bk.run_book(_two_bar_inputs(low2=90.6, high2=109.0))
    assert out.liq_long_coin.sum() == 0.0 and out.liq_short_coin.sum() == 0.0
    assert out.book_coin.sum() == pytest.approx(2.0)


def test_short_level_liquidated_at_high():
    out = bk.run_book(_two_bar_inputs(low2=99.0, high2=110.6))
    assert out.liq_short_coin.tolist() == [0.0, 0.0, 1.0]
    assert out.liq_short_usd[2] == pytest.approx(110.5)


def test_proportional_policy_shrinks_with_open_interest():
    out = bk.run_book(_two_bar_inputs(99.0, 101.0, bk.POLICY_PROPORTIONAL, oi=(10, 11, 5.5)))
    assert out.book_coin.sum(axis=1) == pytest.approx([0.5, 0.5])


def test_no_policy_ignores_open_interest_fall():
    out = bk.run_book(_two_bar_inputs(99.0, 101.0, bk.POLICY_NONE, oi=(10, 11, 5.5)))
    assert out.book_coin.sum(axis=1) == pytest.approx([1.0, 1.0])


@pytest.mark.parametrize("policy", [bk.POLICY_NONE, bk.POLICY_NET])
def test_book_is_capped_at_open_interest_whatever_the_policy(policy):
    out = bk.run_book(_two_bar_inputs(99.0, 101.0, policy, oi=(0.0, 1.0, 0.25)))
    assert out.book_coin.sum(axis=1) == pytest.approx([0.25, 0.25])


def test_leverage_first_takes_from_the_highest_leverage_channel():
    inp = _two_bar_inputs(99.6, 101.0, bk.POLICY_LEVERAGE_FIRST, oi=(10, 12, 11))
    # two long channels: rank 0 (high leverage) is emptied before rank 1
    inp = bk.BookInputs(**{**{f: getattr(inp, f) for f in inp.__dataclass_fields__},
                           "chan_side": np.array([1, 1]), "chan_factor": np.array([0.99, 0.9]),
                           "chan_rank": np.array([0, 1])})
    out = bk.run_book(inp)
    # the fall (1 of 12) times the side's holding (2) is 1/6, all from channel 0
    assert out.book_coin.sum(axis=1) == pytest.approx([1 - 1 / 6, 1.0])


def test_decay_halves_the_book_after_one_half_life():
    inp = _two_bar_inputs(99.0, 101.0)
    hl_ms = 3_600_000.0
    inp = bk.BookInputs(**{**{f: getattr(inp, f) for f in inp.__dataclass_fields__},
                           "dt_ms": np.array([0.0, hl_ms, hl_ms]),
                           "chan_rate_per_ms": np.full(2, np.log(2) / hl_ms)})
    out = bk.run_book(inp)
    assert out.book_coin.sum() == pytest.approx(1.0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), policy=st.sampled_from([0, 1, 2, 3]))
def test_invariants_hold_for_random_markets(seed, policy):
    inp = make_inputs(seed, n_bars=120, policy=policy, decay=bool(seed % 2), n_bins=300)
    out = bk.run_book(inp)
    # a level is liquidated at most once: liquidated + remaining never exceeds what was added
    added = 2 * inp.open_coin.sum()
    liquidated = out.liq_long_coin.sum() + out.liq_short_coin.sum()
    assert liquidated + out.book_coin.sum() <= added * (1 + 1e-9) + 1e-9
    assert np.all(out.book_coin >= 0) and np.all(out.liq_long_usd >= 0)
    # no level survives on the wrong side of the last bar's range
    centers = inp.p0_usd + (np.arange(inp.n_bins) + 0.5) * inp.bin_usd
    longs = out.book_coin[inp.chan_side > 0].sum(axis=0)
    shorts = out.book_coin[inp.chan_side < 0].sum(axis=0)
    assert longs[centers >= inp.low_usd[-1]].sum() == 0 or inp.open_coin[-1] > 0
    assert shorts[centers <= inp.high_usd[-1]].sum() == 0 or inp.open_coin[-1] > 0


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), policy=st.sampled_from([1, 2, 3]))
def test_book_never_exceeds_open_interest_per_side(seed, policy):
    inp = make_inputs(seed, n_bars=150, policy=policy, decay=False, n_bins=300)
    # open interest starts near zero so that the bound is tight; each side receives exactly
    # the OI rise (weights per side sum to 1), as the model does
    oi = inp.oi_coin - inp.oi_coin.min() + 1.0
    d_oi = np.diff(oi, prepend=oi[0]).clip(min=0)
    inp = bk.BookInputs(**{**{f: getattr(inp, f) for f in inp.__dataclass_fields__},
                           "open_coin": d_oi, "oi_coin": oi,
                           "frame_idx": np.arange(150, dtype=np.int64)})
    out = bk.run_book(inp, engine="reference")
    centers = inp.p0_usd + (np.arange(inp.n_bins) + 0.5) * inp.bin_usd
    # frames are USD; convert back to coin per bin before summing
    long_qty = (out.frames_long_usd / centers).sum(axis=1)
    short_qty = (out.frames_short_usd / centers).sum(axis=1)
    assert np.all(long_qty <= inp.oi_coin + 1e-6)
    assert np.all(short_qty <= inp.oi_coin + 1e-6)
    assert long_qty.max() > 0 and short_qty.max() > 0
