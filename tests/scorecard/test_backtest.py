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
                                 "--leverage", "high-leverage"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["model"]["leverage"] == "high-leverage"
    assert (out / "window-A.csv").exists() and (out / "metrics-A.json").exists()


def test_bad_window_and_warmup_are_config_errors():
    with pytest.raises(ConfigError):
        run_backtest("Z")
    with pytest.raises(ConfigError):
        run_backtest("A", warmup_hours=-1)
