"""Warm-up: a short lookback drawn over the levels standing at its start (issue #15).

``LiquidationModel.run(bars, lookback=, warmup=, opened_within=)`` runs the engine from
``warmup`` before the drawn span; the heatmap covers the drawn span only.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from liqmap import ConfigError
from liqmap.cli import app, main
from liqmap.io.sample import load_sample
from liqmap.model import LOOKBACKS_MS, LiquidationModel
from liqmap.params import DEFAULT_WARMUP_MS, parse_run_param
from liqmap.timeutil import MS_PER_DAY, MS_PER_HOUR

DAY_BARS = LOOKBACKS_MS["24h"] // 300_000


@pytest.fixture(scope="module")
def sample():
    return load_sample()


@pytest.fixture(scope="module")
def warm(sample):
    """The 24h heatmap of the sample with the default warm-up (all 29.5 days before it)."""
    return LiquidationModel().run(sample, lookback="24h")


def _total(long_usd, short_usd) -> float:
    return float(np.sum(long_usd) + np.sum(short_usd))


def test_the_drawn_span_is_the_lookback_and_the_rest_is_warm_up(sample, warm):
    assert len(warm.bars) == len(sample)  # the sample is shorter than 90 days + 24 h
    assert len(warm.drawn_bars) == DAY_BARS and warm.warmup_bars == len(sample) - DAY_BARS
    hm = warm.heatmap
    assert hm.ts_ms[0] == warm.drawn_bars.ts_ms[0] and hm.ts_ms[-1] == sample.ts_ms[-1]
    np.testing.assert_array_equal(hm.price_ts_ms, warm.drawn_bars.ts_ms)  # the price line too
    # the per-bar predictions cover every bar run
    assert warm.predicted_long_usd.shape == (len(warm.bars),)


def test_first_drawn_frame_is_the_book_of_a_full_run_at_that_bar(sample, warm):
    hm, t0 = warm.heatmap, int(warm.heatmap.ts_ms[0])
    first = _total(hm.long_usd[0], hm.short_usd[0])
    assert first > 1e9  # standing levels, not an empty first column
    # a run over all bars with a frame per bar: the same set-up, so the very same book
    full = LiquidationModel(frames=len(sample)).run(sample)
    kept = full.map_at(t0, frames=True)
    np.testing.assert_allclose(hm.long_usd[0], kept.long_usd, rtol=1e-9, atol=0)
    np.testing.assert_allclose(hm.short_usd[0], kept.short_usd, rtol=1e-9, atol=0)
    assert first == pytest.approx(_total(kept.long_usd, kept.short_usd), rel=1e-9)
    # the map re-run up to that bar (map_at without frames) fixes its reference price on
    # the bars up to it (the median close): the same book but for bins flipped by that
    assert first == pytest.approx(_total(*_lr(full.map_at(t0))), rel=1e-6)


def _lr(m):
    return m.long_usd, m.short_usd


def test_warmup_zero_is_the_old_behaviour_exactly(sample):
    m = LiquidationModel()
    old = m.run(sample.window(int(sample.ts_ms[-1]) + 300_000 - LOOKBACKS_MS["24h"]))
    new = m.run(sample, lookback="24h", warmup="0")
    assert new.warmup_bars == 0 and len(new.bars) == len(old.bars) == DAY_BARS
    np.testing.assert_array_equal(new.heatmap.long_usd, old.heatmap.long_usd)
    np.testing.assert_array_equal(new.final_map.short_usd, old.final_map.short_usd)
    np.testing.assert_array_equal(new.predicted_long_usd, old.predicted_long_usd)
    s = new.summary()
    assert s["warmup_bars"] == 0 and s["first_frame_total_usd"] == 0.0  # the empty start
    assert s["bars"] == DAY_BARS


def test_opened_within_sets_the_warm_up_start(sample):
    m = LiquidationModel(band="none")
    a = m.run(sample, lookback="24h", opened_within="7d")
    b = m.run(sample, lookback="24h", warmup="6d")
    assert a.warmup_bars == b.warmup_bars == 6 * DAY_BARS
    np.testing.assert_array_equal(a.final_map.long_usd, b.final_map.long_usd)
    # both given: only when they agree
    assert m.run(sample, lookback="24h", warmup="6d", opened_within="7d").warmup_bars == \
        6 * DAY_BARS
    with pytest.raises(ConfigError, match="disagree"):
        m.run(sample, lookback="24h", warmup="1d", opened_within="7d")
    # without a lookback the counted span is the drawn span
    c = m.run(sample, opened_within="3d")
    assert c.warmup_bars == 0 and len(c.bars) == 3 * DAY_BARS


def test_opened_within_shorter_than_the_lookback_is_refused(sample):
    with pytest.raises(ConfigError, match="shorter than the lookback"):
        LiquidationModel().run(sample, lookback="7d", opened_within="24h")


def test_the_default_warm_up_is_90_days_cut_to_the_data(sample):
    assert DEFAULT_WARMUP_MS == 90 * MS_PER_DAY
    assert parse_run_param("warmup", "36h") == 36 * MS_PER_HOUR
    est = LiquidationModel(band="none").run(sample, lookback="24h", warmup="2d")
    assert est.warmup_bars == 2 * DAY_BARS


@pytest.mark.parametrize("bad", ["-1d", "soon", "1.5", "1000d"])
def test_bad_warm_up_names_what_is_allowed(sample, bad):
    with pytest.raises(ConfigError, match="warmup must be a duration"):
        LiquidationModel().run(sample, lookback="24h", warmup=bad)


def test_summary_gives_warm_up_bars_and_the_first_frame_total(warm):
    s = warm.summary()
    hm = warm.heatmap
    assert s["warmup_bars"] == warm.warmup_bars > 0
    assert s["first_frame_total_usd"] == pytest.approx(_total(hm.long_usd[0], hm.short_usd[0]))
    assert s["bars"] == DAY_BARS and s["start_ms"] == int(warm.drawn_bars.ts_ms[0])
    assert s["run_start_ms"] == int(warm.bars.ts_ms[0])
    assert s["predicted_long_usd"] == pytest.approx(
        warm.predicted_long_usd[warm.warmup_bars:].sum())
    json.dumps(s)


def test_cli_heatmap_json_shows_the_warm_up(warm):
    res = CliRunner().invoke(app, ["heatmap", "--lookback", "24h", "--json", "--no-plots"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["warmup_bars"] == warm.warmup_bars
    assert out["first_frame_total_usd"] == pytest.approx(
        warm.summary()["first_frame_total_usd"], rel=1e-12)
    zero = json.loads(CliRunner().invoke(app, ["map", "--lookback", "24h", "--warmup", "0",
                                               "--json", "--no-plots"]).stdout)
    assert zero["warmup_bars"] == 0
    ow = json.loads(CliRunner().invoke(app, ["map", "--lookback", "24h", "--opened-within",
                                             "3d", "--json", "--no-plots"]).stdout)
    assert ow["warmup_bars"] == 2 * DAY_BARS


@pytest.mark.parametrize("args, needle", [
    (["heatmap", "--lookback", "7d", "--opened-within", "24h"], "shorter than the lookback"),
    (["map", "--lookback", "24h", "--warmup", "later"], "--warmup"),
])
def test_cli_refuses_bad_warm_up_with_exit_2(args, needle, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args + ["--no-plots"])
    assert exc.value.code == 2
    assert needle in capsys.readouterr().err


def test_api_heatmap_warms_up_through_the_same_library_call(sample, warm):
    from fastapi.testclient import TestClient

    from liqmap.service import create_app

    with TestClient(create_app(deadline_s=300.0, admin_token="")) as c:
        body = c.get("/api/v1/heatmap", params={"lookback": "24h"}).json()
        cold = c.get("/api/v1/heatmap", params={"lookback": "24h", "warmup": "0"}).json()
        bad = c.get("/api/v1/heatmap", params={"lookback": "24h", "warmup": "soon"})
    assert body["warmup_bars"] == {"binance": warm.warmup_bars}
    assert cold["warmup_bars"] == {"binance": 0}
    assert body["ts_ms"][0] == int(warm.heatmap.ts_ms[0])
    # standing levels in the first column, none without a warm-up
    assert sum(body["long_usd"][0]) + sum(body["short_usd"][0]) > 1e9
    assert sum(cold["long_usd"][0]) + sum(cold["short_usd"][0]) == 0
    assert bad.status_code == 422 and "warmup" in bad.text
