"""Scorecard: backtests of the model against realized liquidations, with naive baselines.

- :mod:`liqmap.scorecard.data` / :mod:`liqmap.scorecard.window_c`: scorecard windows A
  (hourly) and C (5-minute bars, 30-minute realized); :mod:`liqmap.scorecard.windows`: the
  window definitions and file readers both loaders share.
- :mod:`liqmap.scorecard.frame`: engine bars grouped into the realized series' bars.
- :mod:`liqmap.scorecard.metrics`: per-side scores and the baselines.
- :mod:`liqmap.scorecard.combine`: the combined predictor (level book + excursion +
  range x open interest).
- :mod:`liqmap.scorecard.calibrate`: the fit on the calibration span only, walk-forward.
- :mod:`liqmap.scorecard.preset`: fitted presets shipped in ``liqmap/data/presets``.
- :mod:`liqmap.scorecard.backtest`: :func:`run_backtest` -> :class:`BacktestResult`.
- :mod:`liqmap.scorecard.report`: the HTML report (figures drawn by
  :mod:`liqmap.plots.scorecard_charts`).
"""

from __future__ import annotations

from liqmap.scorecard.backtest import CSV_HEAD, TARGETS, BacktestResult, run_backtest
from liqmap.scorecard.calibrate import GridPoint, default_grid, fit_calibration, walk_forward
from liqmap.scorecard.combine import FORMULA, SideFit, fit_side
from liqmap.scorecard.data import WINDOWS, WindowData, default_data_dir, load_window
from liqmap.scorecard.metrics import Comparison, SideMetrics, baselines, compare
from liqmap.scorecard.preset import DEFAULT_PRESET, FittedPreset, load_preset

__all__ = [
    "BacktestResult",
    "CSV_HEAD",
    "Comparison",
    "DEFAULT_PRESET",
    "FORMULA",
    "FittedPreset",
    "GridPoint",
    "SideFit",
    "SideMetrics",
    "TARGETS",
    "WINDOWS",
    "WindowData",
    "baselines",
    "compare",
    "default_data_dir",
    "default_grid",
    "fit_calibration",
    "fit_side",
    "load_preset",
    "load_window",
    "run_backtest",
    "walk_forward",
]
