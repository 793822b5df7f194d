"""Calibration: past data only (leak tests), selection through map_fn, walk-forward."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from liqmap._exceptions import ConfigError, DataError
from liqmap.core.leverage import get_preset
from liqmap.scorecard.calibrate import (
    default_grid,
    fit_calibration,
    month_starts,
    simplex_leverage,
    slice_before,
    walk_forward,
)
from liqmap.scorecard.combine import FEATURES, SideFit, fit_side
from liqmap.scorecard.frame import score_frame
from liqmap.scorecard.metrics import baselines, score_predictor

SIDES = ("long", "short")

CAL_END_MS = 1_769_904_000_000


def _perturb_after(data, end_ms, seed=1):
    """Same window with realized values (and prices) after ``end_ms`` replaced."""
    rng = np.random.default_rng(seed)
    after = np.asarray(data.score_ts) >= end_ms
    rl, rs = data.realized_long_usd.copy(), data.realized_short_usd.copy()
    rl[after] = rng.lognormal(15, 3, after.sum())
    rs[after] = 0.0
    b = data.bars
    k = b.ts_ms >= end_ms
    bars = replace(b, high=np.where(k, b.high * 1.05, b.high), low=np.where(k, b.low * 0.95,
                                                                            b.low))
    return replace(data, bars=bars, realized_long_usd=rl, realized_short_usd=rs)


def test_scoring_span_values_do_not_change_the_fit(window, small_grid):
    data = window()
    a = fit_calibration(data, grid=small_grid, n_folds=3).preset.to_dict()
    b = fit_calibration(_perturb_after(data, CAL_END_MS), grid=small_grid,
                        n_folds=3).preset.to_dict()
    assert a == b
    assert a["fit_span"]["calibration_end"] == "2026-02-01T00:00Z"
    assert a["fit_span"]["end"] == "2026-01-31T23:00Z"
    # ... while a change inside the calibration span does change it
    c = fit_calibration(_perturb_after(data, CAL_END_MS - 10 * 86_400_000), grid=small_grid,
                        n_folds=3).preset.to_dict()
    assert c["combine"] != a["combine"]


def test_slice_before_drops_everything_from_the_cut(window):
    data = window(score_ms=1_800_000, bar_ms=300_000, n_hours=24 * 40)
    cut = slice_before(data, CAL_END_MS - 86_400_000)
    assert cut.bars.ts_ms.max() < CAL_END_MS - 86_400_000
    assert np.asarray(cut.score_ts).max() < CAL_END_MS - 86_400_000
    assert cut.realized_long_usd.size == np.asarray(cut.score_ts).size
    with pytest.raises(ConfigError):
        slice_before(data, int(data.bars.ts_ms[0]))


def test_grid_goes_through_map_fn_and_picks_the_best(window, small_grid):
    seen = []

    def mapper(fn, items):
        seen.extend(items)
        return [fn(x) for x in items]

    cal = fit_calibration(window(), grid=small_grid, map_fn=mapper, n_folds=3)
    assert seen == list(small_grid)
    scores = [s.cv_r2_log for s in cal.scores]
    best = cal.preset.selection["best"]
    assert best["cv_r2_log"] == max(scores)
    assert cal.preset.model.leverage == best["point"]["leverage"]
    assert cal.summary(top=2)["top"][0]["cv_r2_log"] == max(scores)


def _inputs(rng, n):
    return {f: rng.lognormal(10 + i, 1.0, n) for i, f in enumerate(FEATURES)}


def test_fit_side_recovers_a_known_model_and_matches_totals():
    rng = np.random.default_rng(5)
    x = _inputs(rng, 2000)
    true = (0.3, 1.2, -0.4)
    y = np.expm1(10 + sum(c * np.log1p(x[f] / np.median(x[f])) for c, f in zip(true, FEATURES)))
    fit = fit_side(x, y)
    np.testing.assert_allclose(fit.coef, true, atol=1e-9)
    assert fit.intercept == pytest.approx(10, abs=1e-9)
    assert fit.predict(x).sum() == pytest.approx(y.sum(), rel=1e-9)
    assert SideFit.from_dict(fit.to_dict()) == fit
    with pytest.raises(DataError):
        fit_side({f: v[:5] for f, v in x.items()}, y[:5])
    with pytest.raises(DataError, match="excursion"):
        fit_side({"book_usd": x["book_usd"]}, y)


def test_metric_transform_of_the_output_is_linear_in_the_log_fit():
    """log1p(pred / median(pred)) -- the scorecard's own transform -- is an affine function of
    the fitted log estimate on the fitting rows, so the metric sees the least-squares fit."""
    rng = np.random.default_rng(6)
    x = _inputs(rng, 801)  # odd: the median is one row's value
    y = np.expm1(9 + 0.8 * np.log1p(x["excursion"] / np.median(x["excursion"]))
                 + rng.normal(0, 1.0, 801))
    fit = fit_side(x, y, offset=0.1)
    pred, y_hat = fit.predict(x), fit.log_predict(x)
    seen = np.log1p(pred / np.median(pred))
    slope, icpt = np.polyfit(y_hat, seen, 1)
    np.testing.assert_allclose(seen, icpt + slope * y_hat, atol=1e-9)
    assert slope > 0 and pred.min() == 0.0 and np.median(pred) == pytest.approx(fit.smear)


def test_the_fit_nests_each_baseline_in_sample(window):
    """With offset 1 the excursion and range x OI baselines are regressors in the metric's
    own transform, so the model's in-sample r2_log / pearson_log cannot be below theirs."""
    fr = score_frame(window())
    rows = fr.scored & ~fr.is_scoring
    book = {sd: np.random.default_rng(7).lognormal(12, 1, fr.ts_ms.size) for sd in SIDES}
    inputs = fr.inputs(book)
    base = baselines(fr.open_usd, fr.high_usd, fr.low_usd, fr.oi_open_coin)
    none = np.zeros(int(rows.sum()), bool)
    for i, sd in enumerate(SIDES):
        sub = {f: v[rows] for f, v in inputs[sd].items()}
        y = fr.realized[sd][rows]
        model = score_predictor(fit_side(sub, y, 1.0).predict(sub), y, ~none, none,
                                usd=True)["calibration"]
        for name in ("excursion", "range_x_oi_usd"):
            b = score_predictor(base[name][i][rows], y, ~none, none)["calibration"]
            assert model.r2_log >= b.r2_log - 1e-9, (sd, name)
            assert model.pearson_log >= b.pearson_log - 1e-9, (sd, name)


def test_selection_records_the_baselines_cv(window, small_grid):
    sel = fit_calibration(window(), grid=small_grid[:1], n_folds=3).preset.selection
    assert set(sel["baselines_cv"]) == set(SIDES)
    for sd in SIDES:
        assert set(sel["baselines_cv"][sd]) == {"excursion", "excursion_x_oi_usd",
                                                "range_x_oi_usd"}
        for v in sel["baselines_cv"][sd].values():
            assert -1 < v["r2_log"] < 1 and -1 <= v["spearman"] <= 1
        assert np.isfinite(sel["best"]["r2_log"][sd])


def test_default_grid_is_valid_and_simplex_sums_to_one():
    grid = default_grid()
    assert len(grid) == len(set(grid)) == 560
    for lev in simplex_leverage(3):
        assert sum(get_preset(lev).weights) == pytest.approx(1.0)
    grid[0].model()  # builds


def test_month_starts():
    assert month_starts(CAL_END_MS, CAL_END_MS + 40 * 86_400_000) == [
        CAL_END_MS, 1_772_323_200_000]  # 2026-02-01, 2026-03-01


def test_walk_forward_uses_only_the_past(window, small_grid):
    data = window()  # 2026-01-01 -> 2026-03-16
    wf = walk_forward(data, grid=small_grid[:2], n_folds=3)
    assert [f["fit_end"] for f in wf.fits] == ["2026-02-01T00:00Z", "2026-03-01T00:00Z"]
    march = 1_772_323_200_000
    wf2 = walk_forward(_perturb_after(data, march), grid=small_grid[:2], n_folds=3)
    before = wf.ts_ms < march
    for sd in ("long", "short"):
        np.testing.assert_array_equal(wf.predicted[sd][before], wf2.predicted[sd][before])
        assert np.isfinite(wf.predicted[sd][wf.ts_ms >= march]).any()
    assert wf.fits[0] == wf2.fits[0] and wf.fits[1] == wf2.fits[1]
