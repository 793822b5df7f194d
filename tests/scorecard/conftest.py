"""Synthetic scorecard windows (no shared data needed), given as fixtures."""

from __future__ import annotations

import numpy as np
import pytest

from liqmap.core.bars import Bars
from liqmap.scorecard.data import WindowData, WindowSpec

H = 3_600_000
START_MS = 1_767_225_600_000  # 2026-01-01T00:00Z
CAL_END_MS = 1_769_904_000_000  # 2026-02-01T00:00Z


def synthetic_window(n_hours: int = 24 * 74, seed: int = 3, bar_ms: int = H,
                     score_ms: int = H) -> WindowData:
    """Random-walk bars with open interest and realized liquidations that depend on the
    adverse excursion (so a fit has something to find)."""
    rng = np.random.default_rng(seed)
    n = n_hours * H // bar_ms
    ts = START_MS + bar_ms * np.arange(n, dtype=np.int64)
    close = 90_000 * np.exp(np.cumsum(rng.normal(0, 0.004, n)))
    open_ = np.r_[90_000.0, close[:-1]]
    high = np.maximum(open_, close) * (1 + rng.exponential(0.002, n))
    low = np.minimum(open_, close) * (1 - rng.exponential(0.002, n))
    oi = 80_000 * np.exp(np.cumsum(rng.normal(0, 0.003, n)))
    bars = Bars(ts_ms=ts, open=open_, high=high, low=low, close=close, open_interest=oi,
                funding_rate=np.full(n, 1e-4), source="synthetic")
    per = score_ms // bar_ms
    s_ts = ts[::per]
    m = s_ts.size
    hi = high[: m * per].reshape(m, per).max(1)
    lo = low[: m * per].reshape(m, per).min(1)
    o = open_[::per][:m]
    noise = rng.lognormal(0, 1.0, (2, m))
    real_l = 3e9 * ((o - lo) / o) ** 1.5 * noise[0]
    real_s = 3e9 * ((hi - o) / o) ** 1.5 * noise[1]
    spec = WindowSpec(name="S", regime_glob="-", oi_glob="-", calibration_end_ms=CAL_END_MS,
                      bar_ms=bar_ms, score_ms=score_ms, warmup_hours=48.0)
    return WindowData(spec=spec, bars=bars, realized_long_usd=real_l, realized_short_usd=real_s,
                      after_gap=np.zeros(m, bool), gaps_ms=(), oi_rel_diff_median=0.0,
                      notes=("synthetic",), score_ts_ms=None if per == 1 else s_ts)


@pytest.fixture(scope="session")
def window():
    """``window(**kw)``: a synthetic :class:`WindowData` (see :func:`synthetic_window`)."""
    return synthetic_window


@pytest.fixture(scope="session")
def small_grid():
    """Three grid points: enough to choose between, fast to run."""
    from liqmap.scorecard.calibrate import GridPoint

    return (GridPoint("all-leverage"), GridPoint("high-leverage", "neutral", 1.0, 72.0),
            GridPoint("low-leverage", "candle", 0.5, None, "leverage-first"))
