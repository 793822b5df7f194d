"""Level-study extensions for the level test: first hits, walls with realized bursts, the
paired Spearman bootstrap (parity with scipy), and intervals that need two blocks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from liqmap.core.records import LiqMap
from liqmap.studies.level_study import densest_wall, largest_cluster, statement, wall_study
from liqmap.studies.reaction import (
    ReactionParams,
    block_bootstrap_ci,
    block_indices,
    bootstrap_spearman,
    first_hits,
    magnet_hits,
)

P = ReactionParams(n_boot=500)


def _walk(seed: int, n: int = 24 * 400):
    rng = np.random.default_rng(seed)
    c = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.004, n)))
    prev = np.r_[c[0], c[:-1]]
    return np.maximum(prev, c) * 1.0005, np.minimum(prev, c) * 0.9995, c, rng


def test_first_hits_agree_with_magnet_hits_and_find_the_first_bar():
    hi, lo, c, rng = _walk(0, 2000)
    dec = np.arange(10, 1900, 24)
    lv = c[dec] * (1 + rng.choice([-1, 1], dec.size) * rng.uniform(0.005, 0.03, dec.size))
    hit, t = first_hits(hi, lo, c, dec, lv, 24)
    np.testing.assert_array_equal(hit, magnet_hits(hi, lo, c, dec, lv, 24))
    for s, level, th in zip(dec, lv, t):
        if th < 0:
            continue
        reach = lo <= level if level < c[s] else hi >= level
        assert s < th <= s + 24 and reach[th] and not reach[s + 1: th].any()
    assert first_hits(hi, lo, c, [5], [np.nan], 24)[1].tolist() == [-1]


def test_wall_study_finds_planted_bursts_and_not_imagined_ones():
    hi, lo, c, rng = _walk(1)
    dec = np.arange(30, len(c) - 30, 24)
    side = rng.choice([-1.0, 1.0], dec.size)
    lv = c[dec] * (1 + 0.01 * side)
    quiet = rng.lognormal(10, 1, (2, len(c)))
    planted = quiet.copy()
    hit, t = first_hits(hi, lo, c, dec, lv, 24)
    for sd, th in zip(side, t):
        if th >= 0:
            planted[0 if sd < 0 else 1, th] *= 100.0  # the level's side bursts when reached
    res = {e.name: e for e in wall_study(hi, lo, c, planted[0], planted[1], dec, lv,
                                         np.full(dec.size, 1e6), P)["effects"]}
    assert res["cluster_burst_log"].ci_low > 2.0
    null = {e.name: e for e in wall_study(hi, lo, c, quiet[0], quiet[1], dec, lv,
                                          np.full(dec.size, 1e6), P, name="zone")["effects"]}
    for e in null.values():
        assert e.ci_low <= 0 <= e.ci_high, e
    assert "zones" in statement(null["zone_hit_rate"], P)


def test_largest_cluster_and_densest_wall_on_a_toy_map():
    c = np.arange(90_000.0, 110_000.0, 50.0)
    long_ = np.where(np.abs(c - 97_000) < 200, 5e6, 0.0) + np.where(np.abs(c - 99_800) < 100,
                                                                    9e7, 0.0)
    short_ = np.where(np.abs(c - 103_000) < 300, 1e6, 0.0)  # 11 bins: 1.1e7 < 3.5e7 longs
    m = LiqMap(0, 100_000.0, c, np.where(c <= 100_000, long_, 0), np.where(c >= 100_000,
                                                                             short_, 0))
    level, size = largest_cluster(m)  # the 9e7 peak is 0.2 % away: too near, not taken
    assert abs(level - 97_000) <= 50 and 1.1e7 < size <= 3.5e7
    edge, zsize = densest_wall(m)  # 2 % wide, the whole long block, nearest the price
    assert zsize == pytest.approx(3.5e7) and 97_150 < edge <= 99_000
    empty = LiqMap(0, 100_000.0, c, np.zeros(c.size), np.zeros(c.size))
    assert np.isnan(largest_cluster(empty)[0]) and np.isnan(densest_wall(empty)[0])


def test_bootstrap_spearman_is_scipy_on_each_draw():
    rng = np.random.default_rng(3)
    n = 240
    y = np.round(rng.normal(size=n), 1)
    x = np.where(rng.random(n) < 0.4, 0.0, y + rng.normal(size=n))  # many ties
    got = bootstrap_spearman([x, -x], y, 60, 12, 9)
    want = np.array([spearmanr(x[i], y[i])[0] for i in block_indices(n, 60, 12, 9)])
    np.testing.assert_allclose(got[:, 0], want, atol=1e-12)
    np.testing.assert_allclose(got[:, 1], -want, atol=1e-12)


def test_intervals_need_two_blocks():
    d = np.arange(9.0)
    assert np.isnan(block_bootstrap_ci(d, 100, 5, 0)).all()
    assert np.isfinite(block_bootstrap_ci(np.arange(10.0), 100, 5, 0)).all()
    assert np.isnan(bootstrap_spearman([d], d, 10, 5, 0)).all()
