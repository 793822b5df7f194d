"""Scorecard: backtests of the model against realized liquidations, with naive baselines.

- :mod:`liqmap.scorecard.data`: scorecard windows (bars + realized liquidations).
- :mod:`liqmap.scorecard.metrics`: per-side scores and the baselines.
- :mod:`liqmap.scorecard.backtest`: :func:`run_backtest` -> :class:`BacktestResult`.
"""

from __future__ import annotations

from liqmap.scorecard.backtest import CSV_HEAD, BacktestResult, run_backtest
from liqmap.scorecard.data import WINDOWS, WindowData, default_data_dir, load_window
from liqmap.scorecard.metrics import Comparison, SideMetrics, baselines, compare

__all__ = ["CSV_HEAD", "WINDOWS", "BacktestResult", "Comparison", "SideMetrics", "WindowData",
           "baselines", "compare", "default_data_dir", "load_window", "run_backtest"]
