"""The calibration-span predictor study: variants, leakage, a planted signal, CLI, report."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from typer.testing import CliRunner

from liqmap._exceptions import ConfigError, DataError
from liqmap.scorecard.calibrate import GridPoint, fit_calibration
from liqmap.scorecard.data import default_data_dir, load_window
from liqmap.scorecard.predictor_study import LINEAR_EXTRAS, LOG_EXTRAS, SHAPES, predictor_study
from liqmap.scorecard.preset import load_preset
from liqmap.scorecard.report import _predictors_section

FIVE_MIN = 5 * 60_000
H = 3_600_000
DATA = default_data_dir()
HAVE = (DATA / "raw" / "coinglass_ismethanhtung").is_dir() and (
    DATA / "raw" / "binance_um_hlreaper").is_dir()
needs_data = pytest.mark.skipif(not HAVE, reason=f"shared data not found at {DATA}; set "
                                "LIQMAP_SHARED_DATA to the folder holding raw/")


@pytest.fixture(scope="module")
def five_min(window):
    """A synthetic window of 5-minute bars scored hourly, and a preset fitted on it."""
    data = window(n_hours=24 * 40, seed=11, bar_ms=FIVE_MIN, score_ms=H)
    data = replace(data, spec=replace(data.spec, warmup_hours=24.0,
                                      calibration_end_ms=int(data.bars.ts_ms[0]) + 30 * 24 * H))
    cal = fit_calibration(data, grid=(GridPoint("high-leverage", "neutral", 1.0, 72.0),))
    return data, cal.preset


def _flush_per_hour(data) -> np.ndarray:
    oi = data.bars.open_interest
    drop = np.clip(-np.diff(oi, prepend=oi[0]), 0, None)
    return drop.reshape(-1, 12).sum(1)


def test_every_variant_is_scored_on_both_sides(five_min):
    data, preset = five_min
    res = predictor_study(data, preset)
    names = [v.name for v in res.variants]
    assert len(names) == 1 + len(LOG_EXTRAS) + len(LINEAR_EXTRAS) + len(SHAPES)
    assert names[0] == "shipped" and len(set(names)) == len(names)
    for v in res.variants:
        assert all(np.isfinite(v.r2_log[s]) and -1 <= v.spearman[s] <= 1
                   for s in ("long", "short"))
    assert all(0 <= res.small_bar_error_share[s] <= 1 or res.small_bar_count[s] == 0
               for s in ("long", "short"))
    json.dumps(res.to_dict(), allow_nan=False)


def test_shipped_variant_reproduces_the_calibration_cv(five_min):
    data, preset = five_min
    shipped = predictor_study(data, preset).variants[0]
    best = preset.selection["best"]
    for sd in ("long", "short"):
        assert shipped.r2_log[sd] == pytest.approx(best["r2_log"][sd], abs=1e-9)
        assert shipped.spearman[sd] == pytest.approx(best["spearman"][sd], abs=1e-9)


def test_scoring_span_never_enters(five_min):
    data, preset = five_min
    cut = data.spec.calibration_end_ms
    after_bars = data.bars.ts_ms >= cut
    after_score = data.score_ts >= cut
    changed = replace(
        data, bars=replace(data.bars, high=np.where(after_bars, data.bars.high * 1.05,
                                                    data.bars.high)),
        realized_short_usd=np.where(after_score, 1.0, data.realized_short_usd))
    a, b = predictor_study(data, preset), predictor_study(changed, preset)
    assert a.to_dict() == b.to_dict()


def test_a_planted_open_interest_flush_signal_is_found(five_min):
    data, preset = five_min
    flush = _flush_per_hour(data)
    boost = (1 + flush / np.median(flush[flush > 0])) ** 2
    planted = replace(data, realized_short_usd=data.realized_short_usd * boost)
    res = {v.name: v for v in predictor_study(planted, preset).variants}
    assert res["+ oi_flush"].r2_log["short"] > res["shipped"].r2_log["short"] + 0.02
    # the long side carries no planted signal: the flush buys little there
    assert res["+ oi_flush"].r2_log["long"] < res["shipped"].r2_log["long"] + 0.02


def test_window_without_calibration_span_is_refused(five_min):
    data, preset = five_min
    late = replace(data, spec=replace(data.spec, calibration_end_ms=int(data.bars.ts_ms[0])))
    with pytest.raises(ConfigError, match="no calibration span"):
        predictor_study(late, preset)


def test_report_section_renders_and_rejects_garbage(five_min, tmp_path):
    data, preset = five_min
    (tmp_path / "predictors-S.json").write_text(json.dumps(
        predictor_study(data, preset).to_dict()))
    html = _predictors_section(tmp_path)
    assert "calibration span only" in html and html.count("<tr>") == 15
    (tmp_path / "predictors-S.json").write_text("{}")
    with pytest.raises(DataError, match="study-predictors"):
        _predictors_section(tmp_path)


@needs_data
@pytest.mark.shared_data
def test_window_a_study_matches_the_shipped_preset_and_the_cli(tmp_path):
    from liqmap.cli import app

    data = load_window("A")
    res = predictor_study(data)
    best = load_preset().selection["best"]
    for sd in ("long", "short"):
        assert res.variants[0].r2_log[sd] == pytest.approx(best["r2_log"][sd], abs=1e-9)
    assert res.calibration_end == "2026-02-01T00:00Z" and res.n_bars == 1238
    out = CliRunner().invoke(app, ["study-predictors", "--out", str(tmp_path), "--json"])
    assert out.exit_code == 0, out.output
    printed = json.loads(out.output)
    assert printed["variants"] == json.loads((tmp_path / "predictors-A.json").read_text())[
        "variants"]
    assert printed["best"] == {s: res.best(s).name for s in ("long", "short")}
