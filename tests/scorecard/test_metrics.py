"""Scorecard metrics: hand-computed values and the perfect/random predictor checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liqmap._exceptions import DataError
from liqmap.scorecard.metrics import (
    METRIC_NAMES,
    SideMetrics,
    baselines,
    compare,
    fit_log_line,
    log_scale,
    r2,
    score_predictor,
    top_decile_share,
)


def test_top_decile_share_hand_value():
    y = np.array([0.0, 1.0, 5.0, 2.0, 9.0, 3.0])  # k = ceil(0.6) = 1 bar: the 9 of 20
    assert top_decile_share(y, y) == pytest.approx(9 / 20)


def test_top_decile_share_splits_ties_at_the_cut():
    x = np.zeros(20)
    x[0], x[1], x[2] = 3.0, 2.0, 2.0  # k = 2: bar 0 plus half of the two tied bars
    y = np.ones(20)
    y[0], y[1], y[2] = 10.0, 4.0, 6.0  # total 10 + 4 + 6 + 17 = 37
    assert top_decile_share(x, y) == pytest.approx((10 + 0.5 * (4 + 6)) / 37)


def test_top_decile_share_all_zero_predictor_is_random_share():
    y = np.arange(10.0)
    assert top_decile_share(np.zeros(10), y) == pytest.approx(0.1)
    assert math.isnan(top_decile_share(np.ones(3), np.zeros(3)))


def test_line_r2_and_scale_hand_values():
    assert fit_log_line([0, 1, 2], [1, 3, 5]) == pytest.approx((1.0, 2.0))
    assert fit_log_line([4, 4], [1, 3]) == pytest.approx((2.0, 0.0))
    assert r2([1, 2, 3], [1, 2, 4]) == pytest.approx(0.5)
    assert math.isnan(r2([2, 2], [1, 3]))
    assert log_scale([0.0, 1.0, 3.0, 2.0, -1.0]) == 2.0
    assert log_scale([0.0, 0.0]) == 1.0


def test_score_predictor_hand_values():
    # calibration: x = 1, 2, 3 (scale 2), y exactly on log1p(y) = 1 + 2 log1p(x / 2)
    xc = np.array([1.0, 2.0, 3.0])
    yc = np.expm1(1 + 2 * np.log1p(xc / 2))
    # scoring: x = 2, 4, 6 with residuals +0.1, -0.2, +0.1 on the log scale
    xs = np.array([2.0, 4.0, 6.0])
    res = np.array([0.1, -0.2, 0.1])
    ys_log = 1 + 2 * np.log1p(xs / 2) + res
    x = np.r_[xc, xs]
    y = np.r_[yc, np.expm1(ys_log)]
    cm = np.r_[np.ones(3, bool), np.zeros(3, bool)]
    out = score_predictor(x, y, cm, ~cm, usd=True)
    cal, sc = out["calibration"], out["scoring"]
    assert cal.r2_log == pytest.approx(1.0)
    assert cal.spearman == pytest.approx(1.0) and cal.pearson_log == pytest.approx(1.0)
    sst = float(((ys_log - ys_log.mean()) ** 2).sum())
    assert sc.r2_log == pytest.approx(1 - 0.06 / sst)
    assert sc.total_ratio == pytest.approx(12.0 / np.expm1(ys_log).sum())
    assert sc.n_bars == 3 and cal.n_bars == 3
    assert math.isnan(score_predictor(x, y, cm, ~cm)["scoring"].total_ratio)


def test_spearman_hand_value_and_overlap_rejected():
    x = np.array([1.0, 2.0, 3.0, 4.0, 10.0, 20.0, 30.0, 40.0])
    y = np.array([1.0, 2.0, 3.0, 4.0, 1.0, 3.0, 2.0, 4.0])
    cm = np.arange(8) < 4
    # 1 - 6 * sum(d^2) / (n (n^2 - 1)) = 1 - 6 * 2 / 60
    assert score_predictor(x, y, cm, ~cm)["scoring"].spearman == pytest.approx(0.8)
    with pytest.raises(DataError):
        score_predictor(x, y, cm, np.ones(8, bool))


def test_baselines_hand_values():
    b = baselines([100.0], [104.0], [97.0], [10.0])
    assert b["excursion"][0] == pytest.approx([0.03]) and b["excursion"][1] == pytest.approx([0.04])
    assert b["excursion_x_oi_usd"][0] == pytest.approx([30.0])
    assert b["excursion_x_oi_usd"][1] == pytest.approx([40.0])
    assert b["range_x_oi_usd"][0] == pytest.approx([70.0]) == b["range_x_oi_usd"][1]


def _synthetic(seed: int = 7, n: int = 1200):
    rng = np.random.default_rng(seed)
    realized = np.expm1(rng.gamma(2.0, 4.0, n))
    # a baseline that carries information: realized times noise
    baseline = realized * rng.lognormal(0.0, 1.0, n)
    cm = np.arange(n) < n // 3
    return rng, realized, baseline, cm


def _scores(x, y, cm):
    return score_predictor(x, y, cm, ~cm)["scoring"]


def test_perfect_predictor_beats_every_baseline():
    rng, y, base, cm = _synthetic()
    model = _scores(y, y, cm)
    for b in (base, rng.random(y.size)):
        c = compare(model, _scores(b, y, cm))
        assert c.beats and c.wins == METRIC_NAMES
        assert "the model beats" in c.statement("long", "b")


def test_random_predictor_does_not_beat_an_informative_baseline():
    rng, y, base, cm = _synthetic()
    c = compare(_scores(rng.random(y.size), y, cm), _scores(base, y, cm))
    assert not c.beats and c.wins == ()
    assert "does not beat" in c.statement("short", "excursion")


def test_undefined_metric_counts_as_a_loss():
    nan = float("nan")
    a = SideMetrics(nan, 0.5, 0.5, 0.5, nan, 10)
    b = SideMetrics(0.1, 0.1, 0.1, 0.1, nan, 10)
    c = compare(a, b)
    assert not c.beats and c.losses == ("spearman",)
    assert a.to_dict()["spearman"] is None
