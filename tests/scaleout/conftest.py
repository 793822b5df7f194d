"""Fixtures for the scale-out tests: a synthetic scorecard data folder built from the bundled
sample (so a backtest sweep runs without ../shared/data), and the shared-data location.

The synthetic folder has the layout window A reads (``raw/coinglass_ismethanhtung`` regime
file + ``raw/binance_um_hlreaper`` 5-minute open interest). Its bars are the bundled Binance
December 2025 sample aggregated to hours and shifted in time so that the window straddles
window A's calibration end; its "realized" liquidations are a deterministic function of the
bars plus seeded noise. It exists to check that a sweep gives the same numbers on a cluster
as in-process, not to say anything about the model's accuracy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqmap.io.sample import load_sample
from liqmap.scorecard.data import CALIBRATION_END_MS, default_data_dir

_H_MS = 3_600_000


def _hourly(bars) -> pd.DataFrame:
    df = pd.DataFrame({"ts": bars.ts_ms // _H_MS * _H_MS, "open": bars.open,
                       "high": bars.high, "low": bars.low, "close": bars.close,
                       "oi": bars.open_interest, "funding": np.nan_to_num(bars.funding_rate)})
    g = df.groupby("ts", sort=True)
    return pd.DataFrame({"open": g["open"].first(), "high": g["high"].max(),
                         "low": g["low"].min(), "close": g["close"].last(),
                         "oi": g["oi"].last(), "funding": g["funding"].last()}).reset_index()


def write_synthetic_window(root) -> dict:
    """Write the synthetic window-A-shaped files under ``root``; returns their facts."""
    bars = load_sample()
    h = _hourly(bars)
    h = h.iloc[1:-1].reset_index(drop=True)  # whole hours only
    shift = CALIBRATION_END_MS - int(h["ts"].iloc[len(h) // 2])
    ts = h["ts"].to_numpy(np.int64) + shift
    rng = np.random.default_rng(7)
    oi_usd = h["oi"].to_numpy() * h["close"].to_numpy()
    down = (h["open"] - h["low"]).to_numpy() / h["open"].to_numpy()
    up = (h["high"] - h["open"]).to_numpy() / h["open"].to_numpy()
    regime = pd.DataFrame({
        "timestamp": ts, "price_open": h["open"], "price_high": h["high"],
        "price_low": h["low"], "price_close": h["close"],
        "liquidation_long_usd": oi_usd * down ** 2 * 30 * rng.lognormal(0, 1, len(h)),
        "liquidation_short_usd": oi_usd * up ** 2 * 30 * rng.lognormal(0, 1, len(h)),
        "funding_close": h["funding"] * 100.0, "oi_close": oi_usd})
    five = pd.DataFrame({"t": bars.ts_ms + shift + 300_000, "oi": bars.open_interest})
    cg = root / "raw" / "coinglass_ismethanhtung"
    hl = root / "raw" / "binance_um_hlreaper"
    cg.mkdir(parents=True)
    hl.mkdir(parents=True)
    regime.to_csv(cg / "coinglass_BTC_regime_1h_synthetic.csv.gz", index=False)
    five.to_csv(hl / "BTCUSDT_metrics_oi_5m_synthetic.csv.gz", index=False)
    return {"n_hours": len(h), "first_ms": int(ts[0]), "last_ms": int(ts[-1])}


@pytest.fixture(scope="session")
def synthetic_window(tmp_path_factory):
    """``(data_dir, facts)`` of a synthetic window-A-shaped data folder."""
    root = tmp_path_factory.mktemp("synthetic_shared_data")
    return root, write_synthetic_window(root)


@pytest.fixture(scope="session")
def shared_data_dir():
    """The real shared data folder, or skip with the reason."""
    root = default_data_dir()
    if not ((root / "raw" / "coinglass_ismethanhtung").is_dir()
            and (root / "raw" / "binance_um_hlreaper").is_dir()):
        pytest.skip(f"shared data not found at {root}; set LIQMAP_SHARED_DATA to the folder "
                    "holding raw/")
    return root
