"""Map analytics: hand-computed maps with exact figures, error cases and invariants."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqmap._exceptions import ConfigError, DataError
from liqmap.core import mapstats as ms
from liqmap.core.records import LiqMap


def mk(price, bins, long, short, **kw) -> LiqMap:
    bins = np.asarray(bins, dtype=float)
    return LiqMap(0, float(price), bins, np.asarray(long, float), np.asarray(short, float), **kw)


def spikes(bins, **at) -> np.ndarray:
    """Array over ``bins`` with value v at price k for each ``_k=v`` keyword."""
    out = np.zeros(len(bins))
    for key, v in at.items():
        out[int(np.flatnonzero(bins == float(key[1:]))[0])] = v
    return out


GRID = np.arange(90.0, 111.0)  # price 100 sits on bin 100, which straddles it


# ---------------------------------------------------------------- cumulative
def test_cumulative_straddling_bin_counts_on_both_sides():
    m = mk(101.0, [99, 100, 101, 102], [1, 2, 3, 0], [0, 0, 4, 5])
    cl, cs = ms.cumulative(m)
    assert cl.tolist() == [6.0, 5.0, 3.0, 0.0]
    assert cs.tolist() == [0.0, 0.0, 4.0, 9.0]


def test_cumulative_price_on_a_bin_edge_belongs_to_the_upper_bin():
    m = mk(100.5, [99, 100, 101, 102], [1, 2, 3, 4], [1, 2, 3, 4])
    cl, cs = ms.cumulative(m)
    assert cl.tolist() == [6.0, 5.0, 3.0, 0.0]  # bin 101 = [100.5, 101.5) holds the price
    assert cs.tolist() == [0.0, 0.0, 3.0, 7.0]  # bin 100 is wholly below: no shorts counted


def test_cumulative_price_off_the_grid():
    m = mk(200.0, [99, 100, 101], [1, 2, 3], [5, 5, 5])
    cl, cs = ms.cumulative(m)
    assert cl.tolist() == [6.0, 5.0, 3.0]
    assert cs.tolist() == [0.0, 0.0, 0.0]


# ---------------------------------------------------------------- imbalance
def fourteen_to_one(**bands) -> LiqMap:
    bins = np.arange(50_000.0, 110_001.0, 1000.0)
    short = np.where((bins >= 85_000) & (bins <= 98_000), 1e9, 0.0)  # 14 x $1B
    short[bins == 105_000] = 5e9  # above 100k: outside the band
    long = spikes(bins, _70000=0.5e9, _80000=0.5e9, _60000=3e9)  # 60k is below -20 %
    return mk(84_000.0, bins, long, short, **bands)


def test_imbalance_fourteen_to_one():
    imb = ms.imbalance(fourteen_to_one(), 100 / 84 - 1, 0.20)
    assert (imb.short_usd, imb.long_usd, imb.ratio) == (14e9, 1e9, 14.0)
    assert imb.short_from_usd == 84_000.0
    assert imb.short_to_usd == pytest.approx(100_000.0)
    assert imb.long_from_usd == pytest.approx(67_200.0)
    assert imb.ratio_low is None and imb.ratio_high is None


def test_imbalance_near_edges_cut_the_bands():
    imb = ms.imbalance(fourteen_to_one(), 100 / 84 - 1, 0.3, up_from_pct=90 / 84 - 1,
                       down_from_pct=0.1)
    assert imb.short_usd == 9e9  # 90k..98k
    assert imb.long_usd == 3.5e9  # 60k and 70k; 80k is within 10 % of 84k
    assert imb.ratio == pytest.approx(9 / 3.5)


def test_imbalance_band_ratios_take_the_extreme_pairing():
    base = fourteen_to_one()
    m = fourteen_to_one(long_low_usd=0.5 * base.long_usd, long_high_usd=2 * base.long_usd,
                        short_low_usd=0.5 * base.short_usd, short_high_usd=2 * base.short_usd)
    imb = ms.imbalance(m, 100 / 84 - 1, 0.20)
    assert imb.ratio == 14.0
    assert imb.ratio_low == 3.5  # 7B shorts over 2B longs
    assert imb.ratio_high == 56.0  # 28B shorts over 0.5B longs


def test_imbalance_without_longs_is_inf_and_empty_is_nan():
    assert ms.imbalance(mk(100, GRID, np.zeros(21), np.ones(21))).ratio == math.inf
    assert math.isnan(ms.imbalance(mk(100, GRID, np.zeros(21), np.zeros(21))).ratio)


@pytest.mark.parametrize("kw", [
    {"up_pct": 0.1, "up_from_pct": 0.2},
    {"down_pct": 0.1, "down_from_pct": 0.1},
    {"up_pct": -0.1},
    {"down_from_pct": -0.01},
    {"up_pct": 20.0},
    {"down_pct": 1.5},
    {"up_pct": math.nan},
])
def test_imbalance_rejects_bad_bands(kw):
    with pytest.raises(ConfigError):
        ms.imbalance(mk(100, GRID, np.ones(21), np.ones(21)), **kw)


# ---------------------------------------------------------------- clusters
def test_clusters_extent_to_half_height_and_separation():
    long = spikes(GRID, _94=2, _95=6, _96=4, _97=1, _91=4)
    m = mk(100, GRID, long, spikes(GRID, _104=3))
    got = ms.clusters(m, smooth_pct=0)
    assert [(k.side, k.price_usd, k.notional_usd, k.from_usd, k.to_usd) for k in got] == [
        ("long", 95.0, 10.0, 94.5, 96.5), ("long", 91.0, 4.0, 90.5, 91.5),
        ("short", 104.0, 3.0, 103.5, 104.5)]
    assert got[0].distance_pct == -5.0
    wide = ms.clusters(m, smooth_pct=0, min_separation_pct=5.0)
    assert [k.price_usd for k in wide] == [95.0, 104.0]
    assert [k.price_usd for k in ms.clusters(m, "short", smooth_pct=0)] == [104.0]
    assert [k.price_usd for k in ms.clusters(m, smooth_pct=0, top=1)] == [95.0]
    assert [k.price_usd for k in ms.clusters(m, smooth_pct=0, max_distance_pct=6)] == [95.0, 104.0]


def test_clusters_stop_at_the_valley_between_peaks():
    m = mk(100, GRID, spikes(GRID, _94=6, _95=4, _96=5), np.zeros(21))
    got = ms.clusters(m, "long", smooth_pct=0, min_separation_pct=2.0)
    assert [(k.price_usd, k.notional_usd, k.from_usd, k.to_usd) for k in got] == [
        (94.0, 10.0, 93.5, 95.5), (96.0, 5.0, 95.5, 96.5)]
    assert [k.price_usd for k in ms.clusters(m, "long", smooth_pct=0, min_separation_pct=2.5)] == [94.0]


def test_clusters_smoothing_keeps_the_raw_notional():
    m = mk(100, GRID, spikes(GRID, _95=10), np.zeros(21))
    (k,) = ms.clusters(m, "long", smooth_pct=1.0)  # sigma = 1 bin
    assert (k.price_usd, k.notional_usd, k.from_usd, k.to_usd) == (95.0, 10.0, 93.5, 96.5)


@pytest.mark.parametrize("kw", [{"side": "up"}, {"top": 0}, {"top": 1.5}, {"min_separation_pct": -1},
                                {"smooth_pct": math.inf}, {"max_distance_pct": 0}])
def test_clusters_reject_bad_parameters(kw):
    with pytest.raises(ConfigError):
        ms.clusters(mk(100, GRID, np.ones(21), np.ones(21)), **kw)


# ---------------------------------------------------------------- densest zone
def test_densest_zone_hand():
    long = spikes(GRID, _92=4, _93=4, _97=3, _98=5)
    m = mk(100, GRID, long, spikes(GRID, _104=5, _105=5))
    z = ms.densest_zone(m, "long", width_pct=2.0)
    assert (z.side, z.from_usd, z.to_usd, z.notional_usd, z.distance_pct) == ("long", 96.5, 98.5, 8.0, -2.5)
    z = ms.densest_zone(m, "long", width_pct=2.0, max_distance_pct=2.0)
    assert (z.from_usd, z.to_usd, z.notional_usd) == (97.5, 99.5, 5.0)  # only 98..100 in range
    z = ms.densest_zone(m, "short", width_pct=3.0)
    assert (z.from_usd, z.to_usd, z.notional_usd) == (102.5, 105.5, 10.0)  # ties: nearest wins


def test_densest_zone_empty_side_and_errors():
    m = mk(200, GRID, np.ones(21), np.ones(21))
    z = ms.densest_zone(m, "short")
    assert z.notional_usd == 0.0 and math.isnan(z.from_usd)
    with pytest.raises(ConfigError):
        ms.densest_zone(m, "both")
    with pytest.raises(ConfigError):
        ms.densest_zone(m, "long", width_pct=0)


# ---------------------------------------------------------------- harvest level (formerly max pain)
def test_max_pain_hand():
    m = mk(100, GRID, spikes(GRID, _99=1, _98=8), spikes(GRID, _104=20))
    mp = ms.harvest_level(m)  # long 98: 9 / 2^2 = 2.25; long 99: 1; short 104: 20 / 16
    assert (mp.side, mp.price_usd, mp.notional_usd, mp.distance_pct) == ("long", 98.0, 9.0, -2.0)
    assert mp.score_usd_per_pct2 == 2.25
    m = mk(100, GRID, spikes(GRID, _99=1, _98=8), spikes(GRID, _103=10, _104=30))
    mp = ms.harvest_level(m)  # short 104: 40 / 16 = 2.5
    assert (mp.side, mp.price_usd, mp.notional_usd, mp.distance_pct) == ("short", 104.0, 40.0, 4.0)
    near = mk(100, GRID, spikes(GRID, _99=5), np.zeros(21))
    assert ms.harvest_level(near).price_usd == 99.0  # 5 / 1
    far = ms.harvest_level(near, min_distance_pct=1.5)  # a fall to 98 still sweeps the 99 longs: 5 / 4
    assert (far.price_usd, far.notional_usd, far.score_usd_per_pct2) == (98.0, 5.0, 1.25)
    empty = ms.harvest_level(mk(100, GRID, np.zeros(21), np.zeros(21)))
    assert (empty.side, empty.notional_usd) == ("none", 0.0) and math.isnan(empty.price_usd)


def test_max_pain_errors():
    m = mk(100, GRID, np.ones(21), np.ones(21))
    for kw in ({"min_distance_pct": 0}, {"min_distance_pct": 5, "max_distance_pct": 5}):
        with pytest.raises(ConfigError):
            ms.harvest_level(m, **kw)


# ---------------------------------------------------------------- rebin / aggregate
def test_rebin_linear_split_and_edges():
    out = ms.rebin(np.array([100.25, 99.0, 103.0]), np.array([4.0, 1.0, 2.0]),
                   np.array([100.0, 101.0, 102.0]))
    assert out.tolist() == [4.0, 1.0, 2.0]  # 100.25 -> 3 + 1; 99 -> first; 103 -> last
    assert ms.rebin(np.array([1.0, 5.0]), np.array([2.0, 3.0]), np.array([7.0])).tolist() == [5.0]
    with pytest.raises(ConfigError):
        ms.rebin(np.array([1.0]), np.array([1.0]), np.array([2.0, 1.0]))
    with pytest.raises(DataError):
        ms.rebin(np.array([1.0, 2.0]), np.array([1.0]), np.array([1.0, 2.0]))


def test_aggregate_two_grids():
    a = LiqMap(5, 100.0, np.array([99.0, 100.0, 101.0]), np.array([1.0, 2.0, 3.0]),
               np.array([0.0, 0.0, 1.0]))  # maps of one instant (issue #11)
    b = LiqMap(5, 101.0, np.array([98.0, 100.0, 102.0]), np.ones(3), np.zeros(3), venue="bybit")
    agg = ms.aggregate([a, b])
    assert agg.price_bins_usd.tolist() == [98.0, 100.0, 102.0]
    assert agg.long_usd.tolist() == [1.5, 5.0, 2.5]
    assert agg.short_usd.tolist() == [0.0, 0.5, 0.5]
    assert (agg.venue, agg.price_usd, agg.ts_ms, agg.symbol) == ("aggregate", 100.5, 5, "BTC/USDT:USDT")
    assert agg.long_low_usd is None
    fine = ms.aggregate([a, b], bin_usd=0.5)
    assert fine.long_usd.sum() == 9.0 and fine.price_bins_usd[0] == 98.0


def test_aggregate_sums_bands_when_all_have_them():
    band = {k: np.full(3, v) for k, v in
            (("long_low_usd", 1.0), ("long_high_usd", 2.0), ("short_low_usd", 3.0), ("short_high_usd", 4.0))}
    a = mk(100.0, [99, 100, 101], np.ones(3), np.ones(3), **band)
    agg = ms.aggregate([a, a])
    assert agg.short_high_usd.tolist() == [8.0, 8.0, 8.0]


@pytest.mark.parametrize("maps, kw", [
    ([], {}),
    ([mk(100, [99, 100], [1, 1], [1, 1])], {"bin_usd": 0.0}),
    ([mk(100, [99, 100], [1, 1], [1, 1]), mk(3000, [2999, 3000], [1, 1], [1, 1])], {}),
    ([mk(100, [99, 100], [1, 1], [1, 1]),
      LiqMap(300_000, 100.0, np.array([99.0, 100.0]), np.ones(2), np.ones(2))], {}),
])
def test_aggregate_errors(maps, kw):
    with pytest.raises(ConfigError):
        ms.aggregate(maps, **kw)


def test_malformed_maps_are_data_errors():
    with pytest.raises(DataError):
        ms.cumulative(mk(100, [99, 100, 102], [1, 1, 1], [1, 1, 1]))  # uneven bins
    with pytest.raises(DataError):
        ms.cumulative(mk(100, [99, 100], [1, -1], [1, 1]))
    with pytest.raises(DataError):
        ms.cumulative(mk(100, [99, 100], [1, 1], [1, 1, 1]))


# ---------------------------------------------------------------- summary
def test_summary_is_strict_json_and_matches_the_functions():
    m = fourteen_to_one()
    s = ms.summary(m)
    json.dumps(s, allow_nan=False)
    assert s["total_short_usd"] == 19e9 and s["total_long_usd"] == 4e9
    assert s["imbalance"]["20pct"]["short_usd"] == ms.imbalance(m, 0.2, 0.2).short_usd
    assert s["max_pain"]["price_usd"] == ms.harvest_level(m).price_usd
    assert s["densest_zone"]["short"]["notional_usd"] == ms.densest_zone(m, "short").notional_usd
    assert s["clusters"]["long"][0]["price_usd"] == ms.clusters(m, "long")[0].price_usd
    assert ms.summary(mk(100, GRID, np.zeros(21), np.ones(21)))["imbalance"]["10pct"]["ratio"] is None


# ---------------------------------------------------------------- properties
notional = st.one_of(st.just(0.0), st.floats(0.0, 1e9))


@st.composite
def maps(draw, bands=False):
    n = draw(st.integers(2, 60))
    b = draw(st.sampled_from([0.5, 1.0, 10.0, 250.0]))
    c0 = draw(st.floats(100.0, 1000.0)) * b
    k = draw(st.integers(-3, n + 2))
    frac = draw(st.one_of(st.just(0.0), st.floats(-0.45, 0.45)))  # clear of bin edges
    price = c0 + b * (k + frac)
    if price <= 0:
        price = c0
    arrays = [np.array(draw(st.lists(notional, min_size=n, max_size=n))) for _ in range(2)]
    kw = {}
    if bands:
        kw = {name: arrays[i % 2] * f for i, (name, f) in enumerate(
            (("long_low_usd", 0.5), ("short_low_usd", 0.5), ("long_high_usd", 2.0), ("short_high_usd", 2.0)))}
    return mk(price, c0 + b * np.arange(n), arrays[0], arrays[1], **kw)


def effective(m):
    """Independent statement of the convention: the bin holding the price sits at the price."""
    half = m.bin_usd / 2
    return np.array([m.price_usd if c - half <= m.price_usd < c + half else c for c in m.price_bins_usd])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e3, 1e3), st.floats(0, 1e9)), min_size=1, max_size=40),
       st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=30, unique=True))
def test_rebin_conserves_notional(points, new):
    x, v = (np.array(a) for a in zip(*points))
    out = ms.rebin(x, v, np.sort(np.array(new)))
    assert out.sum() == pytest.approx(v.sum(), rel=1e-9, abs=1e-6)
    assert np.all(out >= 0)


@settings(max_examples=100, deadline=None)
@given(maps(bands=True))
def test_aggregate_of_one_map_is_itself(m):
    agg = ms.aggregate([m])
    for name in ("price_bins_usd", "long_usd", "short_usd", "long_low_usd", "short_high_usd"):
        assert np.array_equal(getattr(agg, name), getattr(m, name))
    assert agg.price_usd == m.price_usd


@settings(max_examples=200, deadline=None)
@given(maps())
def test_cumulative_grows_away_from_the_price(m):
    cl, cs = ms.cumulative(m)
    eff = effective(m)
    below, above = eff <= m.price_usd, eff >= m.price_usd
    assert np.all(np.diff(cl[below]) <= 0) and np.all(np.diff(cs[above]) >= 0)
    assert np.all(cl[~below] == 0) and np.all(cs[~above] == 0)
    assert cl.max() == pytest.approx(m.long_usd[below].sum(), rel=1e-12, abs=0)


@settings(max_examples=200, deadline=None)
@given(maps(), st.sampled_from(["long", "short"]), st.floats(0.1, 10.0), st.floats(1.0, 50.0))
def test_densest_zone_beats_every_window(m, side, width_pct, max_distance_pct):
    z = ms.densest_zone(m, side, width_pct=width_pct, max_distance_pct=max_distance_pct)
    eff = effective(m)
    ok = (eff <= m.price_usd) if side == "long" else (eff >= m.price_usd)
    ok &= np.abs(eff - m.price_usd) / m.price_usd * 100 <= max_distance_pct * (1 + 1e-9)
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        assert z.notional_usd == 0.0
        return
    n = round((z.to_usd - z.from_usd) / m.bin_usd)
    vals = (m.long_usd if side == "long" else m.short_usd)
    best = max(vals[i: i + n].sum() for i in range(idx[0], idx[-1] - n + 2))
    assert z.notional_usd >= best * (1 - 1e-9) - 1e-6


@settings(max_examples=200, deadline=None)
@given(maps(), st.floats(0.0, 5.0), st.floats(0.0, 1.0))
def test_clusters_are_separated_sorted_and_disjoint(m, sep_pct, smooth_pct):
    got = ms.clusters(m, top=50, min_separation_pct=sep_pct, smooth_pct=smooth_pct)
    notionals = [k.notional_usd for k in got]
    assert notionals == sorted(notionals, reverse=True)
    for side in ("long", "short"):
        ks = sorted((k for k in got if k.side == side), key=lambda k: k.price_usd)
        for a, b in zip(ks, ks[1:]):
            assert (b.price_usd - a.price_usd) / m.price_usd * 100 >= sep_pct * (1 - 1e-9)
            assert a.to_usd <= b.from_usd + 1e-9 * m.price_usd
        total = (m.long_usd if side == "long" else m.short_usd).sum()
        assert sum(k.notional_usd for k in ks) <= total * (1 + 1e-9)
        assert all(k.from_usd < k.price_usd < k.to_usd for k in ks)


@settings(max_examples=200, deadline=None)
@given(maps(bands=True), st.floats(0.01, 0.5), st.floats(0.01, 0.9), st.floats(0, 0.99), st.floats(0, 0.99))
def test_imbalance_equals_direct_sums(m, up, down, up_from_share, down_from_share):
    up_from, down_from = up * up_from_share, down * down_from_share
    imb = ms.imbalance(m, up, down, up_from_pct=up_from, down_from_pct=down_from)
    p, tol = m.price_usd, 1e-9 * m.price_usd
    shorts = longs = 0.0
    for e, lv, sv in zip(effective(m), m.long_usd, m.short_usd):
        if p <= e and p * (1 + up_from) - tol <= e <= p * (1 + up) + tol:
            shorts += sv
        if e <= p and p * (1 - down) - tol <= e <= p * (1 - down_from) + tol:
            longs += lv
    assert imb.short_usd == pytest.approx(shorts, rel=1e-12, abs=0)
    assert imb.long_usd == pytest.approx(longs, rel=1e-12, abs=0)
    if longs > 1e-200:  # subnormal notionals underflow in the halved band
        assert imb.ratio == pytest.approx(shorts / longs, rel=1e-9)
        assert imb.ratio_low == pytest.approx(0.5 * shorts / (2 * longs), rel=1e-9)
        assert imb.ratio_high == pytest.approx(2 * shorts / (0.5 * longs), rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(maps())
def test_max_pain_has_the_best_score(m):
    mp = ms.harvest_level(m)
    cl, cs = ms.cumulative(m)
    eff = effective(m)
    d = np.abs(eff - m.price_usd) / m.price_usd * 100
    pain = np.where(eff < m.price_usd, cl, cs)
    ok = (d >= 0.5 * (1 - 1e-9)) & (d <= 15 * (1 + 1e-9)) & (pain > 0)
    if not ok.any():
        assert mp.side == "none"
        return
    assert mp.score_usd_per_pct2 >= (pain[ok] / d[ok] ** 2).max() * (1 - 1e-9)
    assert mp.notional_usd == pain[eff == mp.price_usd][0]
