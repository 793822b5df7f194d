"""Backtest with a fitted preset on a synthetic window, the preset file, and the report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from liqmap._exceptions import ConfigError, DataError
from liqmap.model import LiquidationModel
from liqmap.scorecard.backtest import CSV_HEAD, run_backtest
from liqmap.scorecard.calibrate import fit_calibration
from liqmap.scorecard.preset import DEFAULT_PRESET, FittedPreset, load_preset, preset_names
from liqmap.scorecard.report import write_report


@pytest.fixture(scope="module")
def result(window, small_grid):
    data = window()
    preset = fit_calibration(data, grid=small_grid[:2], n_folds=3).preset
    return run_backtest(data=data, preset=preset), preset


def test_preset_prediction_is_the_combination_of_book_and_baselines(result):
    res, preset = result
    assert res.ts_ms.size == res.predicted["long"].size == res.book["long"].size
    # the combination applied by hand to the backtest's own book and baseline columns
    for sd in ("long", "short"):
        inputs = {"book_usd": res.book[sd], "excursion": res.baseline_scores["excursion"][sd],
                  "range_x_oi_usd": res.baseline_scores["range_x_oi_usd"][sd]}
        again = preset.sides[sd].predict(inputs)
        np.testing.assert_allclose(res.predicted[sd], again, rtol=1e-12)
    # totals are matched on the calibration span by construction (smearing factor)
    cal = ~res.is_scoring
    assert res.predicted["long"][cal].sum() == pytest.approx(res.realized["long"][cal].sum(),
                                                             rel=1e-9)
    s = res.summary()
    assert set(s["metrics"]["scoring"]["long"]) == {"model", "book", "excursion",
                                                    "excursion_x_oi_usd", "range_x_oi_usd"}
    assert set(s["targets"]["long"]) == {"spearman_margin", "r2_log", "total_ratio"}
    json.dumps(s, allow_nan=False)


def test_preset_json_round_trip_and_shipped_preset(result, tmp_path):
    _, preset = result
    path = preset.to_json(tmp_path / "p.json")
    assert FittedPreset.from_json(path).to_dict() == preset.to_dict()
    assert load_preset(str(path)).model == preset.model
    assert DEFAULT_PRESET in preset_names()
    shipped = load_preset(DEFAULT_PRESET)
    assert shipped.fit_span["calibration_end"] == "2026-02-01T00:00Z"
    assert shipped.fit_span["end"] < "2026-02-01"
    assert LiquidationModel.from_preset(DEFAULT_PRESET) == shipped.model
    with pytest.raises(ConfigError):
        load_preset("no-such-preset")
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(ConfigError):
        FittedPreset.from_json(bad)


def test_report_has_tables_verdicts_targets_plots_and_studies(result, tmp_path):
    res, _ = result
    res.to_csv(tmp_path / "window-S.csv")
    res.to_json(tmp_path / "metrics-S.json")
    df = pd.read_csv(tmp_path / "window-S.csv")
    assert tuple(df.columns[:5]) == CSV_HEAD and len(df) == res.ts_ms.size
    info = write_report(tmp_path)
    html = (tmp_path / "report.html").read_text()
    assert info["windows"] == ["S"] and len(info["plots"]) == 3
    assert html.count("data:image/png;base64,") == 3
    assert "does not beat" in html or "The model beats" in html
    for text in ("Targets", "Calibration curve", "Fitted preset", "liqmap study-levels",
                 "excursion_x_oi_usd", res.preset.formula[:30]):
        assert text in html
    assert "http" not in html.replace("https://", "").split("<body>")[0]  # no CDN in <head>
    (tmp_path / "studies.json").write_text(json.dumps({"studies": [
        {"name": "bounce", "effect": 0.12, "ci_low": 0.05, "ci_high": 0.2, "n": 41,
         "statement": "Price reverts after large clusters."}]}))
    write_report(tmp_path)
    html = (tmp_path / "report.html").read_text()
    assert "Price reverts after large clusters." in html and "liqmap study-levels" not in html
    assert html.count("data:image/png;base64,") == 3  # no studies.png yet: no study plot
    png = sorted(tmp_path.rglob("*.png"))[0]
    (tmp_path / "studies.png").write_bytes(png.read_bytes())
    write_report(tmp_path)
    html = (tmp_path / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 4
    (tmp_path / "studies.json").write_text("[1, 2]")
    with pytest.raises(DataError):
        write_report(tmp_path)


def test_report_needs_backtest_outputs(tmp_path):
    with pytest.raises(DataError):
        write_report(tmp_path)
