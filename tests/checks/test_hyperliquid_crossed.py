"""Hyperliquid window B: leverage vs presets, crossed positions' fate (synthetic + shared)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from liqmap.checks.hyperliquid_crossed import (
    crossing_check,
    leverage_vs_presets,
    newcombe_diff,
    wilson,
)
from liqmap.checks.hyperliquid_positions import DATA_FILE, check_hyperliquid, default_data_dir
from liqmap.cli import main
from liqmap.core.bars import Bars
from liqmap.core.leverage import PRESETS

H = 3_600_000
T0 = pd.Timestamp("2026-02-10T00:00:00Z")


def _row(snap_h, addr, direction, liq, mark=100.0, lev=10.0, size=1.0):
    return {"snapshot_utc": (T0 + pd.Timedelta(hours=snap_h)).isoformat().replace("+00:00", "Z"),
            "source_lists": "daily", "address": addr, "account_value": 1e6,
            "trader_pnl_window": 0.0, "coin": "BTC", "direction": direction, "size": size,
            "entry_px": mark, "leverage": lev, "position_value": size * mark,
            "unrealized_pnl": 0.0, "liquidation_px": liq, "mark_px_implied": mark}


def _frame(rows):
    df = pd.DataFrame(rows)
    df["s"] = np.where(df["direction"].str.lower() == "long", 1, -1)
    df["qty"] = df["size"].abs()
    return df


ROWS = [
    # snapshot 0 (mark 100)
    _row(0, "a", "Long", 95.0),    # crossed by the 94 low, gone at snapshot 2
    _row(0, "b", "Long", 80.0),    # not crossed, stays
    _row(0, "c", "Short", 120.0),  # not crossed, gone (closed or dropped from the list)
    _row(0, "d", "Short", 99.0),   # liquidation below the mark: inconsistent, left out
    _row(0, "e", "Long", float("nan")),
    # snapshot 2 h
    _row(2, "b", "Long", 80.0), _row(2, "f", "Short", 104.0),
    # snapshot 4 h: f gone after the path reached 105
    _row(4, "b", "Long", 80.0),
]


def _bars():
    ts = (T0.value // 1_000_000) + H * np.arange(4, dtype=np.int64)
    low = np.array([99.0, 94.0, 99.0, 99.0])
    high = np.array([101.0, 101.0, 105.0, 101.0])
    c = np.full(4, 100.0)
    return Bars(ts_ms=ts, open=c, high=high, low=low, close=c, open_interest=np.ones(4))


def test_crossing_counts_with_hourly_path():
    res = crossing_check(_frame(ROWS), _bars())
    # pair 1: a crossed+gone; b, c uncrossed (c gone). pair 2: f crossed (high 105) + gone, b stays
    assert res["crossed"]["n"] == 2 and res["crossed"]["disappeared"] == 2
    assert res["uncrossed"]["n"] == 3 and res["uncrossed"]["disappeared"] == 1
    assert res["difference"] == pytest.approx(1 - 1 / 3)
    lo, hi = newcombe_diff(2, 2, 1, 3)
    assert (res["difference_ci_low"], res["difference_ci_high"]) == (lo, hi)
    assert res["snapshot_pairs"] == 2 and res["median_gap_hours"] == pytest.approx(2.0)


def test_crossing_with_marks_only_sees_no_crossing():
    res = crossing_check(_frame(ROWS), None)
    assert res["crossed"]["n"] == 0 and res["uncrossed"]["n"] == 5
    assert res["uncrossed"]["disappeared"] == 3  # a, c and f
    assert "marks only" in res["price_path"] and math.isnan(res["difference"])


def test_wilson_and_newcombe():
    lo, hi = wilson(0, 10)
    assert lo == pytest.approx(0.0, abs=1e-12) and hi == pytest.approx(0.2775, abs=1e-4)
    lo, hi = wilson(5, 10)
    assert lo == pytest.approx(0.2366, abs=1e-4) and hi == pytest.approx(0.7634, abs=1e-4)
    d_lo, d_hi = newcombe_diff(8, 10, 2, 10)
    assert d_lo < 0.6 < d_hi and d_lo > 0


def test_leverage_vs_presets_table():
    df = pd.DataFrame({"leverage": [1.0, 20.0, 40.0], "position_value": [1.0, 2.0, 1.0]})
    t = leverage_vs_presets(df)
    assert t["measured"]["shares"]["<=2x"] == 0.25 and t["measured"]["shares"]["20x"] == 0.5
    assert t["measured"]["mean_leverage"] == pytest.approx((1 + 40 + 40) / 4)
    assert t["measured"]["median_leverage"] == 20.0
    for name, p in PRESETS.items():
        assert sum(t[name]["shares"].values()) == pytest.approx(1.0)
        assert t[name]["mean_leverage"] == pytest.approx(np.dot(p.leverages, p.weights))
    assert t["all-leverage"]["shares"]["20x"] == pytest.approx(0.15)
    assert t["high-leverage"]["shares"][">=40x"] == pytest.approx(0.60)


def test_cli_prints_table_and_crossing(tmp_path, capsys):
    path = tmp_path / DATA_FILE
    path.parent.mkdir(parents=True)
    pd.DataFrame(ROWS).to_csv(path, index=False, compression="gzip")
    with pytest.raises(SystemExit):
        main(["check-hyperliquid", "--data-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert "measured vs liqmap presets" in out and "  high-leverage" in out
    assert "uncrossed: disappeared 3/5" in out and "marks only" in out
    with pytest.raises(SystemExit):
        main(["check-hyperliquid", "--data-dir", str(tmp_path), "--json"])
    d = json.loads(capsys.readouterr().out)
    assert d["crossing"]["uncrossed"]["n"] == 5 and "measured" in d["leverage_vs_presets"]


SHARED = default_data_dir()


@pytest.mark.shared_data
@pytest.mark.skipif(not (SHARED / DATA_FILE).is_file(),
                    reason=f"shared data not found at {SHARED / DATA_FILE} "
                    "(set LIQMAP_SHARED_DATA)")
def test_real_window_b_crossing_and_leverage():
    res = check_hyperliquid()
    c = res.crossing
    assert c["snapshot_pairs"] == 93 and "hourly" in c["price_path"]
    n_pairs = c["crossed"]["n"] + c["uncrossed"]["n"]
    assert 10_000 < n_pairs < res.n_with_liq  # the last snapshot has no successor
    assert c["crossed"]["n"] >= 5
    # crossed positions vanish far more often than the list churn of uncrossed ones
    assert c["difference_ci_low"] > 0
    m = res.leverage_vs_presets["measured"]
    assert m["shares"] == pytest.approx(res.leverage_share)
    assert 1 < m["mean_leverage"] < 50
