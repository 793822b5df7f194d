"""Backtest on a slice of window A (needs ../shared/data; skipped with a reason otherwise)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from liqmap._exceptions import ConfigError, DataError
from liqmap.model import LiquidationModel
from liqmap.scorecard.backtest import CSV_HEAD, run_backtest
from liqmap.scorecard.data import CALIBRATION_END_MS, default_data_dir, load_window, oi_at_close

DATA = default_data_dir()
HAVE = (DATA / "raw" / "coinglass_ismethanhtung").is_dir() and (
    DATA / "raw" / "binance_um_hlreaper").is_dir()
_skip = pytest.mark.skipif(not HAVE, reason=f"shared data not found at {DATA}; set "
                           "LIQMAP_SHARED_DATA to the folder holding raw/")


def needs_data(fn):
    """Mark a test as needing the shared data folder (skipped with a reason when absent)."""
    return pytest.mark.shared_data(_skip(fn))

START_MS = 1_769_299_200_000  # 2026-01-25T00:00Z
END_MS = 1_770_681_600_000  # 2026-02-10T00:00Z (holds the 2026-02-07T11:00 gap)
GAP_MS = 1_770_462_000_000


def test_oi_at_close_takes_last_sample_before_the_close():
    t = np.array([0, 300_000, 600_000, 3_600_000, 7_000_000])
    oi = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    got = oi_at_close(np.array([0, 3_600_000]), 3_600_000, t, oi)
    assert got.tolist() == [4.0, 5.0]
    with pytest.raises(DataError):
        oi_at_close(np.array([7_200_000]), 3_600_000, t, oi)


@pytest.fixture(scope="module")
def result():
    if not HAVE:
        pytest.skip(f"shared data not found at {DATA}")
    return run_backtest("A", LiquidationModel(band="none"), DATA, start_ms=START_MS,
                        end_ms=END_MS, warmup_hours=24)


@needs_data
def test_window_a_has_its_eight_gaps_flagged():
    win = load_window("A", DATA)
    assert len(win.gaps_ms) == 8 and int(win.after_gap.sum()) == 8
    assert np.all(np.isin(np.array(win.gaps_ms), win.bars.ts_ms, invert=True))
    assert win.oi_rel_diff_median < 0.01  # 5-minute OI agrees with the regime file's OI


@needs_data
def test_csv_rows_are_the_scored_bars(result, tmp_path):
    path = result.to_csv(tmp_path / "window-A.csv")
    df = pd.read_csv(path)
    assert tuple(df.columns[:5]) == CSV_HEAD
    assert len(df) == result.ts_ms.size
    assert not df.isna().any().any()
    bars = result.data.bars
    expected = (bars.ts_ms >= START_MS + 24 * 3_600_000) & ~result.data.after_gap
    assert len(df) == int(expected.sum())
    assert GAP_MS + 3_600_000 not in set(df["ts_ms"])  # the bar after the gap is not scored
    assert GAP_MS not in set(df["ts_ms"])


@needs_data
def test_spans_split_at_february_first(result, tmp_path):
    df = pd.read_csv(result.to_csv(tmp_path / "w.csv"))
    cal, sc = df[df.span == "calibration"], df[df.span == "scoring"]
    assert len(cal) > 0 and len(sc) > 0
    assert cal.ts_ms.max() < CALIBRATION_END_MS <= sc.ts_ms.min()
    s = result.summary()
    assert s["spans"]["scoring"]["start"] == "2026-02-01T00:00Z"
    assert s["spans"]["calibration"]["n_bars"] == len(cal)
    json.dumps(s, allow_nan=False)
    for side in ("long", "short"):
        assert set(s["verdict"][side]) == {"excursion", "excursion_x_oi_usd", "range_x_oi_usd"}
        assert s["metrics"]["scoring"][side]["model"]["n_bars"] == len(sc)


@needs_data
def test_cli_writes_csv_and_metrics(tmp_path):
    from typer.testing import CliRunner

    from liqmap.cli import app

    out = tmp_path / "sc"
    r = CliRunner().invoke(app, ["backtest", "--window", "A", "--out", str(out), "--json",
                                 "--data-dir", str(DATA), "--start", "2026-01-25",
                                 "--end", "2026-02-10", "--warmup-hours", "24",
                                 "--leverage", "high-leverage", "--preset", "none"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["model"]["leverage"] == "high-leverage"
    assert (out / "window-A.csv").exists() and (out / "metrics-A.json").exists()
    bad = CliRunner().invoke(app, ["backtest", "--out", str(out), "--data-dir", str(DATA),
                                   "--leverage", "high-leverage"])
    assert bad.exit_code != 0 and "--preset none" in str(bad.exception)


@needs_data
def test_window_c_five_minute_bars_in_thirty_minute_scoring_bars():
    win = load_window("C", DATA)
    assert win.bars.bar_ms == 300_000 and win.spec.score_ms == 1_800_000
    score_ts = np.asarray(win.score_ts)
    assert np.all(np.diff(score_ts) == 1_800_000)
    assert score_ts[0] >= win.bars.ts_ms[0]
    assert score_ts[-1] + 1_800_000 <= win.bars.ts_ms[-1] + 300_000
    assert win.realized_long_usd.size == score_ts.size
    # open interest at each bar's close agrees with Binance's own metrics archive
    assert win.oi_rel_diff_median < 1e-3
    assert 50_000 < float(np.median(win.bars.open_interest)) < 200_000  # BTC, not USD


@needs_data
def test_cli_backtest_window_c_scores_the_shipped_preset_out_of_sample(tmp_path):
    from typer.testing import CliRunner

    from liqmap.cli import app

    r = CliRunner().invoke(app, ["backtest", "--window", "C", "--out", str(tmp_path),
                                 "--json", "--data-dir", str(DATA)])
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    assert s["preset"]["name"] == "fitted-binance-btcusdt-2025-12"
    assert s["spans"]["calibration"]["n_bars"] == 0 and s["scoring_bar_ms"] == 1_800_000
    df = pd.read_csv(tmp_path / "window-C.csv")
    assert tuple(df.columns[:5]) == CSV_HEAD and len(df) == s["bars_scored"]
    assert (df["ts_ms"] % 1_800_000 == 0).all()


@needs_data
def test_shipped_preset_equals_a_fresh_calibration(tmp_path):
    """`liqmap calibrate` reproduces the preset shipped in liqmap/data/presets."""
    from typer.testing import CliRunner

    from liqmap.cli import app
    from liqmap.scorecard.preset import DEFAULT_PRESET, load_preset

    r = CliRunner().invoke(app, ["calibrate", "--window", "A", "--out", str(tmp_path),
                                 "--json", "--data-dir", str(DATA)])
    assert r.exit_code == 0, r.output
    fresh = json.loads((tmp_path / f"{DEFAULT_PRESET}.json").read_text())
    shipped = load_preset(DEFAULT_PRESET).to_dict()
    assert fresh["model"] == shipped["model"]
    assert fresh["fit_span"] == shipped["fit_span"]
    assert fresh["selection"]["best"]["point"] == shipped["selection"]["best"]["point"]
    for side in ("long", "short"):
        for k, v in shipped["combine"][side].items():
            assert fresh["combine"][side][k] == pytest.approx(v, rel=1e-9), (side, k)


def test_cli_default_preset_name_matches_the_package():
    from liqmap.cli.cmd_backtest import DEFAULT_PRESET as CLI_DEFAULT
    from liqmap.scorecard.preset import DEFAULT_PRESET

    assert CLI_DEFAULT == DEFAULT_PRESET


def test_bad_window_and_warmup_are_config_errors():
    with pytest.raises(ConfigError):
        run_backtest("Z")
    with pytest.raises(ConfigError):
        run_backtest("A", warmup_hours=-1)
