"""Calibration: past data only (leak tests), selection through map_fn, walk-forward."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from liqmap._exceptions import ConfigError, DataError
from liqmap.scorecard.calibrate import (default_grid, fit_calibration, month_starts,
                                        simplex_leverage, slice_before, walk_forward)
from liqmap.scorecard.combine import fit_side
from liqmap.core.leverage import get_preset

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


def test_fit_side_recovers_a_known_model_and_matches_totals():
    rng = np.random.default_rng(5)
    book, bg = rng.lognormal(12, 1.5, 2000), rng.lognormal(14, 1, 2000)
    sb, se = np.median(book), np.median(bg)
    y = np.expm1(10 + 0.3 * np.log1p(book / sb) + 1.2 * np.log1p(bg / se))
    fit = fit_side(book, bg, y)
    assert fit.b_book == pytest.approx(0.3, abs=1e-9)
    assert fit.c_background == pytest.approx(1.2, abs=1e-9)
    assert fit.predict(book, bg).sum() == pytest.approx(y.sum(), rel=1e-9)
    with pytest.raises(DataError):
        fit_side(book[:5], bg[:5], y[:5])


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
