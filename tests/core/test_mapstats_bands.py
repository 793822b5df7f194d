"""Low/central/high bands of clusters, the densest zone and max pain.

Hand-built maps whose band figures are known, the invariant low <= central <= high when the
band arrays bracket the central ones bin by bin, None without band, and the same fields on
the engine's own map, in the JSON API and in the map chart's labels.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqmap.core import mapstats as ms
from liqmap.core.records import LiqMap

# The production deadline (2 s) answers 503 while a cold numba compile runs on a slow CI
# machine; these tests check answers, not the deadline (tests/service/test_service_faults.py does).
SLOW_CI_DEADLINE_S = 120.0

GRID = np.arange(90.0, 111.0)  # price 100 sits on bin 100
NO_BAND = dict(long_low_usd=None, long_high_usd=None, short_low_usd=None, short_high_usd=None)


def at(**vals) -> np.ndarray:
    """Array over GRID with value v at price k for each ``_k=v`` keyword."""
    out = np.zeros(GRID.size)
    for key, v in vals.items():
        out[int(np.flatnonzero(float(key[1:]) == GRID)[0])] = v
    return out


def toy() -> LiqMap:
    """Longs 4/7/4 at 94/95/96, shorts 3 at 104; the bands are set by hand.

    The low band holds 100 at 93, outside the central cluster and zone: it must not count.
    """
    return LiqMap(
        0, 100.0, GRID,
        long_usd=at(_94=4, _95=7, _96=4), short_usd=at(_104=3),
        long_low_usd=at(_93=100, _94=2, _95=5, _96=1),
        long_high_usd=at(_94=6, _95=9, _96=5),
        short_low_usd=at(_104=1), short_high_usd=at(_104=6, _105=50),
    )


# ---------------------------------------------------------------- golden maps
def test_cluster_band_is_the_central_extent_on_the_band_arrays():
    long_k, short_k = ms.clusters(toy(), smooth_pct=0)
    assert (long_k.side, long_k.price_usd, long_k.from_usd, long_k.to_usd) == (
        "long", 95.0, 93.5, 96.5)
    assert (long_k.notional_low_usd, long_k.notional_usd, long_k.notional_high_usd) == (
        8.0, 15.0, 20.0)
    # the high band's 50 at 105 lies outside the central extent [103.5, 104.5]
    assert (short_k.notional_low_usd, short_k.notional_usd, short_k.notional_high_usd) == (
        1.0, 3.0, 6.0)


def test_cluster_band_per_side_and_within_max_distance():
    m = replace(toy(), short_low_usd=None)  # shorts lose their band, longs keep theirs
    got = {k.side: k for k in ms.clusters(m, smooth_pct=0)}
    assert got["short"].notional_low_usd is None and got["short"].notional_high_usd is None
    assert got["long"].notional_low_usd == 8.0
    # max_distance_pct cuts the band arrays like the central ones: 94 is 6 % away
    (k,) = ms.clusters(toy(), "long", smooth_pct=0, max_distance_pct=5.5)
    assert (k.from_usd, k.notional_usd, k.notional_low_usd, k.notional_high_usd) == (
        94.5, 11.0, 6.0, 14.0)


def test_zone_band_is_the_central_window_on_the_band_arrays():
    z = ms.densest_zone(toy(), "long", width_pct=3.0)
    assert (z.from_usd, z.to_usd) == (93.5, 96.5)
    assert (z.notional_low_usd, z.notional_usd, z.notional_high_usd) == (8.0, 15.0, 20.0)
    z = ms.densest_zone(toy(), "short", width_pct=1.0)
    assert (z.from_usd, z.notional_low_usd, z.notional_usd, z.notional_high_usd) == (
        103.5, 1.0, 3.0, 6.0)


def test_empty_zone_has_a_zero_band_when_there_is_a_band():
    z = ms.densest_zone(replace(toy(), price_usd=200.0), "short")  # no bin above the price
    assert math.isnan(z.from_usd) and z.notional_usd == 0.0
    assert (z.notional_low_usd, z.notional_high_usd) == (0.0, 0.0)
    z = ms.densest_zone(replace(toy(), price_usd=200.0, **NO_BAND), "short")
    assert (z.notional_low_usd, z.notional_high_usd) == (None, None)


def test_max_pain_band_by_hand():
    # central: long 98 scores 8/2^2 = 2 > short 104 at 20/4^2 = 1.25 -> long 98
    # low map: long 98 scores 2/4 = 0.5 < 20/16 -> short 104
    # high map: long 98 scores 8/4 = 2 < 40/16 = 2.5 -> short 104
    m = LiqMap(0, 100.0, GRID, at(_98=8), at(_104=20), long_low_usd=at(_98=2),
               long_high_usd=at(_98=8), short_low_usd=at(_104=20), short_high_usd=at(_104=40))
    mp = ms.harvest_level(m)
    assert (mp.side, mp.price_usd, mp.notional_usd) == ("long", 98.0, 8.0)
    assert (mp.notional_low_usd, mp.notional_high_usd) == (2.0, 8.0)
    assert (mp.level_low_usd, mp.level_high_usd) == (98.0, 104.0)
    # a band with the same ranking everywhere: one level, notionals scaled
    same = replace(m, long_low_usd=at(_98=6), long_high_usd=at(_98=12),
                   short_low_usd=at(_104=10), short_high_usd=at(_104=30))
    mp = ms.harvest_level(same)
    assert (mp.notional_low_usd, mp.notional_high_usd) == (6.0, 12.0)
    assert mp.level_low_usd == mp.level_high_usd == 98.0


def test_max_pain_band_counts_the_cumulative_move():
    # a fall to 97 sweeps the longs at 99, 98 and 97 on every map
    m = LiqMap(0, 100.0, GRID, at(_99=1, _98=2, _97=30), np.zeros(21),
               long_low_usd=at(_99=1, _97=10), long_high_usd=at(_99=3, _98=2, _97=40),
               short_low_usd=np.zeros(21), short_high_usd=np.zeros(21))
    mp = ms.harvest_level(m)
    assert (mp.price_usd, mp.notional_usd) == (97.0, 33.0)
    assert (mp.notional_low_usd, mp.notional_high_usd) == (11.0, 45.0)


def test_max_pain_band_when_the_central_map_has_no_level():
    m = LiqMap(0, 100.0, GRID, np.zeros(21), np.zeros(21), long_low_usd=np.zeros(21),
               long_high_usd=at(_95=4), short_low_usd=np.zeros(21), short_high_usd=np.zeros(21))
    mp = ms.harvest_level(m)
    assert mp.side == "none" and (mp.notional_low_usd, mp.notional_high_usd) == (0.0, 0.0)
    assert mp.level_low_usd == mp.level_high_usd == 95.0  # only the high map has a level
    bare = ms.harvest_level(replace(m, long_high_usd=np.zeros(21)))
    assert math.isnan(bare.level_low_usd) and math.isnan(bare.level_high_usd)
    assert ms.summary(replace(m, long_high_usd=np.zeros(21)))["max_pain"]["level_low_usd"] is None


# ---------------------------------------------------------------- no band
def test_no_band_gives_none_everywhere():
    m = replace(toy(), **NO_BAND)
    assert all(k.notional_low_usd is None and k.notional_high_usd is None
               for k in ms.clusters(m, top=10))
    for side in ("long", "short"):
        z = ms.densest_zone(m, side)
        assert z.notional_low_usd is None and z.notional_high_usd is None
    mp = ms.harvest_level(m)
    assert mp.price_usd == ms.harvest_level(toy()).price_usd
    assert (mp.notional_low_usd, mp.notional_high_usd, mp.level_low_usd,
            mp.level_high_usd) == (None, None, None, None)
    s = ms.summary(m)
    json.dumps(s, allow_nan=False)
    assert s["max_pain"]["level_low_usd"] is None and s["max_pain"]["notional_high_usd"] is None
    assert s["densest_zone"]["long"]["notional_low_usd"] is None
    assert s["clusters"]["long"][0]["notional_high_usd"] is None


def test_max_pain_needs_all_four_band_arrays():
    mp = ms.harvest_level(replace(toy(), short_high_usd=None))
    assert mp.notional_low_usd is None and mp.level_high_usd is None


def test_summary_carries_the_bands_as_strict_json():
    s = ms.summary(toy())
    json.dumps(s, allow_nan=False)
    k = s["clusters"]["long"][0]
    assert (k["notional_low_usd"], k["notional_usd"], k["notional_high_usd"]) == (8.0, 15.0, 20.0)
    z = s["densest_zone"]["short"]
    assert z["notional_low_usd"] == ms.densest_zone(toy(), "short").notional_low_usd
    mp = ms.harvest_level(toy())
    assert s["max_pain"]["notional_high_usd"] == mp.notional_high_usd
    assert s["max_pain"]["level_low_usd"] == mp.level_low_usd


# ---------------------------------------------------------------- invariants
notional = st.one_of(st.just(0.0), st.floats(0.0, 1e9))
share = st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0))


@st.composite
def bracketed_maps(draw):
    """Random map whose band arrays bracket the central arrays bin by bin."""
    n = draw(st.integers(2, 60))
    b = draw(st.sampled_from([0.5, 1.0, 10.0, 250.0]))
    c0 = draw(st.floats(100.0, 1000.0)) * b
    k = draw(st.integers(-3, n + 2))
    frac = draw(st.one_of(st.just(0.0), st.floats(-0.45, 0.45)))
    price = c0 + b * (k + frac)
    price = price if price > 0 else c0

    def arr(elements):
        return np.array(draw(st.lists(elements, min_size=n, max_size=n)))

    long_, short_ = arr(notional), arr(notional)
    bands = {}
    for side, central in (("long", long_), ("short", short_)):
        bands[f"{side}_low_usd"] = central * arr(share)  # <= central, rounding included
        bands[f"{side}_high_usd"] = central + arr(notional)  # >= central
    return LiqMap(0, float(price), c0 + b * np.arange(n), long_, short_, **bands)


def bracketed(low, central, high) -> bool:
    return low is not None and high is not None and low <= central <= high


@settings(max_examples=200, deadline=None)
@given(bracketed_maps(), st.floats(0.0, 5.0), st.floats(0.0, 1.0))
def test_cluster_band_brackets_the_central_notional(m, sep_pct, smooth_pct):
    got = ms.clusters(m, top=50, min_separation_pct=sep_pct, smooth_pct=smooth_pct)
    for k in got:
        assert bracketed(k.notional_low_usd, k.notional_usd, k.notional_high_usd), k
        inside = (m.price_bins_usd > k.from_usd) & (m.price_bins_usd < k.to_usd)
        low = getattr(m, f"{k.side}_low_usd")[inside].sum()
        assert k.notional_low_usd == pytest.approx(low, rel=1e-9, abs=1e-6)
    # detection is the central map's: the band never changes which peaks are found
    bare = ms.clusters(replace(m, **NO_BAND), top=50, min_separation_pct=sep_pct,
                       smooth_pct=smooth_pct)
    assert [(k.side, k.price_usd, k.from_usd, k.to_usd, k.notional_usd) for k in bare] == [
        (k.side, k.price_usd, k.from_usd, k.to_usd, k.notional_usd) for k in got]


@settings(max_examples=200, deadline=None)
@given(bracketed_maps(), st.sampled_from(["long", "short"]), st.floats(0.1, 10.0),
       st.floats(1.0, 50.0))
def test_zone_band_brackets_the_central_notional(m, side, width_pct, max_distance_pct):
    z = ms.densest_zone(m, side, width_pct=width_pct, max_distance_pct=max_distance_pct)
    assert bracketed(z.notional_low_usd, z.notional_usd, z.notional_high_usd), z
    bare = ms.densest_zone(replace(m, **NO_BAND), side, width_pct=width_pct,
                           max_distance_pct=max_distance_pct)
    assert (bare.from_usd, bare.notional_usd) == (z.from_usd, z.notional_usd) or (
        math.isnan(bare.from_usd) and math.isnan(z.from_usd))


@settings(max_examples=200, deadline=None)
@given(bracketed_maps())
def test_max_pain_band_brackets_and_spans_the_recomputed_levels(m):
    mp = ms.harvest_level(m)
    assert bracketed(mp.notional_low_usd, mp.notional_usd, mp.notional_high_usd), mp
    levels = [mp.price_usd] + [
        ms.harvest_level(replace(m, long_usd=getattr(m, f"long_{w}_usd"),
                            short_usd=getattr(m, f"short_{w}_usd"), **NO_BAND)).price_usd
        for w in ("low", "high")]
    levels = [x for x in levels if not math.isnan(x)]
    if not levels:
        assert math.isnan(mp.level_low_usd) and math.isnan(mp.level_high_usd)
        return
    assert (mp.level_low_usd, mp.level_high_usd) == (min(levels), max(levels))
    if mp.side != "none":
        assert mp.level_low_usd <= mp.price_usd <= mp.level_high_usd


# ---------------------------------------------------------------- the engine's map
@pytest.fixture(scope="module")
def sample_summary():
    from liqmap.io.sample import load_sample
    from liqmap.model import LiquidationModel

    return LiquidationModel().run(load_sample()).summary()


def test_engine_summary_carries_cluster_zone_and_max_pain_bands(sample_summary):
    s = sample_summary["map"]
    json.dumps(s, allow_nan=False)
    ks = s["clusters"]["long"] + s["clusters"]["short"]
    assert ks
    for k in ks:
        assert k["notional_low_usd"] <= k["notional_usd"] <= k["notional_high_usd"]
    assert any(k["notional_low_usd"] < k["notional_high_usd"] for k in ks)  # a real spread
    for z in s["densest_zone"].values():
        assert z["notional_low_usd"] <= z["notional_usd"] <= z["notional_high_usd"]
    mp = s["max_pain"]
    assert mp["notional_low_usd"] <= mp["notional_usd"] <= mp["notional_high_usd"]
    assert mp["level_low_usd"] <= mp["price_usd"] <= mp["level_high_usd"]


# ---------------------------------------------------------------- JSON API
@pytest.fixture(scope="module")
def client():
    from fastapi.testclient import TestClient

    from liqmap.service import create_app

    with TestClient(create_app(deadline_s=SLOW_CI_DEADLINE_S, admin_token="")) as c:
        yield c


def test_api_clusters_and_max_pain_carry_the_band(client):
    r = client.get("/api/v1/clusters", params={"top": 6})
    assert r.status_code == 200
    ks = r.json()["clusters"]
    assert ks
    for k in ks:
        assert k["notional_low_usd"] <= k["notional_usd"] <= k["notional_high_usd"]
    mp = client.get("/api/v1/max-pain").json()["max_pain"]
    assert mp["notional_low_usd"] <= mp["notional_usd"] <= mp["notional_high_usd"]
    assert mp["level_low_usd"] <= mp["price_usd"] <= mp["level_high_usd"]
    zone = client.get("/api/v1/map").json()["summary"]["densest_zone"]["long"]
    assert zone["notional_low_usd"] <= zone["notional_usd"] <= zone["notional_high_usd"]


def test_api_schema_documents_the_band_fields(client):
    comp = client.get("/openapi.json").json()["components"]["schemas"]
    assert {"notional_low_usd", "notional_high_usd"} <= set(comp["ClusterOut"]["properties"])
    assert {"notional_low_usd", "notional_high_usd", "level_low_usd",
            "level_high_usd"} <= set(comp["MaxPainLevel"]["properties"])


# ---------------------------------------------------------------- chart labels
def test_map_chart_labels_show_the_band():
    from liqmap.plots.mapchart import cluster_label, map_figure, usd_band

    m = toy()
    zone = ms.densest_zone(m, "long", width_pct=3.0)
    mp = ms.harvest_level(m)
    fig = map_figure(m, zone=zone, max_pain=mp, clusters=tuple(ms.clusters(m, smooth_pct=0)))
    words = [t.get_text().replace("\\$", "$") for a in fig.axes for t in a.texts]
    assert usd_band(15.0, 8.0, 20.0) == "$15.0 ($8.0–$20)"
    assert any(w.startswith("densest long zone") and w.endswith(": $15.0 ($8.0–$20)")
               for w in words)
    assert any(w.startswith("harvest level") and usd_band(mp.notional_usd, mp.notional_low_usd,
                                                     mp.notional_high_usd) in w for w in words)
    k = ms.clusters(m, "long", smooth_pct=0)[0]
    assert cluster_label(k, band=True) == "$15.0 ($8.0–$20) longs @ 95.00"
    assert cluster_label(k) == "$15.0 longs @ 95.00"
