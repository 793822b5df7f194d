"""The level test (issue 13): known answers on synthetic data, the calibration-only fit, the
vendor-style convention, files, report section and CLI."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from liqmap.core import book as bk
from liqmap.core.bars import Bars
from liqmap.core.vendor import VENDOR_STYLE, candle_side_share, vendor_book_inputs
from liqmap.model import LiquidationModel
from liqmap.scorecard.combine import FEATURES, fit_side, log_features, without_book
from liqmap.scorecard.data import default_data_dir
from liqmap.scorecard.levels import (
    CSV_HEAD_LEVELS,
    StandingMaps,
    between,
    fit_levels,
    level_rows,
    shapeless,
    standing_maps,
    vendor_maps,
)
from liqmap.scorecard.levels_run import run_levels
from liqmap.scorecard.report import _levels_section

H = 3_600_000
DATA = default_data_dir()
HAVE = (DATA / "raw" / "coinglass_ismethanhtung").is_dir() and (
    DATA / "raw" / "binance_um_hlreaper").is_dir()
needs_data = pytest.mark.skipif(not HAVE, reason=f"shared data not found at {DATA}; set "
                                "LIQMAP_SHARED_DATA to the folder holding raw/")
MODEL = LiquidationModel(leverage="high-leverage", side_model="neutral", oi_policy="none",
                         band="none", bin_usd=50.0)


@pytest.fixture(scope="module")
def data(window):
    return window(n_hours=24 * 40, seed=5)


@pytest.fixture(scope="module")
def built(data):
    maps, est = standing_maps(MODEL, data.bars)
    vendor = vendor_maps(data.bars, maps)
    return maps, est, vendor


@pytest.fixture(scope="module")
def result(data):
    from liqmap.scorecard.preset import load_preset

    preset = replace(load_preset(), model=MODEL)
    return run_levels(data=data, preset=preset)


def _frozen_map(rng, n_bins=400, p0=80_000.0, w=50.0) -> StandingMaps:
    c = p0 + (np.arange(n_bins) + 0.5) * w
    long_, short_ = rng.exponential(1e6, (2, n_bins)) * (rng.random((2, n_bins)) < 0.4)
    return StandingMaps("map", p0, w, c, long_[None, :], short_[None, :], 0.0)


def test_a_frozen_map_crossed_by_a_path_predicts_exactly_the_levels_in_between():
    rng = np.random.default_rng(0)
    m = _frozen_map(rng)
    c = m.price_bins_usd
    lows = np.r_[rng.uniform(c[0], c[-1], 200), c[10], c[10] - 25.0, 1.0]  # on a centre, edge
    highs = np.r_[rng.uniform(c[0], c[-1], 200), c[20], c[20] + 25.0, 1e9]
    got_l, got_s = between(m, np.zeros(lows.size, np.int64), lows, highs)
    want_l = [m.long_usd[0][c >= lo].sum() for lo in lows]
    want_s = [m.short_usd[0][c <= hi].sum() for hi in highs]
    np.testing.assert_allclose(got_l, want_l, rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(got_s, want_s, rtol=1e-12, atol=1e-6)
    assert got_l[-1] == pytest.approx(m.long_usd.sum()) and got_s[-1] == pytest.approx(
        m.short_usd.sum())


def test_the_engine_itself_liquidates_what_the_standing_map_predicts():
    """Freeze the book after bar i (no open-interest rise, no decay, no policy) and let a
    path run: the engine's liquidations over the path equal the map's prediction."""
    rng = np.random.default_rng(1)
    n, i, h = 120, 80, 24
    close = 90_000 * np.exp(np.cumsum(rng.normal(0, 0.006, n)))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) * (1 + rng.exponential(0.002, n))
    low = np.minimum(open_, close) * (1 - rng.exponential(0.002, n))
    oi = 1_000 + np.cumsum(rng.exponential(5, n))
    oi[i + 1:] = oi[i]  # frozen: nothing opens after t
    bars = Bars(ts_ms=np.arange(n) * H, open=open_, high=high, low=low, close=close,
                open_interest=oi)
    maps, est = standing_maps(MODEL, bars)
    p_l, p_s = between(maps, [i], [low[i + 1: i + 1 + h].min()], [high[i + 1: i + 1 + h].max()])
    assert p_l[0] + p_s[0] > 0
    assert p_l[0] == pytest.approx(est.predicted_long_usd[i + 1: i + 1 + h].sum(), rel=1e-9)
    assert p_s[0] == pytest.approx(est.predicted_short_usd[i + 1: i + 1 + h].sum(), rel=1e-9)


def test_the_shapeless_map_has_the_maps_totals(data, built):
    maps, _, vendor = built
    rows = level_rows(data, maps, vendor, kernel_scale=0.02)
    c = rows.cols
    tl, ts_ = maps.totals()
    np.testing.assert_array_equal(c["map_total_long_usd"], tl[c["bar_idx"]])
    np.testing.assert_array_equal(c["map_total_short_usd"], ts_[c["bar_idx"]])
    # a path to zero and to infinity crosses the whole shapeless map: exactly its totals
    far_l, far_s = shapeless(tl, ts_, data.bars.close, np.zeros(tl.size),
                             np.full(tl.size, np.inf), 0.02)
    np.testing.assert_allclose(far_l, tl, rtol=1e-12)
    np.testing.assert_allclose(far_s, ts_, rtol=1e-12)
    assert np.all(c["shapeless_long_usd"] <= c["map_total_long_usd"])
    assert np.all(c["shapeless_short_usd"] <= c["map_total_short_usd"])
    # no move, nothing crossed
    still = shapeless(tl, ts_, data.bars.close, data.bars.close, data.bars.close, 0.02)
    assert not np.any(still[0]) and not np.any(still[1])


def test_realized_over_h_is_the_sum_of_the_hourly_series_and_t_is_the_close(data, built):
    maps, _, vendor = built
    rows = level_rows(data, maps, vendor)
    c, ts = rows.cols, data.bars.ts_ms
    for h in (1, 4, 24, 168):
        m = np.flatnonzero(c["horizon_h"] == h)
        assert m.size
        for k in m[:: max(m.size // 40, 1)]:
            i = c["bar_idx"][k]
            assert c["ts_ms"][k] == ts[i] + H
            for sd in ("long", "short"):
                want = getattr(data, f"realized_{sd}_usd")[i + 1: i + 1 + h].sum()
                assert c[f"realized_{sd}_usd"][k] == pytest.approx(want, rel=1e-12, abs=1e-6)
            assert c["path_low_usd"][k] == data.bars.low[i + 1: i + 1 + h].min()
            assert c["path_high_usd"][k] == data.bars.high[i + 1: i + 1 + h].max()


def test_spans_gaps_and_straddles(data, built):
    maps, _, vendor = built
    cut = data.spec.calibration_end_ms
    rows = level_rows(data, maps, vendor)
    c = rows.cols
    end = c["ts_ms"] + c["horizon_h"] * H
    assert np.all(end[~c["is_scoring"]] <= cut) and np.all(c["ts_ms"][c["is_scoring"]] >= cut)
    assert rows.dropped[24]["straddle"] == 23 and rows.dropped[168]["straddle"] == 167
    # a missing hour: rows whose H hours contain it are dropped and counted
    keep = np.ones(len(data.bars), bool)
    keep[500] = False
    gap = replace(data, bars=data.bars.take(keep), realized_long_usd=data.realized_long_usd[keep],
                  realized_short_usd=data.realized_short_usd[keep], after_gap=data.after_gap[keep])
    g_maps, _ = standing_maps(MODEL, gap.bars)
    g = level_rows(gap, g_maps, vendor_maps(gap.bars, g_maps))
    assert g.dropped[4]["gap"] == 4 and g.dropped[1]["gap"] == 1
    assert not np.any((g.cols["ts_ms"] < data.bars.ts_ms[500] + H)
                      & (g.cols["ts_ms"] + g.cols["horizon_h"] * H > data.bars.ts_ms[500]))


def _toy_bars(open_, close, oi):
    n = len(close)
    o, c = np.asarray(open_, float), np.asarray(close, float)
    hi, lo = np.maximum(o, c) + 1.0, np.minimum(o, c) - 1.0
    return Bars(ts_ms=np.arange(n) * H, open=o, high=hi, low=lo, close=c,
                open_interest=np.asarray(oi, float))


def _vendor_frames(bars):
    inp = vendor_book_inputs(open_usd=bars.open, high_usd=bars.high, low_usd=bars.low,
                             close_usd=bars.close, oi_coin=bars.open_interest, p0_usd=40_000.0,
                             bin_usd=10.0, n_bins=12_000, frame_idx=np.arange(len(bars)))
    return inp, bk.run_book(inp)


def test_vendor_style_green_opens_longs_red_opens_shorts_and_oi_falls_remove_nothing():
    bars = _toy_bars([100_000, 100_000, 100_010, 100_010, 100_005],
                     [100_000, 100_010, 100_010, 100_005, 100_004],
                     [1_000, 1_010, 1_004, 1_012, 1_000])
    assert candle_side_share(bars.open, bars.close).tolist() == [1.0, 1.0, 1.0, 0.0, 0.0]
    inp, out = _vendor_frames(bars)
    assert inp.policy == bk.POLICY_NONE and not inp.chan_w_pass.any()
    assert inp.open_coin.tolist() == [0.0, 10.0, 0.0, 8.0, 0.0]
    fl, fs = out.frames_long_usd.sum(1), out.frames_short_usd.sum(1)
    # bar 1 (green, +10 BTC): longs only, all 10 BTC at 25/50/100x levels ~1-4 % below
    assert fs[1] == 0 and fl[1] == pytest.approx(10 * 100_000, rel=0.05)
    # bar 2: open interest falls by 6 BTC, a tiny range crosses nothing: nothing removed
    assert fl[2] == fl[1] and fs[2] == 0
    # bar 3 (red, +8 BTC): shorts only; bar 4: OI falls below the book, still nothing removed
    assert fl[3] == fl[1] and fs[3] == pytest.approx(8 * 100_000, rel=0.05)
    assert fl[4] == fl[3] and fs[4] == fs[3]
    assert out.liq_long_usd.sum() == 0 and out.liq_short_usd.sum() == 0
    # long channels hold the 10 BTC opened, short channels the 8: none removed
    assert out.book_coin[inp.chan_side > 0].sum() == pytest.approx(10.0)
    assert out.book_coin[inp.chan_side < 0].sum() == pytest.approx(8.0)
    # liqmap's own model (proportional) would have shrunk the book on the falls
    own = replace(MODEL, oi_policy="proportional", frames=5).run(bars).heatmap
    assert own.long_usd[2].sum() < own.long_usd[1].sum()


def test_vendor_style_levels_are_crossed_like_any_map():
    bars = _toy_bars([100_000, 100_000, 100_000], [100_000, 100_010, 90_000],
                     [1_000, 1_010, 1_010])
    inp, out = _vendor_frames(replace(bars, low=np.array([99_999.0, 99_999.0, 89_000.0])))
    assert out.frames_long_usd[2].sum() == 0
    assert out.liq_long_usd[2] == pytest.approx(out.frames_long_usd[1].sum(), rel=1e-12)


def test_fit_uses_the_calibration_span_only(data):
    cut = data.spec.calibration_end_ms
    after = data.bars.ts_ms >= cut
    changed = replace(
        data, bars=replace(data.bars, high=np.where(after, data.bars.high * 1.03,
                                                    data.bars.high),
                           open_interest=np.where(after, data.bars.open_interest * 2,
                                                  data.bars.open_interest)),
        realized_long_usd=np.where(after, 1.0, data.realized_long_usd),
        realized_short_usd=np.where(after, 7e9, data.realized_short_usd))
    a, b = fit_levels(data, MODEL), fit_levels(changed, MODEL)
    assert a.to_dict() == b.to_dict()
    assert a.kernel_scale in dict(a.kernel_curve)
    assert all(n > 0 for n in a.n_rows.values()) and a.calibration_end_ms == cut


def test_run_files_and_report_section(result, tmp_path):
    files = result.write(tmp_path)
    df = pd.read_csv(files["csv"])
    assert tuple(df.columns[: len(CSV_HEAD_LEVELS)]) == CSV_HEAD_LEVELS
    assert set(df["span"]) == {"calibration", "scoring"}
    assert sorted(df["horizon_h"].unique()) == [1, 4, 24, 168]
    d = json.loads((tmp_path / "metrics-levels-S.json").read_text())
    assert set(d["metrics"]) == {"calibration", "scoring"}
    assert set(d["metrics"]["scoring"]["24"]["long"]) == {"map", "shapeless", VENDOR_STYLE}
    v = d["verdict"]["scoring"]["24"]["short"]
    assert v["statement"].startswith("scoring, 24 h, short: the map")
    assert d["vendor_overstatement"]["scoring"]["1"]["long"]["vendor_over_realized"] > 0
    assert d["run_seconds"]["standing_maps"] == 24 * 40
    z = d["zeros"]["calibration"]["1"]["long"]
    assert z["rows"] >= z["map_zero"] >= 0
    html = _levels_section(tmp_path)
    assert "The map measured as a map" in html and "no-book" in html
    (tmp_path / "metrics-levels-S.json").write_text("{}")
    with pytest.raises(Exception, match="backtest --levels"):
        _levels_section(tmp_path)


def test_claims_are_reported_with_intervals(result):
    names = {e["name"] for e in result.claims["imbalance"]}
    assert "imbalance_20pct_24h_vs_realized_ratio" in names
    assert "imbalance_10pct_168h_toward_heavier_side" in names
    for e in result.claims["imbalance"]:
        assert -1 <= e["effect"] <= 1 and e["n"] > 0
    walls = result.claims["walls"]["calibration"][24]
    assert {e["name"] for e in walls["cluster"]["effects"]} == {"cluster_hit_rate",
                                                                "cluster_burst_log"}


def test_the_no_book_combiner_is_the_shipped_fit_without_its_book(window):
    data = window(n_hours=24 * 30, seed=8)
    rng = np.random.default_rng(2)
    n = len(data.bars)
    inp = {"book_usd": rng.lognormal(12, 1, n), "excursion": rng.lognormal(-7, 1, n),
           "range_x_oi_usd": rng.lognormal(15, 1, n)}
    y = rng.lognormal(12, 2, n)
    fit = fit_side(without_book({"long": inp})["long"], y)
    assert fit.coef[0] == pytest.approx(0.0, abs=1e-12) and fit.scale[0] == 1.0
    x = log_features(without_book({"long": inp})["long"], fit.scale)[:, [0, 2, 3]]
    coef, *_ = np.linalg.lstsq(x, np.log1p(y), rcond=None)
    np.testing.assert_allclose([fit.intercept, *fit.coef[1:]], coef, rtol=1e-9)
    assert len(FEATURES) == 3


@needs_data
@pytest.mark.shared_data
def test_window_a_calibration_only_through_the_cli(tmp_path):
    """Calibration span only (the scoring span is not read by the test suite)."""
    from liqmap.cli import app

    out = CliRunner().invoke(app, ["backtest", "--levels", "--calibration-only", "--window",
                                   "A", "--out", str(tmp_path), "--json"])
    assert out.exit_code == 0, out.output
    d = json.loads(out.output)
    assert d["calibration_only"] and d["spans"]["scoring"]["rows"] == 0
    assert d["run_seconds"]["standing_maps"] == 1408
    assert (tmp_path / "levels-A-calibration.csv").exists()
