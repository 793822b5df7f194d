"""Scorecard windows: what each window is and the file readers its loaders share.

:data:`WINDOWS` names the windows (:class:`WindowSpec`: where the files are, how the span
splits); :class:`WindowData` is what a loader returns. The loaders themselves are
:func:`liqmap.scorecard.data.load_window` (window A, and the entry point for every window) and
:func:`liqmap.scorecard.window_c.load_window_c`; both import this module, so neither imports
the other's loader back.

>>> WINDOWS["C"].bar_ms, WINDOWS["C"].score_ms     # doctest: +SKIP
(300000, 1800000)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from liqmap._exceptions import DataError
from liqmap.core.bars import Bars
from liqmap.timeutil import MS_PER_HOUR, MS_PER_MINUTE

__all__ = ["CALIBRATION_END_MS", "OI_TOLERANCE_MS", "WINDOWS", "WindowData", "WindowSpec",
           "default_data_dir", "one_file", "oi_at_close", "read_oi_5m"]

OI_TOLERANCE_MS = 10 * MS_PER_MINUTE
CALIBRATION_END_MS = 1_769_904_000_000  # 2026-02-01T00:00Z: first out-of-sample instant


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """Where a scorecard window's data lives and how its spans split.

    Attributes
    ----------
    name : str
        Window id (``"A"``).
    regime_glob : str
        Glob (relative to the data folder) of the Coinglass regime file: price, funding,
        realized liquidations.
    oi_glob : str
        Glob of the Binance 5-minute open-interest file (BTC).
    calibration_end_ms : int
        Bars opening before this instant form the calibration span; the rest is scored
        out of sample.
    bar_ms : int
        Engine bar length.
    score_ms : int
        Scoring bar length: the realized series' resolution (multiple of ``bar_ms``).
    warmup_hours : float
        Default leading hours left out of scoring while the book fills.
    score_from_ms : int, optional
        First instant of the scoring span (default ``calibration_end_ms``; a user dataset
        may leave a gap between the two, never an overlap).
    """

    name: str
    regime_glob: str
    oi_glob: str
    calibration_end_ms: int
    bar_ms: int = MS_PER_HOUR
    score_ms: int = MS_PER_HOUR
    warmup_hours: float = 168.0
    score_from_ms: int | None = None

    @property
    def scoring_start_ms(self) -> int:
        """First instant scored out of sample."""
        return self.calibration_end_ms if self.score_from_ms is None else self.score_from_ms


WINDOWS = {
    "A": WindowSpec(
        name="A",
        regime_glob="raw/coinglass_ismethanhtung/coinglass_BTC_regime_1h_*.csv.gz",
        oi_glob="raw/binance_um_hlreaper/BTCUSDT_metrics_oi_5m_*.csv.gz",
        calibration_end_ms=CALIBRATION_END_MS),
    # C: everything is out of sample (calibration_end before the window); ``regime_glob``
    # holds the 30-minute realized series, ``oi_glob`` the Binance 5-minute perp file.
    "C": WindowSpec(
        name="C",
        regime_glob="raw/coinglass_ismethanhtung/coinglass_BTC_regime_30m_*.csv.gz",
        oi_glob="raw/coinglass_ismethanhtung/binance_fapi_BTCUSDT_5m_*.csv.gz",
        calibration_end_ms=CALIBRATION_END_MS, bar_ms=5 * MS_PER_MINUTE, score_ms=MS_PER_HOUR // 2,
        warmup_hours=72.0),
}


@dataclass(frozen=True, slots=True)
class WindowData:
    """Bars and realized liquidations of one window, aligned bar by bar.

    Attributes
    ----------
    spec : WindowSpec
        The window definition.
    bars : Bars
        Engine bars (window A: hourly spot OHLC, Binance open interest (BTC) at each bar's
        close, funding; window C: 5-minute Binance perpetual bars).
    realized_long_usd, realized_short_usd : (S,) float64
        Realized liquidations per scoring bar, USD, Binance+Bybit+OKX.
    after_gap : (S,) bool
        True for a scoring bar that follows a missing bar (not scored).
    gaps_ms : tuple of int
        Open times of the missing bars.
    oi_rel_diff_median : float
        Median relative difference between the 5-minute open interest used and the regime
        file's own Binance open interest (USD / spot close): a consistency check.
    notes : tuple of str
        Plain statements about the sources, shown in summaries.
    """

    spec: WindowSpec
    bars: Bars
    realized_long_usd: np.ndarray
    realized_short_usd: np.ndarray
    after_gap: np.ndarray
    gaps_ms: tuple[int, ...]
    oi_rel_diff_median: float
    notes: tuple[str, ...]
    score_ts_ms: np.ndarray | None = None

    @property
    def score_ts(self) -> np.ndarray:
        """Open times of the scoring bars (the engine bars' when they coincide)."""
        return self.bars.ts_ms if self.score_ts_ms is None else self.score_ts_ms


def default_data_dir() -> Path:
    """``$LIQMAP_SHARED_DATA``, else ``../shared/data`` relative to the repository root."""
    env = os.environ.get("LIQMAP_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3].parent / "shared" / "data"


def one_file(data_dir: Path, pattern: str) -> Path:
    """The last file (by name) under ``data_dir`` matching ``pattern``.

    Raises
    ------
    DataError
        If none matches (says how to point at the shared data folder).
    """
    hits = sorted(data_dir.glob(pattern))
    if not hits:
        raise DataError(f"no file matches {pattern!r}; pass --data-dir (or set "
                        "LIQMAP_SHARED_DATA) to the shared data folder holding raw/",
                        source=str(data_dir))
    return hits[-1]


def read_oi_5m(path) -> tuple[np.ndarray, np.ndarray]:
    """``(t_ms, oi_btc)`` from a Binance metrics 5-minute open-interest file (``t, oi``)."""
    try:
        df = pd.read_csv(path, usecols=["t", "oi"])
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read ({exc}); pass a BTCUSDT_metrics_oi_5m file with "
                        "columns t, oi", source=str(path)) from None
    df = df.dropna().sort_values("t").drop_duplicates("t", keep="last")
    return df["t"].to_numpy(np.int64), df["oi"].to_numpy(np.float64)


def oi_at_close(bar_open_ms: np.ndarray, bar_ms: int, t_ms: np.ndarray, oi: np.ndarray,
                tolerance_ms: int = OI_TOLERANCE_MS, source: str = "<oi>") -> np.ndarray:
    """Open interest at each bar's close: the last sample at or before ``open + bar_ms``.

    Raises
    ------
    DataError
        If a bar has no sample within ``tolerance_ms`` before its close.
    """
    close_ms = np.asarray(bar_open_ms, np.int64) + int(bar_ms)
    idx = np.searchsorted(t_ms, close_ms, side="right") - 1
    bad = (idx < 0) | (close_ms - t_ms[np.clip(idx, 0, None)] > tolerance_ms)
    if np.any(bad):
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"no open-interest sample within {tolerance_ms // MS_PER_MINUTE} min before "
                        f"the close of the bar opening at {int(bar_open_ms[row])} ms; the OI "
                        "file does not cover the window", source=source, row=row)
    return oi[idx]
