"""Scorecard windows: bars to run the model on, plus the realized liquidations to score it.

Window A (2025-12-04 -> 2026-06-02, hourly) is built from two files of the shared data folder
(``$LIQMAP_SHARED_DATA``, else ``../shared/data`` beside the repository):

- ``raw/coinglass_ismethanhtung/coinglass_BTC_regime_1h_*.csv.gz``: hourly OHLC, which is
  Binance **spot** BTCUSDT (not the perpetual: spot and mark differ by the basis), Binance
  funding (percent per 8 h, converted to a fraction) and the realized long/short liquidations
  in USD summed over Binance, Bybit and OKX (a lower bound, ``METHOD.md`` section 2).
- ``raw/binance_um_hlreaper/BTCUSDT_metrics_oi_5m_*.csv.gz``: Binance USD-M BTCUSDT open
  interest every 5 minutes, in BTC. Each hourly bar gets the last 5-minute value at or
  before its close (``ts_ms + 1 h``), within ``_OI_TOLERANCE_MS``.

The regime file misses 8 hours (each a single hour). Missing hours are not invented: they
stay absent, the bar after each gap spans two hours of open-interest change and its range
does not cover the missing hour, so it is flagged in ``after_gap`` and left out of scoring.

Window C (2026-05-25 -> 2026-06-08, 5-minute bars scored on 30-minute realized) is built by
:mod:`liqmap.scorecard.window_c`. A window's *scoring bars* are the realized series' bars
(``score_ms``): hourly for A (one per engine bar), 30 minutes for C (six engine bars each).

>>> win = load_window("A")                       # doctest: +SKIP
>>> len(win.bars), win.gaps_ms[:1]               # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from liqmap._exceptions import ConfigError, DataError
from liqmap.bars import Bars
from liqmap.io.coinglass import read_realized, read_regime_bars

__all__ = ["CALIBRATION_END_MS", "WINDOWS", "WindowData", "WindowSpec", "default_data_dir",
           "load_window",
           "one_file", "oi_at_close", "read_oi_5m"]

_H_MS = 3_600_000
_OI_TOLERANCE_MS = 10 * 60_000
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
    """

    name: str
    regime_glob: str
    oi_glob: str
    calibration_end_ms: int
    bar_ms: int = _H_MS
    score_ms: int = _H_MS
    warmup_hours: float = 168.0


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
        calibration_end_ms=CALIBRATION_END_MS, bar_ms=5 * 60_000, score_ms=_H_MS // 2,
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
                tolerance_ms: int = _OI_TOLERANCE_MS, source: str = "<oi>") -> np.ndarray:
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
        raise DataError(f"no open-interest sample within {tolerance_ms // 60_000} min before "
                        f"the close of the bar opening at {int(bar_open_ms[row])} ms; the OI "
                        "file does not cover the window", source=source, row=row)
    return oi[idx]


def load_window(window: str = "A", data_dir=None, *, start_ms: int | None = None,
                end_ms: int | None = None) -> WindowData:
    """Build a scorecard window from the shared data folder.

    Parameters
    ----------
    window : str
        Window id: ``"A"`` or ``"C"``.
    data_dir : path-like, optional
        Shared data folder (holding ``raw/``); default :func:`default_data_dir`.
    start_ms, end_ms : int, optional
        Keep bars opening in ``[start_ms, end_ms)`` (for tests and slices).

    Returns
    -------
    WindowData
    """
    if window not in WINDOWS:
        raise ConfigError(f"unknown window {window!r}: use one of {tuple(WINDOWS)}")
    spec = WINDOWS[window]
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    if window == "C":
        from liqmap.scorecard.window_c import load_window_c

        return load_window_c(spec, root, start_ms=start_ms, end_ms=end_ms)
    regime = one_file(root, spec.regime_glob)
    oi_path = one_file(root, spec.oi_glob)
    raw = read_regime_bars(regime)
    real = read_realized(regime)
    if not np.array_equal(real.ts_ms, raw.ts_ms):
        raise DataError("bars and realized liquidations are not aligned", source=regime.name)
    t5, oi5 = read_oi_5m(oi_path)
    oi_btc = oi_at_close(raw.ts_ms, spec.bar_ms, t5, oi5, source=oi_path.name)
    rel = np.abs(oi_btc / raw.open_interest - 1.0)
    bars = Bars(ts_ms=raw.ts_ms, open=raw.open, high=raw.high, low=raw.low, close=raw.close,
                open_interest=oi_btc, funding_rate=raw.funding_rate, venue="binance",
                symbol="BTC/USDT:USDT", source=f"{regime.name} (spot OHLC) + {oi_path.name}")
    step = np.diff(bars.ts_ms, prepend=bars.ts_ms[0] - spec.bar_ms)
    after_gap = step > spec.bar_ms
    gaps = tuple(int(t) for i in np.flatnonzero(after_gap)
                 for t in range(int(bars.ts_ms[i] - step[i] + spec.bar_ms), int(bars.ts_ms[i]),
                                spec.bar_ms))
    keep = np.ones(len(bars), bool)
    if start_ms is not None:
        keep &= bars.ts_ms >= start_ms
    if end_ms is not None:
        keep &= bars.ts_ms < end_ms
    if keep.sum() < 2:
        raise ConfigError("fewer than 2 bars between start and end; widen the slice")
    notes = (
        "price: Binance SPOT BTCUSDT hourly OHLC from the Coinglass regime export (not the "
        "perpetual's mark price)",
        "open interest: Binance USD-M BTCUSDT, BTC, 5-minute metrics sampled at each bar close",
        "realized: Coinglass aggregated liquidations, Binance+Bybit+OKX, USD (a lower bound); "
        "the model sees Binance open interest only, so totals differ in scope",
        f"{len(gaps)} missing hours kept absent; the bar after each is not scored",
    )
    return WindowData(spec=spec, bars=bars.take(keep), realized_long_usd=real.long_usd[keep],
                      realized_short_usd=real.short_usd[keep], after_gap=after_gap[keep],
                      gaps_ms=gaps, oi_rel_diff_median=float(np.median(rel[keep])),
                      notes=notes)
