"""The estimator: LiquidationModel.run on synthetic and bundled bars."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqmap import Bars, ConfigError, DataError
from liqmap.model import LOOKBACKS_MS, LiquidationModel


def synth(n=2000, seed=0, bar_ms=300_000, drift=0.0, oi_step=5.0):
    rng = np.random.default_rng(seed)
    close = 90_000 * np.exp(np.cumsum(rng.normal(drift, 0.002, n)))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.001, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.001, n))
    oi = 80_000 + np.cumsum(rng.normal(0, oi_step, n))
    vol = rng.gamma(2, 40, n)
    return Bars(ts_ms=1_764_547_200_000 + bar_ms * np.arange(n, dtype=np.int64), open=open_,
                high=high, low=low, close=close, open_interest=oi, volume=vol,
                taker_buy_volume=vol * rng.uniform(0.3, 0.7, n), source="synthetic")


def flat_rising(n=50, oi0=1000.0, rise=2.0):
    px = np.full(n, 50_000.0)
    return Bars(ts_ms=np.arange(n, dtype=np.int64) * 60_000, open=px, high=px * 1.0005,
                low=px * 0.9995, close=px, open_interest=oi0 + rise * np.arange(n))


def test_run_shapes_and_signs():
    bars = synth()
    est = LiquidationModel().run(bars)
    hm = est.heatmap
    assert hm.long_usd.shape == (len(hm.ts_ms), hm.price_bins_usd.size)
    assert est.predicted_long_usd.shape == (len(bars),)
    assert est.predicted_long_usd.sum() > 0 and est.predicted_short_usd.sum() > 0
    m = est.final_map
    assert m.price_usd == bars.close[-1]
    # longs sit below the price, shorts above (new levels of the last bar excepted)
    assert m.long_usd[m.price_bins_usd > bars.high[-1] * 1.01].sum() == 0
    assert m.short_usd[m.price_bins_usd < bars.low[-1] * 0.99].sum() == 0


def test_band_brackets_the_central_estimate():
    est = LiquidationModel(leverage="peer-common").run(synth(seed=3))
    m = est.final_map
    assert np.all(m.long_low_usd <= m.long_usd + 1e-9)
    assert np.all(m.long_usd <= m.long_high_usd + 1e-9)
    assert np.all(est.predicted_short_low_usd <= est.predicted_short_usd + 1e-9)
    assert np.all(est.predicted_short_usd <= est.predicted_short_high_usd + 1e-9)
    assert (m.long_high_usd - m.long_low_usd).sum() > 0
    assert len(est.members) == 4


def test_compiled_and_reference_give_the_same_estimate():
    bars = synth(n=400, seed=5)
    model = LiquidationModel(half_life_hours="100:6,50:12", oi_policy="leverage-first",
                             side_model="taker", band="none")
    a, b = model.run(bars), model.run(bars, engine="reference")
    np.testing.assert_allclose(a.predicted_long_usd, b.predicted_long_usd, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(a.heatmap.short_usd, b.heatmap.short_usd, rtol=1e-9, atol=1e-6)


def test_binning_conserves_the_open_interest_added():
    bars = flat_rising()
    est = LiquidationModel(band="none").run(bars)
    m = est.final_map
    added = bars.open_interest[-1] - bars.open_interest[0]
    long_qty = (m.long_usd / m.price_bins_usd).sum()
    short_qty = (m.short_usd / m.price_bins_usd).sum()
    # every leverage tier of every preset lands in the grid: nothing is lost in binning
    assert long_qty == pytest.approx(added, rel=1e-9)
    assert short_qty == pytest.approx(added, rel=1e-9)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 1000), policy=st.sampled_from(["proportional", "net",
                                                          "leverage-first", "none"]))
def test_book_never_exceeds_open_interest(seed, policy):
    bars = synth(n=300, seed=seed, oi_step=40.0)
    bars = Bars(**{**{f: getattr(bars, f) for f in ("ts_ms", "open", "high", "low", "close",
                                                     "volume", "taker_buy_volume")},
                   "open_interest": bars.open_interest - bars.open_interest.min() + 1.0})
    est = LiquidationModel(oi_policy=policy, band="none", frames=300).run(bars)
    hm = est.heatmap
    long_qty = (hm.long_usd / hm.price_bins_usd).sum(axis=1)
    short_qty = (hm.short_usd / hm.price_bins_usd).sum(axis=1)
    oi = bars.open_interest[np.searchsorted(bars.ts_ms, hm.ts_ms)]
    assert np.all(long_qty <= oi * (1 + 1e-9)) and np.all(short_qty <= oi * (1 + 1e-9))


def test_lookback_window_and_map_at():
    bars = synth(n=3000)
    model = LiquidationModel(band="none")
    est = model.run(bars, lookback="24h")
    # the 24h drawn, warmed up on every bar before it (est.bars: all the bars run)
    assert len(est.drawn_bars) == LOOKBACKS_MS["24h"] // bars.bar_ms
    assert est.warmup_bars == len(bars) - len(est.drawn_bars) and len(est.bars) == len(bars)
    assert len(model.run(bars, lookback="24h", warmup="0").bars) == len(est.drawn_bars)
    at = int(bars.ts_ms[2000])
    m_at = model.run(bars).map_at(at)
    direct = model.run(bars.take(slice(0, 2001))).final_map
    np.testing.assert_allclose(m_at.long_usd, direct.long_usd)
    assert m_at.ts_ms == at


def test_side_model_tilts_the_aggressive_side():
    bars = synth(seed=11)
    n = len(bars)
    buy_all = Bars(**{**{f: getattr(bars, f) for f in ("ts_ms", "open", "high", "low", "close",
                                                        "open_interest", "volume")},
                      "taker_buy_volume": bars.volume})
    sell_all = Bars(**{**{f: getattr(bars, f) for f in ("ts_ms", "open", "high", "low",
                                                         "close", "open_interest", "volume")},
                       "taker_buy_volume": np.zeros(n)})
    m = LiquidationModel(side_model="taker", band="none", leverage="high-leverage")
    near = lambda mp: np.abs(mp.price_bins_usd / mp.price_usd - 1) < 0.05  # noqa: E731
    longs_buy = m.run(buy_all).final_map
    longs_sell = m.run(sell_all).final_map
    # aggressive longs are high-leverage: more long notional close to the price
    assert longs_buy.long_usd[near(longs_buy)].sum() > longs_sell.long_usd[near(longs_sell)].sum()


@pytest.mark.parametrize("kw, word", [
    ({"leverage": "huge"}, "leverage preset"), ({"side_model": "vibes"}, "side model"),
    ({"oi_policy": "fifo"}, "OI policy"), ({"half_life_hours": "100:x"}, "LEV:HOURS"),
    ({"position_notional_usd": -1}, "position_notional_usd"), ({"venue": "mtgox"}, "venue"),
])
def test_bad_parameters_say_what_to_fix(kw, word):
    with pytest.raises(ConfigError, match=word):
        LiquidationModel(**kw).run(synth(n=50))


def test_taker_side_model_without_taker_data_is_an_input_error():
    with pytest.raises(ConfigError, match="taker"):
        LiquidationModel(side_model="taker").run(flat_rising())


def test_nan_bars_are_rejected_with_the_row():
    bars = synth(n=50)
    close = bars.close.copy()
    close[7] = np.nan
    bad = Bars(**{**{f: getattr(bars, f) for f in ("ts_ms", "open", "high", "low",
                                                    "open_interest")}, "close": close})
    with pytest.raises(DataError, match="row 7"):
        LiquidationModel().run(bad)


@pytest.mark.parametrize("venue", ["binance", "bybit", "okx", "hyperliquid", "binance-inverse"])
def test_every_venue_runs(venue):
    est = LiquidationModel(venue=venue, band="none").run(synth(n=500))
    assert est.final_map.long_usd.sum() > 0 and est.final_map.short_usd.sum() > 0


def test_summary_is_json_ready():
    import json

    s = LiquidationModel().run(synth(n=600)).summary()
    json.dumps(s, allow_nan=False)
    imb = s["map"]["imbalance"]["20pct"]
    assert imb["ratio"] == pytest.approx(imb["short_usd"] / imb["long_usd"])
    assert s["bars"] == 600 and s["engine_seconds"] > 0


# ------------------------------------------------------------- the map at a time: one route
def _same_map(a, b):
    assert (a.ts_ms, a.price_usd, a.venue, a.symbol) == (b.ts_ms, b.price_usd, b.venue, b.symbol)
    for f in ("price_bins_usd", "long_usd", "short_usd", "long_low_usd", "long_high_usd",
              "short_low_usd", "short_high_usd"):
        x, y = getattr(a, f), getattr(b, f)
        assert (x is None) == (y is None), f
        if x is not None:
            np.testing.assert_array_equal(x, y)


def test_map_at_is_the_run_at_that_time_and_the_old_slice():
    bars = synth(n=800, seed=2)
    model = LiquidationModel(leverage="peer-common")  # with the band
    est = model.run(bars)
    for i in (1, 250, 798):
        at = int(bars.ts_ms[i]) + 1000  # inside the bar: the bar open before it counts
        m = est.map_at(at)
        _same_map(m, model.run(bars, at_ms=at).final_map)
        _same_map(m, model.run(bars.take(slice(0, i + 1))).final_map)  # the old route
        assert m.ts_ms == int(bars.ts_ms[i]) and m.long_low_usd is not None
    assert est.map_at(int(bars.ts_ms[-1])) is est.final_map


def test_map_at_frames_reads_the_kept_frame_without_a_rerun():
    bars = synth(n=300, seed=4)
    model = LiquidationModel(frames=100)
    est = model.run(bars)
    hm = est.heatmap
    for k in (0, 37, hm.ts_ms.size - 1):
        t = int(hm.ts_ms[k])
        m = est.map_at(t + 1, frames=True)
        i = int(np.searchsorted(bars.ts_ms, t))  # the frame as watch read it before
        assert (m.ts_ms, m.price_usd) == (t, float(bars.close[i]))
        np.testing.assert_array_equal(m.price_bins_usd, hm.price_bins_usd)
        np.testing.assert_array_equal(m.long_usd, hm.long_usd[k])
        np.testing.assert_array_equal(m.short_usd, hm.short_usd[k])
        assert m.long_low_usd is None  # frames hold the central preset only
    missing = next(int(t) for t in bars.ts_ms if t not in set(hm.ts_ms.tolist()))
    with pytest.raises(ConfigError, match="kept no frame"):
        est.map_at(missing, frames=True)
    with pytest.raises(ConfigError, match="outside the data"):
        est.map_at(int(bars.ts_ms[0]) - 1, frames=True)


def test_watch_frames_go_through_map_at():
    from liqmap.watch import FrameMaps, frame_map

    bars = synth(n=240, seed=6)
    fm = FrameMaps.build(LiquidationModel(), bars, every_bars=24)
    for i in (0, len(fm) - 1):
        _same_map(fm.map(i), fm.estimate.map_at(int(fm.ts_ms[i]), frames=True))
        _same_map(frame_map(fm.estimate, i), fm.map(i))


# ------------------------------------------- engine_seconds: the kernel alone, load apart
class _Clock:
    """A fake ``time.perf_counter``: it moves only when a spy says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("convention", ["liqmap", "vendor"])
def test_engine_seconds_exclude_the_kernel_load(monkeypatch, convention):
    """The kernel timer wraps the kernel call only: a load (numba's cache, or a first-run
    compile) is counted in ``load_seconds``, never in ``engine_seconds``."""
    import liqmap.model as lm
    from liqmap.core import book as bk

    clock = _Clock()
    real_load, real_run = bk.load_book_kernel, bk.run_book
    calls = {"load": 0, "run": 0}

    def load(inp, *, engine="numba"):
        calls["load"] += 1
        real_load(inp, engine=engine)
        clock.now += 100.0  # as a compile would

    def run(inp, *, engine="numba"):
        calls["run"] += 1
        out = real_run(inp, engine=engine)
        clock.now += 1.0
        return out

    monkeypatch.setattr(lm.time, "perf_counter", clock)
    monkeypatch.setattr(bk, "load_book_kernel", load)
    monkeypatch.setattr(bk, "run_book", run)
    est = LiquidationModel(convention=convention).run(synth(n=300))
    assert calls["run"] == calls["load"] == len(est.members) >= 1
    assert est.engine_seconds == pytest.approx(1.0 * calls["run"])
    assert est.engine_seconds_central == pytest.approx(1.0)
    assert est.load_seconds == pytest.approx(100.0 * calls["load"])
    s = est.summary()
    assert (s["engine_seconds"], s["load_seconds"]) == (est.engine_seconds, est.load_seconds)


def test_load_book_kernel_readies_the_exact_signature():
    """After ``load_book_kernel`` the run dispatches to the loaded overload: no new one
    (numba's just-in-time path, taken when no ahead-of-time build is present)."""
    from liqmap.core import aot
    from liqmap.core import book as bk

    model, bars = LiquidationModel(), synth(n=200)
    seen: list = []
    real = bk.run_book

    def spy(inp, *, engine="numba"):
        bk.load_book_kernel(inp, engine=engine)
        seen.append(len(bk.run_book_nb.overloads))
        out = real(inp, engine=engine)
        assert len(bk.run_book_nb.overloads) == seen[-1]
        return out

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(aot, "book_kernel", lambda args, folder=None: None)
        mp.setattr(bk, "run_book", spy)
        model.run(bars)
    assert seen
