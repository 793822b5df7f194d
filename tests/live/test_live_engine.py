"""The incremental engine: per-bar step vs its twin, vs the batch kernel, vs the batch model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from liqmap import DataError
from liqmap.core import book as bk
from liqmap.core import incremental as inc
from liqmap.io.sample import load_sample
from liqmap.live import IncrementalModel
from liqmap.model import LiquidationModel
from liqmap.venues import LiveBar, live_from_bars


def _random_book(seed: int, n_bars: int = 250, policy: int = bk.POLICY_PROPORTIONAL,
                 decay: bool = True, n_bins: int = 300):
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.004, n_bars)))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.003, n_bars))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.003, n_bars))
    oi = np.maximum(1000 + np.cumsum(rng.normal(0, 5, n_bars)), 10.0)
    lev = np.array([5.0, 10.0, 25.0, 50.0, 100.0])
    ch = inc.BookChannels(
        side=np.r_[np.ones(5, np.int64), -np.ones(5, np.int64)],
        factor=np.r_[1 - 1 / lev + 0.004, 1 + 1 / lev - 0.004],
        w_aggr=np.r_[rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(5))],
        w_pass=np.r_[rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(5))],
        rate_per_ms=(np.log(2) / (np.r_[lev, lev] * 3_600_000.0)) * (1.0 if decay else 0.0),
        rank=np.argsort(np.argsort(-np.r_[lev, lev], kind="stable"), kind="stable"
                        ).astype(np.int64), policy=policy)
    u = (np.arange(3) + 0.5) / 3
    bars = dict(low=low, high=high, oi=oi, share=rng.uniform(0, 1, n_bars),
                px=low[:, None] + (high - low)[:, None] * u[None, :],
                w=rng.dirichlet(np.ones(3), n_bars),
                dt=np.r_[0.0, rng.choice([300_000.0, 600_000.0], n_bars - 1)])
    lo = low.min() * 0.75
    return ch, bars, lo, (high.max() * 1.25 - lo) / n_bins, n_bins


def _feed(ch, d, p0, w, n_bins, engine):
    st = inc.new_state(ch.side.size, n_bins, p0, w)
    out = []
    for t in range(d["low"].size):
        opened = max(d["oi"][t] - d["oi"][t - 1], 0.0) if t else 0.0
        out.append(inc.step_book(
            st, ch, first=t == 0, dt_ms=d["dt"][t], low_usd=d["low"][t], high_usd=d["high"][t],
            oi_prev_coin=d["oi"][t - 1] if t else 0.0, oi_coin=d["oi"][t], opened_coin=opened,
            aggr_long_share=d["share"][t], entry_px_usd=d["px"][t], entry_w=d["w"][t],
            engine=engine))
    return np.array(out), st


POLICIES = [bk.POLICY_NONE, bk.POLICY_PROPORTIONAL, bk.POLICY_NET, bk.POLICY_LEVERAGE_FIRST]


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("decay", [False, True])
def test_compiled_step_matches_reference_twin_and_batch_kernel(policy, decay):
    ch, d, p0, w, n_bins = _random_book(7 + policy, policy=policy, decay=decay)
    got, st = _feed(ch, d, p0, w, n_bins, engine="numba")
    ref, st_ref = _feed(ch, d, p0, w, n_bins, engine="reference")
    assert got[:, 0].sum() > 0 and got[:, 1].sum() > 0  # crossings happened on both sides
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(inc.dense_book(st), inc.dense_book(st_ref), rtol=1e-9, atol=1e-12)
    opened = np.diff(d["oi"], prepend=d["oi"][0]).clip(min=0)
    lu, su, lq, sq, _, _, book = bk.run_book_nb(
        d["low"], d["high"], d["dt"], d["oi"], d["px"], d["w"], opened, d["share"], ch.w_aggr,
        ch.w_pass, ch.side, ch.factor, ch.rate_per_ms, ch.rank, p0, w, n_bins,
        np.zeros(0, np.int64), policy)
    np.testing.assert_array_equal(got, np.c_[lu, su, lq, sq])  # same operations, same bits
    np.testing.assert_allclose(inc.dense_book(st), book, rtol=1e-12, atol=1e-15)


def test_grow_state_keeps_every_level_at_its_price():
    ch, d, p0, w, n_bins = _random_book(3)
    _, st = _feed(ch, d, p0, w, n_bins, engine="numba")
    grown = inc.grow_state(st, 7, 11)
    before = inc.side_usd(st, ch.side)
    after = inc.side_usd(grown, ch.side)
    assert grown.n_bins == n_bins + 18
    np.testing.assert_allclose(after[0][7:7 + n_bins], before[0], rtol=1e-12)
    np.testing.assert_allclose(grown.centers_usd[7:7 + n_bins], st.centers_usd, rtol=1e-12)
    assert after[0][:7].sum() == 0 and after[1][-11:].sum() == 0


@pytest.fixture(scope="module")
def sample():
    return load_sample().take(slice(0, 3000))


def _incremental(model, bars, n_warm, **kw):
    im = IncrementalModel(model, bars.take(slice(0, n_warm)),
                          reference_price_usd=float(np.median(bars.close)), **kw)
    ups = [im.update(b) for b in live_from_bars(bars.take(slice(n_warm, None)), "stream")]
    return im, ups


@pytest.mark.parametrize("params", [
    dict(bin_usd=50.0),
    dict(bin_usd=25.0, oi_policy="leverage-first", half_life_hours="100:6,50:12",
         side_model="funding"),
    dict(bin_usd=50.0, oi_policy="net", leverage="high-leverage", band="none"),
])
def test_bar_by_bar_equals_the_batch_run(sample, params):
    model = LiquidationModel(**params)
    est = model.run(sample)
    im, ups = _incremental(model, sample, 200)
    n = len(ups)
    for name in ("long", "short", "long_low", "long_high", "short_low", "short_high"):
        got = np.array([getattr(u, f"predicted_{name}_usd") for u in ups])
        want = getattr(est, f"predicted_{name}_usd")[-n:]
        assert want.sum() > 0 or "_" in name  # the central series is never empty here
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-6)
    _assert_same_map(im.current_map(), est.final_map)


def _assert_same_map(live, batch):
    off = int(round((batch.price_bins_usd[0] - live.price_bins_usd[0]) / batch.bin_usd))
    sl = slice(off, off + batch.price_bins_usd.size)
    np.testing.assert_allclose(live.price_bins_usd[sl], batch.price_bins_usd, rtol=1e-12)
    for name in ("long_usd", "short_usd", "long_low_usd", "short_high_usd"):
        a, b = getattr(live, name), getattr(batch, name)
        if b is None:
            assert a is None
            continue
        np.testing.assert_allclose(a[sl], b, rtol=1e-9, atol=1e-6)
        assert a.sum() == pytest.approx(b.sum(), rel=1e-9)  # nothing outside the batch grid
    assert live.ts_ms == batch.ts_ms and live.price_usd == batch.price_usd


def test_grid_grows_when_price_leaves_the_warm_range(sample):
    # warm up on a quiet stretch with no padding; the later bars move far beyond it
    model = LiquidationModel(bin_usd=50.0, band="none")
    est = model.run(sample)
    im, ups = _incremental(model, sample, 50, grid_pad=0.0)
    assert im.grid_growths >= 1
    got = np.array([u.predicted_long_usd + u.predicted_short_usd for u in ups])
    want = (est.predicted_long_usd + est.predicted_short_usd)[-len(ups):]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-6)
    _assert_same_map(im.current_map(), est.final_map)


def test_reference_twin_model_agrees(sample):
    bars = sample.take(slice(0, 300))
    model = LiquidationModel(bin_usd=50.0, band="none")
    _, fast = _incremental(model, bars, 100)
    _, slow = _incremental(model, bars, 100, engine="reference")
    np.testing.assert_allclose([u.predicted_long_usd for u in fast],
                               [u.predicted_long_usd for u in slow], rtol=1e-9, atol=1e-6)


def test_rejects_repeated_out_of_order_and_unattached_bars(sample):
    im = IncrementalModel(LiquidationModel(bin_usd=50.0), sample.take(slice(0, 10)))
    last = live_from_bars(sample.take(slice(9, 10)))[0]
    with pytest.raises(DataError, match="not after the last bar"):
        im.update(last)
    nxt = live_from_bars(sample.take(slice(10, 11)))[0]
    with pytest.raises(DataError, match="attach the open interest"):
        im.update(replace(nxt, open_interest=float("nan")))
    assert im.last_ts_ms == last.ts_ms  # a rejected bar leaves the state alone
    up = im.update(nxt)
    assert up.ts_ms == nxt.ts_ms and isinstance(nxt, LiveBar)
