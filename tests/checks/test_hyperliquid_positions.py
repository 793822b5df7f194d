"""Hyperliquid check: synthetic positions (always) and the real whale snapshots (shared data)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from liqmap import ConfigError, DataError
from liqmap.checks.hyperliquid_positions import (
    DATA_FILE,
    check_hyperliquid,
    default_data_dir,
    error_stats,
    leverage_share,
)
from liqmap.cli import main
from liqmap.core.liqprice import liquidation_price

SHARED = default_data_dir()
needs_shared = pytest.mark.skipif(
    not (SHARED / DATA_FILE).is_file(),
    reason=f"shared data not found at {SHARED / DATA_FILE} (set LIQMAP_SHARED_DATA)",
)


def _row(direction, size, entry, lev, mark, account, liq, coin="BTC"):
    return {"snapshot_utc": "2026-02-10T00:00:00Z", "source_lists": "daily", "address": "0xabc",
            "account_value": account, "trader_pnl_window": 0.0, "coin": coin,
            "direction": direction, "size": size, "entry_px": entry, "leverage": lev,
            "position_value": size * mark, "unrealized_pnl": 0.0, "liquidation_px": liq,
            "mark_px_implied": mark}


@pytest.fixture
def synthetic_dir(tmp_path):
    """Three isolated positions (exact), two cross, one without a liquidation price, one ETH."""
    iso = [("Long", 2.0, 100_000.0, 10.0), ("Short", 1.0, 80_000.0, 20.0), ("Long", 0.5, 90_000.0, 40.0)]
    rows = []
    for d, q, ep, lev in iso:
        liq = liquidation_price("hyperliquid", d.lower(), ep, q, q * ep / lev)
        rows.append(_row(d, q, ep, lev, ep, 1e6, liq))
    # cross: liquidation far from the isolated one, at the account-value rule
    for d, q, ep, lev, av in (("Long", 1.0, 100_000.0, 20.0, 30_000.0),
                              ("Short", 3.0, 100_000.0, 40.0, 60_000.0)):
        liq = liquidation_price("hyperliquid", d.lower(), ep, q, av, mark_price=ep)
        rows.append(_row(d, q, ep, lev, ep, av, liq))
    rows.append(_row("Long", 1.0, 100_000.0, 3.0, 100_000.0, 5e6, float("nan")))
    rows.append(_row("Long", 10.0, 2_000.0, 10.0, 2_000.0, 5e5, 1_800.0, coin="ETH"))
    path = tmp_path / DATA_FILE
    path.parent.mkdir(parents=True)
    pd.DataFrame(rows).to_csv(path, index=False, compression="gzip")
    return tmp_path


def test_synthetic_classification_and_errors(synthetic_dir):
    res = check_hyperliquid(synthetic_dir)
    assert (res.n_rows, res.n_with_liq, res.n_isolated) == (6, 5, 3)
    assert res.isolated.n == 3 and res.isolated.median_abs_rel_err_pct == pytest.approx(0, abs=1e-9)
    assert res.isolated.share_within_0_5pct == 1.0
    assert res.cross_rest.n == 2 and res.cross_rest.p90_abs_rel_err_pct == pytest.approx(0, abs=1e-9)
    assert res.all_rows.n == 5 and res.all_rows.share_within_1pct == pytest.approx(3 / 5)


def test_synthetic_leverage_share(synthetic_dir):
    res = check_hyperliquid(synthetic_dir)
    # values: 200k@10x, 80k@20x, 45k@40x, 100k@20x, 300k@40x, 100k@3x -> total 825k
    assert res.leverage_share["6-10x"] == pytest.approx(200 / 825)
    assert res.leverage_share["20x"] == pytest.approx(180 / 825)
    assert res.leverage_share[">=40x"] == pytest.approx(345 / 825)
    assert res.leverage_share["3-5x"] == pytest.approx(100 / 825)
    assert sum(res.leverage_share.values()) == pytest.approx(1.0)


def test_summary_is_json_safe_and_frozen(synthetic_dir):
    res = check_hyperliquid(synthetic_dir)
    text = json.dumps(res.summary(), allow_nan=False)
    assert '"n_isolated": 3' in text
    with pytest.raises(AttributeError):
        res.n_rows = 0  # type: ignore[misc]


def test_error_stats_counts_never_liquidated_as_miss():
    st = error_stats(np.array([100.0, 0.0, math.inf, 100.6]), np.array([100.0, 50.0, 50.0, 100.0]))
    assert st.n == 4 and st.share_within_1pct == 0.5 and st.share_within_0_5pct == 0.25
    assert st.p90_abs_rel_err_pct == math.inf


def test_leverage_share_buckets():
    df = pd.DataFrame({"leverage": [1, 2, 5, 25, 40], "position_value": [1, 1, 2, 3, 3]})
    share = leverage_share(df)
    assert share["<=2x"] == pytest.approx(0.2) and share["21-39x"] == pytest.approx(0.3)


def test_bad_inputs(tmp_path, synthetic_dir):
    with pytest.raises(DataError, match="pass --data-dir"):
        check_hyperliquid(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="isolated_tol is a fraction"):
        check_hyperliquid(synthetic_dir, isolated_tol=2.0)


def test_cli_json(synthetic_dir, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["check-hyperliquid", "--data-dir", str(synthetic_dir), "--json"])
    assert exc.value.code in (0, None)
    out = json.loads(capsys.readouterr().out)
    assert out["n_isolated"] == 3 and out["isolated"]["n"] == 3


def test_cli_text_and_missing_dir(synthetic_dir, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["check-hyperliquid", "--data-dir", str(synthetic_dir)])
    out = capsys.readouterr().out
    assert "3 isolated-looking" in out and "share of position value by leverage" in out
    with pytest.raises(SystemExit) as exc:
        main(["check-hyperliquid", "--data-dir", str(tmp_path / "nowhere")])
    assert exc.value.code == 2 and "pass --data-dir" in capsys.readouterr().err


@pytest.mark.shared_data
@needs_shared
def test_real_whale_positions():
    res = check_hyperliquid()
    # SOURCES.md: 14,079 BTC rows have a liquidation_px (it counts 17,471 BTC rows; the file has 17,469)
    assert res.n_with_liq == 14_079
    assert 17_400 <= res.n_rows <= 17_471
    assert 500 <= res.n_isolated <= 2_000
    # the isolated rule reproduces isolated-looking positions to well under 0.5 %
    assert res.isolated.median_abs_rel_err_pct < 0.1
    assert res.isolated.share_within_0_5pct > 0.95
    # most whale positions are cross margin: the isolated rule is far off on all rows
    assert res.all_rows.median_abs_rel_err_pct > 10
    assert sum(res.leverage_share.values()) == pytest.approx(1.0)
    assert res.leverage_share["20x"] + res.leverage_share[">=40x"] > 0.5
