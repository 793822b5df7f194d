"""Layers, the staircase and watch levels: hand-built maps whose clusters are known."""

from __future__ import annotations

import json
import math
from dataclasses import asdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqmap._exceptions import ConfigError
from liqmap.core import mapstats as ms
from liqmap.core._maplayers import spearman
from liqmap.core.records import LiqMap

BINS = np.arange(70_000.0, 110_001.0, 500.0)  # 500-unit bins: no smoothing at these prices


def mk(price: float, long_at: dict[float, float] | None = None,
       short_at: dict[float, float] | None = None) -> LiqMap:
    arrays = []
    for at in (long_at or {}, short_at or {}):
        a = np.zeros(BINS.size)
        for x, v in at.items():
            a[int(np.flatnonzero(x == BINS)[0])] = v
        arrays.append(a)
    return LiqMap(0, float(price), BINS, *arrays)


def prices(lay) -> list[float]:
    return [k.price_usd for k in lay.layers]


# ---------------------------------------------------------------- layers and staircase
def test_a_clear_staircase_88k_92k_96k():
    m = mk(85_000, short_at={88_000: 1e9, 92_000: 2e9, 96_000: 4e9})
    lay = ms.layers(m, "short")
    assert lay.side == "short" and prices(lay) == [88_000.0, 92_000.0, 96_000.0]
    assert [k.notional_usd for k in lay.layers] == [1e9, 2e9, 4e9]
    assert [round(k.distance_pct, 6) for k in lay.layers] == [
        round((x / 85_000 - 1) * 100, 6) for x in (88_000, 92_000, 96_000)]
    assert lay.staircase is True and lay.staircase_score == 1.0


def test_a_falling_one_is_not_a_staircase():
    m = mk(85_000, short_at={88_000: 4e9, 92_000: 2e9, 96_000: 1e9})
    lay = ms.layers(m, "short")
    assert prices(lay) == [88_000.0, 92_000.0, 96_000.0]  # still ordered outward
    assert lay.staircase is False and lay.staircase_score == -1.0


def test_a_mixed_one_scores_between():
    lay = ms.layers(mk(85_000, short_at={88_000: 1e9, 92_000: 3e9, 96_000: 2e9}), "short")
    assert lay.staircase is False and lay.staircase_score == pytest.approx(0.5)


def test_longs_stack_downward():
    m = mk(100_000, long_at={96_000: 1e9, 92_000: 2e9, 88_000: 4e9, 75_000: 1e8})
    lay = ms.layers(m, "long")
    assert prices(lay) == [96_000.0, 92_000.0, 88_000.0, 75_000.0]
    assert lay.staircase is False  # the far small one breaks the rise
    near = ms.layers(m, "long", reach_pct=20.0)  # 75k is 25 % below: out of reach
    assert prices(near) == [96_000.0, 92_000.0, 88_000.0] and near.staircase
    assert near.staircase_score == 1.0


def test_top_keeps_the_largest_then_orders_them_outward():
    m = mk(85_000, short_at={86_000: 1e8, 88_000: 5e9, 92_000: 2e8, 96_000: 3e9, 100_000: 4e9})
    lay = ms.layers(m, "short", top=3)
    assert prices(lay) == [88_000.0, 96_000.0, 100_000.0]


def test_fewer_than_three_layers_score_nan():
    lay = ms.layers(mk(85_000, short_at={88_000: 1e9, 92_000: 2e9}), "short")
    assert len(lay.layers) == 2 and lay.staircase is False and math.isnan(lay.staircase_score)
    empty = ms.layers(mk(85_000), "long")
    assert empty.layers == () and empty.staircase is False and math.isnan(empty.staircase_score)
    flat = ms.layers(mk(85_000, short_at={88_000: 1e9, 92_000: 1e9, 96_000: 1e9}), "short")
    assert flat.staircase is False and math.isnan(flat.staircase_score)  # equal notionals


@pytest.mark.parametrize("kw", [dict(side="both"), dict(side="short", reach_pct=0.0),
                                dict(side="short", top=0)])
def test_layers_errors(kw):
    with pytest.raises(ConfigError):
        ms.layers(mk(85_000), **kw)


def test_spearman_with_ties_is_pearson_on_mean_ranks():
    # ranks x 1..4, y 1.5 1.5 3.5 3.5: 4 / sqrt(5 x 4)
    assert spearman(np.array([1.0, 2, 3, 4]), np.array([1.0, 1, 2, 2])) == pytest.approx(
        4 / math.sqrt(20), rel=1e-12)
    assert spearman(np.array([3.0, 1, 2]), np.array([30.0, 10, 20])) == 1.0
    with pytest.raises(ConfigError):
        spearman(np.array([1.0, 2, 3]), np.array([1.0, 2]))


@st.composite
def stacked(draw):
    n = draw(st.integers(0, 7))
    xs = draw(st.lists(st.sampled_from(BINS[BINS > 86_000].tolist()), min_size=n, max_size=n,
                       unique=True))
    vs = draw(st.lists(st.integers(1, 10**6).map(float), min_size=n, max_size=n))
    return mk(85_000, short_at=dict(zip(xs, vs)))


@settings(max_examples=150, deadline=None)
@given(stacked(), st.integers(1, 8))
def test_layers_are_ordered_outward_and_the_score_is_bounded(m, top):
    lay = ms.layers(m, "short", top=top)
    d = [abs(k.distance_pct) for k in lay.layers]
    assert d == sorted(d) and len(lay.layers) <= top
    assert math.isnan(lay.staircase_score) or -1.0 <= lay.staircase_score <= 1.0
    if lay.staircase:
        assert lay.staircase_score == 1.0
    assert {k.price_usd for k in lay.layers} <= {
        k.price_usd for k in ms.clusters(m, "short", top=50)}


# ---------------------------------------------------------------- watch levels
def test_watch_levels_are_the_next_clusters_each_way():
    m = mk(85_000, long_at={80_000: 2e9, 75_000: 5e9, 70_000: 9e9},
           short_at={90_000: 1e9, 95_000: 3e9, 100_000: 2e9, 85_500: 1e7})
    w = ms.watch_levels(m)  # default 3 levels within 20 %: 70k is 17.6 % below
    assert [x[0] for x in w.above] == [90_000.0, 95_000.0, 100_000.0]  # 85.5k: a small bump
    assert [x[0] for x in w.below] == [80_000.0, 75_000.0, 70_000.0]
    price, notional, dist = w.above[0]
    assert (price, notional) == (90_000.0, 1e9) and dist == pytest.approx(100 * 5 / 85, rel=1e-12)
    assert w.below[1][2] == pytest.approx(-100 * 10 / 85, rel=1e-12)
    assert w.reach_pct == 20.0
    assert [x[0] for x in ms.watch_levels(m, n=1).above] == [90_000.0]
    assert [x[0] for x in ms.watch_levels(m, reach_pct=10.0).below] == [80_000.0]
    assert ms.watch_levels(m, min_share=0.0).above[0][0] == 85_500.0


def test_watch_levels_of_an_empty_map_and_as_json():
    w = ms.watch_levels(mk(85_000))
    assert w.above == () and w.below == ()
    m = mk(85_000, short_at={90_000: 1e9})
    d = ms.jsonable(asdict(ms.watch_levels(m)))
    assert json.loads(json.dumps(d)) == {"above": [[90_000.0, 1e9, pytest.approx(100 * 5 / 85)]],
                                         "below": [], "reach_pct": 20.0}


@pytest.mark.parametrize("kw", [dict(n=0), dict(n=True), dict(n=2.0), dict(reach_pct=-1.0),
                                dict(min_share=1.5), dict(min_share=math.nan)])
def test_watch_levels_errors(kw):
    with pytest.raises(ConfigError):
        ms.watch_levels(mk(85_000), **kw)
