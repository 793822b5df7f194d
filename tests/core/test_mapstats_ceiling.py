"""Squeeze ceiling and flush floor: hand-built walls with known ends, the band, invariants.

The posts' "max pain 104k: the short-squeeze ceiling, the wall is stacked all the way up to
it" is ``squeeze_ceiling``; liqmap's former ``max_pain`` (most notional per unit of push)
is now ``harvest_level``, the old names kept as aliases.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqmap._exceptions import ConfigError
from liqmap.core import mapstats as ms
from liqmap.core import records
from liqmap.core.records import LiqMap

GRID = np.arange(90.0, 201.0)  # 1-unit bins; price 100 sits on bin 100


def mk(price: float, long_usd, short_usd, bins=GRID, **kw) -> LiqMap:
    return LiqMap(0, float(price), np.asarray(bins, float), np.asarray(long_usd, float),
                  np.asarray(short_usd, float), **kw)


def spread(lo: float, hi: float, each: float = 1.0, bins=GRID) -> np.ndarray:
    """``each`` in every bin from ``lo`` to ``hi`` (inclusive), zero elsewhere."""
    return np.where((bins >= lo) & (bins <= hi), each, 0.0)


# ---------------------------------------------------------------- a wall ending at a known price
def test_uniform_wall_101_to_110_reaches_90_pct_at_109():
    m = mk(100, np.zeros(GRID.size), spread(101, 110))
    c = ms.squeeze_ceiling(m)
    # 10 bins of 1: the running sum from 101 reaches 9 = 0.9 x 10 at the 109 bin, not before
    assert (c.price_usd, c.distance_pct) == (109.0, 9.0)
    assert (c.shorts_total_usd, c.shorts_liquidated_usd, c.share, c.reach_pct) == (
        10.0, 9.0, 0.9, 50.0)
    assert c.price_low_usd is None and c.price_high_usd is None  # no band arrays
    assert ms.squeeze_ceiling(m, share=0.5).price_usd == 105.0
    assert ms.squeeze_ceiling(m, share=0.95).price_usd == 110.0  # 9.5 needs the last bin
    assert ms.squeeze_ceiling(m, share=1.0).price_usd == 110.0


def test_a_thin_spread_then_a_wall_puts_the_ceiling_on_the_wall():
    short = spread(101, 104) + np.where(GRID == 120, 20.0, 0.0)  # 4 + 20 = 24; 0.9 x 24 = 21.6
    c = ms.squeeze_ceiling(mk(100, np.zeros(GRID.size), short))
    assert (c.price_usd, c.shorts_liquidated_usd, c.shorts_total_usd) == (120.0, 24.0, 24.0)
    assert ms.squeeze_ceiling(mk(100, np.zeros(GRID.size), short), share=0.15).price_usd == 104.0


def test_flush_floor_mirrors_the_ceiling():
    f = ms.flush_floor(mk(100, spread(90, 99), np.zeros(GRID.size)))
    # from 99 down: 1, 2, ... 9 at the 91 bin
    assert (f.price_usd, f.distance_pct, f.longs_total_usd, f.longs_liquidated_usd) == (
        91.0, -9.0, 10.0, 9.0)
    assert ms.flush_floor(mk(100, spread(90, 99), np.zeros(GRID.size)), share=0.3).price_usd == 97.0


def test_the_bin_holding_the_price_sits_at_the_price_and_counts_on_both_sides():
    short = np.where(GRID == 100, 9.0, 0.0) + np.where(GRID == 101, 1.0, 0.0)
    long_ = np.where(GRID == 100, 5.0, 0.0)
    m = mk(100.3, long_, short)  # bin 100 = [99.5, 100.5) holds the price
    c, f = ms.squeeze_ceiling(m), ms.flush_floor(m)
    assert (c.price_usd, c.distance_pct, c.shorts_total_usd) == (100.3, 0.0, 10.0)
    assert (f.price_usd, f.distance_pct, f.longs_total_usd) == (100.3, 0.0, 5.0)


# ---------------------------------------------------------------- nothing in reach
def test_nothing_above_gives_nan_and_zero_totals():
    m = mk(100, spread(90, 99), spread(90, 99))  # shorts only below the price: none count
    c = ms.squeeze_ceiling(m)
    assert math.isnan(c.price_usd) and math.isnan(c.distance_pct)
    assert (c.shorts_total_usd, c.shorts_liquidated_usd) == (0.0, 0.0)
    f = ms.flush_floor(mk(100, spread(101, 110), np.zeros(GRID.size)))
    assert math.isnan(f.price_usd) and f.longs_total_usd == 0.0
    s = ms.summary(m)
    json.dumps(s, allow_nan=False)
    assert s["squeeze_ceiling"]["price_usd"] is None
    assert s["squeeze_ceiling"]["shorts_total_usd"] == 0.0


def test_a_price_off_the_grid():
    below = mk(300, spread(90, 99), spread(101, 110))
    assert math.isnan(ms.squeeze_ceiling(below).price_usd)
    assert math.isnan(ms.flush_floor(below).price_usd)  # 90..99 lie more than 50 % below 300


# ---------------------------------------------------------------- the reach
def test_shorts_beyond_plus_50_pct_are_excluded():
    short = spread(101, 110) + spread(151, 160, 100.0)  # the big wall starts past 150
    c = ms.squeeze_ceiling(mk(100, np.zeros(GRID.size), short))
    assert (c.price_usd, c.shorts_total_usd) == (109.0, 10.0)
    edge = short + np.where(GRID == 150, 10.0, 0.0)  # exactly +50 %: inside
    c = ms.squeeze_ceiling(mk(100, np.zeros(GRID.size), edge))
    assert (c.price_usd, c.shorts_total_usd, c.shorts_liquidated_usd) == (150.0, 20.0, 20.0)
    c = ms.squeeze_ceiling(mk(100, np.zeros(GRID.size), short), reach_pct=60.0)
    assert (c.price_usd, c.shorts_total_usd) == (159.0, 1010.0)  # 0.9 x 1010 = 909 at 159


def test_longs_beyond_minus_reach_are_excluded():
    bins = np.arange(40.0, 111.0)
    long_ = spread(95, 99, bins=bins) + np.where(bins == 45, 100.0, 0.0)  # 45 is -55 %
    f = ms.flush_floor(mk(100, long_, np.zeros(bins.size), bins=bins))
    assert (f.price_usd, f.longs_total_usd) == (95.0, 5.0)
    f = ms.flush_floor(mk(100, long_, np.zeros(bins.size), bins=bins), reach_pct=60.0)
    assert (f.price_usd, f.longs_total_usd) == (45.0, 105.0)


# ---------------------------------------------------------------- the band
def test_band_spans_the_ceilings_of_the_low_central_and_high_maps():
    short = spread(101, 110)  # ceiling 109
    low = spread(101, 103)  # 3 in all: 2.7 at 103
    high = short + np.where(GRID == 120, 30.0, 0.0)  # 40 in all: 36 at 120
    m = mk(100, np.zeros(GRID.size), short, short_low_usd=low, short_high_usd=high)
    c = ms.squeeze_ceiling(m)
    assert (c.price_low_usd, c.price_usd, c.price_high_usd) == (103.0, 109.0, 120.0)
    assert ms.flush_floor(m).price_low_usd is None  # the longs have no band
    bare = replace(m, short_low_usd=np.zeros(GRID.size), short_high_usd=np.zeros(GRID.size))
    c = ms.squeeze_ceiling(bare)
    assert (c.price_low_usd, c.price_high_usd) == (109.0, 109.0)  # band maps without shorts
    empty = replace(bare, short_usd=np.zeros(GRID.size))
    c = ms.squeeze_ceiling(empty)
    assert math.isnan(c.price_low_usd) and math.isnan(c.price_high_usd)


def test_floor_band_and_summary_carry_it():
    long_ = spread(90, 99)  # floor 91
    m = mk(100, long_, np.zeros(GRID.size), long_low_usd=spread(97, 99),
           long_high_usd=long_ + np.where(GRID == 90, 90.0, 0.0))
    f = ms.flush_floor(m)
    assert (f.price_low_usd, f.price_usd, f.price_high_usd) == (90.0, 91.0, 97.0)
    s = ms.summary(m)
    assert s["flush_floor"] == asdict(f)
    assert s["squeeze_ceiling"]["price_low_usd"] is None


# ---------------------------------------------------------------- errors and names
@pytest.mark.parametrize("kw", [dict(share=0.0), dict(share=1.5), dict(share=math.nan),
                                dict(reach_pct=0.0), dict(reach_pct=-5.0),
                                dict(reach_pct=math.inf)])
def test_bad_share_or_reach_is_a_config_error(kw):
    m = mk(100, spread(90, 99), spread(101, 110))
    for f in (ms.squeeze_ceiling, ms.flush_floor):
        with pytest.raises(ConfigError):
            f(m, **kw)


def test_max_pain_is_the_deprecated_name_of_harvest_level():
    assert ms.max_pain is ms.harvest_level
    assert records.MaxPain is records.HarvestLevel
    m = mk(100, np.where(GRID == 98, 8.0, 0.0), np.where(GRID == 104, 20.0, 0.0))
    s = ms.summary(m)
    assert s["max_pain"] == s["harvest_level"] == ms.jsonable(asdict(ms.harvest_level(m)))
    assert s["squeeze_ceiling"] == asdict(ms.squeeze_ceiling(m))
    assert s["squeeze_ceiling"]["price_usd"] == 104.0 and s["flush_floor"]["price_usd"] == 98.0


# ---------------------------------------------------------------- invariants
whole = st.one_of(st.just(0.0), st.integers(1, 10**6).map(float))  # exact running sums
SHARES = st.sampled_from([0.1, 0.25, 0.5, 0.75, 0.9, 1.0])


@st.composite
def maps(draw, bands=False):
    n = draw(st.integers(2, 40))
    b = draw(st.sampled_from([0.5, 1.0, 10.0, 250.0]))
    c0 = draw(st.floats(100.0, 1000.0)) * b
    k = draw(st.integers(-3, n + 2))
    frac = draw(st.one_of(st.just(0.0), st.floats(-0.45, 0.45)))  # clear of bin edges
    price = c0 + b * (k + frac)
    if price <= 0:
        price = c0
    arrays = [np.array(draw(st.lists(whole, min_size=n, max_size=n)))
              for _ in range(6 if bands else 2)]
    kw = {}
    if bands:
        kw = dict(zip(("long_low_usd", "long_high_usd", "short_low_usd", "short_high_usd"),
                      arrays[2:]))
    return mk(price, arrays[0], arrays[1], bins=c0 + b * np.arange(n), **kw)


def effective(m: LiqMap) -> np.ndarray:
    """Independent statement of the convention: the bin holding the price sits at the price."""
    half = m.bin_usd / 2
    return np.array([m.price_usd if c - half <= m.price_usd < c + half else c
                     for c in m.price_bins_usd])


def in_reach(m: LiqMap, side: str, reach_pct: float) -> np.ndarray:
    eff, p = effective(m), m.price_usd
    near = np.abs(eff - p) / p * 100 <= reach_pct * (1 + 1e-9)
    return near & ((eff >= p) if side == "short" else (eff <= p))


@settings(max_examples=150, deadline=None)
@given(maps(bands=True), SHARES, st.floats(1.0, 80.0))
def test_ceiling_at_or_above_and_floor_at_or_below_the_price(m, share, reach_pct):
    c = ms.squeeze_ceiling(m, share=share, reach_pct=reach_pct)
    f = ms.flush_floor(m, share=share, reach_pct=reach_pct)
    p = m.price_usd
    for lv, total, ok in ((c, c.shorts_total_usd, lambda x: x >= p),
                          (f, f.longs_total_usd, lambda x: x <= p)):
        if math.isnan(lv.price_usd):
            assert total == 0.0
            continue
        assert ok(lv.price_usd)
        assert lv.price_low_usd <= lv.price_usd <= lv.price_high_usd
        assert ok(lv.price_low_usd) and ok(lv.price_high_usd)
    shorts = m.short_usd[in_reach(m, "short", reach_pct)]
    assert c.shorts_total_usd == shorts.sum()
    if c.shorts_total_usd > 0:  # the lowest level that reaches the share
        eff = effective(m)
        done = np.array([m.short_usd[(eff >= p) & (eff <= x)].sum() for x in eff])
        reach = in_reach(m, "short", reach_pct) & (done >= share * c.shorts_total_usd)
        assert c.price_usd == eff[reach].min()
        assert c.shorts_liquidated_usd == done[eff == c.price_usd][0]


@settings(max_examples=150, deadline=None)
@given(maps(), st.floats(1.0, 80.0))
def test_share_one_gives_the_last_bin_with_positions_within_reach(m, reach_pct):
    eff = effective(m)
    for side, f, values in (("short", ms.squeeze_ceiling, m.short_usd),
                            ("long", ms.flush_floor, m.long_usd)):
        lv = f(m, share=1.0, reach_pct=reach_pct)
        held = eff[in_reach(m, side, reach_pct) & (values > 0)]
        if held.size == 0:
            assert math.isnan(lv.price_usd)
        else:
            assert lv.price_usd == (held.max() if side == "short" else held.min())


@settings(max_examples=150, deadline=None)
@given(maps(bands=True), SHARES, st.sampled_from([1e-6, 0.5, 3.0, 7.0, 1e4]))
def test_scaling_every_notional_leaves_the_levels_unchanged(m, share, factor):
    names = ("long_usd", "short_usd", "long_low_usd", "long_high_usd", "short_low_usd",
             "short_high_usd")
    scaled = replace(m, **{k: getattr(m, k) * factor for k in names})
    for f in (ms.squeeze_ceiling, ms.flush_floor):
        a, b = f(m, share=share), f(scaled, share=share)
        for name in ("price_usd", "distance_pct", "price_low_usd", "price_high_usd"):
            x, y = getattr(a, name), getattr(b, name)
            assert x == y or (math.isnan(x) and math.isnan(y)), (f.__name__, name, x, y)
