"""Scorecard windows: bars to run the model on, plus the realized liquidations to score it.

Window A (2025-12-04 -> 2026-06-02, hourly) is built from two files of the shared data folder
(``$LIQMAP_SHARED_DATA``, else ``../shared/data`` beside the repository):

- ``raw/coinglass_ismethanhtung/coinglass_BTC_regime_1h_*.csv.gz``: hourly OHLC, which is
  Binance **spot** BTCUSDT (not the perpetual: spot and mark differ by the basis), Binance
  funding (percent per 8 h, converted to a fraction) and the realized long/short liquidations
  in USD summed over Binance, Bybit and OKX (a lower bound, ``METHOD.md`` section 2).
- ``raw/binance_um_hlreaper/BTCUSDT_metrics_oi_5m_*.csv.gz``: Binance USD-M BTCUSDT open
  interest every 5 minutes, in BTC. Each hourly bar gets the last 5-minute value at or
  before its close (``ts_ms + 1 h``), within ``OI_TOLERANCE_MS``.

The regime file misses 8 hours (each a single hour). Missing hours are not invented: they
stay absent, the bar after each gap spans two hours of open-interest change and its range
does not cover the missing hour, so it is flagged in ``after_gap`` and left out of scoring.

Window C (2026-05-25 -> 2026-06-08, 5-minute bars scored on 30-minute realized) is built by
:mod:`liqmap.scorecard.window_c`. The window definitions (:data:`WINDOWS`, :class:`WindowSpec`,
:class:`WindowData`) and the shared readers live in :mod:`liqmap.scorecard.windows`, below both
loaders; they are re-exported here. A window's *scoring bars* are the realized series' bars
(``score_ms``): hourly for A (one per engine bar), 30 minutes for C (six engine bars each).

>>> win = load_window("A")                       # doctest: +SKIP
>>> len(win.bars), win.gaps_ms[:1]               # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from liqmap._exceptions import ConfigError, DataError
from liqmap.core.bars import Bars
from liqmap.io.coinglass import read_realized, read_regime_bars
from liqmap.scorecard.window_c import load_window_c
from liqmap.scorecard.windows import (
    CALIBRATION_END_MS,
    WINDOWS,
    WindowData,
    WindowSpec,
    default_data_dir,
    oi_at_close,
    one_file,
    read_oi_5m,
)

__all__ = ["CALIBRATION_END_MS", "WINDOWS", "WindowData", "WindowSpec", "default_data_dir",
           "load_window", "one_file", "oi_at_close", "read_oi_5m"]


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
