"""Array preparation behind the charts: windows, colour limits, downsampling, cumulation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as hs
from hypothesis.extra import numpy as hnp

from liqmap._exceptions import ConfigError, DataError
from liqmap.plots._prep import (
    HEAT_CLIP_PCT,
    cumulative_from_price,
    downsample_heat,
    heat_intensity,
    heat_limits,
    heat_y_range,
    map_x_range,
    realized_arrays,
)

values = hnp.arrays(np.float64, hs.integers(2, 60), elements=hs.floats(0, 1e9))


@given(values, hs.floats(0, 1))
def test_cumulative_curves_add_up_from_the_price_outward(v, where):
    bins = 100.0 + np.arange(v.size)
    price = bins[0] + where * (bins[-1] - bins[0])
    down = cumulative_from_price(bins, v, price, "down")
    up = cumulative_from_price(bins, v, price, "up")
    below, above = bins <= price, bins >= price
    assert np.all(np.isnan(down[~below])) and np.all(np.isnan(up[~above]))
    if below.any():
        assert np.isclose(down[below][0], v[below].sum(), rtol=1e-9)  # farthest bin: all of it
        assert np.all(np.diff(down[below]) <= 1e-6)  # grows away from the price (downward)
    if above.any():
        assert np.isclose(up[above][-1], v[above].sum(), rtol=1e-9)
        assert np.all(np.diff(up[above]) >= -1e-6)


def test_cumulative_rejects_unknown_direction():
    with pytest.raises(ConfigError):
        cumulative_from_price(np.arange(3.0), np.ones(3), 1.0, "sideways")


@given(hnp.arrays(np.float64, hs.tuples(hs.integers(1, 40), hs.integers(1, 50)),
                  elements=hs.floats(0, 1e8)), hs.integers(1, 12), hs.integers(1, 15))
def test_downsampling_keeps_notional_per_frame(z, max_frames, max_bins):
    ts = np.arange(z.shape[0], dtype=np.int64) * 300_000
    bins = 50_000.0 + 10 * np.arange(z.shape[1])
    ts_d, bins_d, (zd,) = downsample_heat(ts, bins, [z], max_frames=max_frames,
                                          max_bins=max_bins)
    assert zd.shape == (ts_d.size, bins_d.size)
    assert ts_d.size <= max(max_frames, 1) and bins_d.size <= max_bins
    # frames are picked (snapshots: first and last kept), bins split onto whole blocks:
    # each picked frame keeps its notional
    rows = np.searchsorted(ts, ts_d)
    assert np.array_equal(ts[rows], ts_d) and rows[0] == 0
    assert rows[-1] == z.shape[0] - 1 or max_frames == 1
    np.testing.assert_allclose(zd.sum(axis=1), z[rows].sum(axis=1), rtol=1e-9, atol=1e-6)


def test_one_hot_cell_does_not_set_the_colour_scale():
    rng = np.random.default_rng(1)
    z = rng.uniform(1e6, 5e7, (200, 300))
    vmin, vmax = heat_limits(z, log_scale=True)
    z_hot = z.copy()
    z_hot[10, 10] = 1e15
    vmin_hot, vmax_hot = heat_limits(z_hot, log_scale=True)
    assert np.isclose(vmax_hot, vmax, rtol=1e-3)
    assert np.isclose(vmax, np.percentile(z, HEAT_CLIP_PCT))
    assert 0 < vmin < vmax and heat_limits(z, log_scale=False)[0] == 0.0


def test_empty_book_still_has_a_scale():
    assert heat_limits(np.zeros((3, 4)), log_scale=True)[1] == 1.0


def test_y_window_holds_the_price_path_and_stays_near_it(synth):
    hm, _, wall = synth
    lo, hi = heat_y_range(hm, heat_intensity(hm, "both"))
    assert lo < hm.price_low_usd.min() and hi > hm.price_high_usd.max()
    assert lo > hm.price_low_usd.min() * 0.84 and hi < hm.price_high_usd.max() * 1.16
    assert lo < wall < hi  # the dense wall is inside
    assert hi < hm.price_bins_usd[-1] - 10_000  # trimmed: the empty top of the grid is cut


def test_side_must_be_known(synth):
    with pytest.raises(ConfigError):
        heat_intensity(synth[0], "both sides")
    hm = synth[0]
    assert np.allclose(heat_intensity(hm, "both"), hm.long_usd + hm.short_usd)


def test_map_window_includes_marks_within_the_cap(synth_map):
    m, _ = synth_map
    lo, hi = map_x_range(m, [m.price_usd * 1.2, m.price_usd * 5])
    assert hi >= m.price_usd * 1.2 and hi < m.price_usd * 1.36
    assert lo < m.price_usd < hi


def test_realized_accepts_strings_and_signed_ints():
    ts, px, n, is_long = realized_arrays(([1, 2], [9e4, 9.1e4], [1e6, 2e6], ["long", "short"]))
    assert is_long.tolist() == [True, False] and ts.dtype == np.int64
    signed = realized_arrays(([1, 2], [1.0, 1.0], [1.0, 1.0], np.array([1, -1], np.int8)))
    assert signed[3].tolist() == [True, False]


@pytest.mark.parametrize("bad", [(1, 2, 3), ([1], [1.0], [1.0], ["buy"]),
                                 ([1, 2], [1.0], [1.0], ["long"])])
def test_realized_rejects_malformed_input(bad):
    with pytest.raises(DataError):
        realized_arrays(bad)
