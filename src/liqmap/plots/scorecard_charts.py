"""Scorecard figures (matplotlib, PNG): predicted vs realized over time, log-log scatter,
calibration curve. Each function reads one ``window-<W>.csv`` frame and writes one PNG.

>>> import pandas as pd                                              # doctest: +SKIP
>>> plot_calibration_curve(pd.read_csv("scorecard/window-A.csv"), "A", "out.png")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from liqmap.outputs import atomic_path
from liqmap.timeutil import MS_PER_DAY

__all__ = ["plot_calibration_curve", "plot_scatter", "plot_timeseries", "window_plots"]

SIDES = ("long", "short")
_COL = {"calibration": "#1f77b4", "scoring": "#d62728"}


def _fig(nrows: int, ncols: int, size):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt, *plt.subplots(nrows, ncols, figsize=size, squeeze=False)


def _save(plt, fig, path) -> Path:
    path = Path(path)
    fig.tight_layout()
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=90)
    finally:
        plt.close(fig)
    return path


def plot_timeseries(df, window: str, path, *, realized_label: str | None = None) -> Path:
    """Daily sums of predicted and realized USD per side; calibration span shaded.
    ``realized_label`` names the realized series (default: the research windows')."""
    import matplotlib.dates as mdates

    plt, fig, ax = _fig(2, 1, (10, 6))
    day = (df["ts_ms"] // MS_PER_DAY) * MS_PER_DAY
    g = df.assign(day=day).groupby("day")
    x = np.array(g.size().index, dtype="datetime64[ms]")
    cal = df.loc[df["span"] == "calibration", "ts_ms"]
    for i, sd in enumerate(SIDES):
        a = ax[i, 0]
        a.plot(x, g[f"realized_{sd}_usd"].sum().to_numpy() / 1e6, color="black", lw=1.2,
               label=realized_label or "realized (Binance+Bybit+OKX)")
        a.plot(x, g[f"predicted_{sd}_usd"].sum().to_numpy() / 1e6, color="#d62728", lw=1.0,
               label="predicted (model)")
        if len(cal):
            a.axvspan(np.datetime64(int(cal.min()), "ms"), np.datetime64(int(cal.max()), "ms"),
                      color="#1f77b4", alpha=0.08, label="calibration span")
        a.set_yscale("symlog", linthresh=1.0)
        loc = mdates.AutoDateLocator()
        a.xaxis.set_major_locator(loc)
        a.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
        a.set_ylabel(f"{sd} liquidations, M USD/day")
        a.grid(alpha=0.3)
        a.legend(loc="upper left", fontsize=8)
    ax[0, 0].set_title(f"Window {window}: predicted vs realized liquidations (daily sums)")
    return _save(plt, fig, path)


def plot_scatter(df, window: str, path) -> Path:
    """Per bar, log-log: predicted (x) vs realized (y), coloured by span."""
    plt, fig, ax = _fig(1, 2, (10, 4.5))
    for i, sd in enumerate(SIDES):
        a = ax[0, i]
        for span, sub in df.groupby("span"):
            a.scatter(sub[f"predicted_{sd}_usd"] + 1, sub[f"realized_{sd}_usd"] + 1, s=4,
                      alpha=0.35, color=_COL.get(span, "gray"), label=span)
        lo = 1.0
        hi = max(df[f"predicted_{sd}_usd"].max(), df[f"realized_{sd}_usd"].max()) + 1
        a.plot([lo, hi], [lo, hi], color="gray", lw=0.8, ls="--", label="y = x")
        a.set_xscale("log")
        a.set_yscale("log")
        a.set_xlabel(f"predicted {sd} USD per bar + 1")
        a.set_ylabel(f"realized {sd} USD per bar + 1")
        a.grid(alpha=0.3)
        a.legend(fontsize=8)
        a.set_title(f"Window {window}, {sd}s")
    return _save(plt, fig, path)


def _curve(pred: np.ndarray, real: np.ndarray, n_bins: int = 10):
    edges = np.unique(np.quantile(pred, np.linspace(0, 1, n_bins + 1)))
    idx = np.clip(np.searchsorted(edges, pred, side="right") - 1, 0, edges.size - 2)
    cnt = np.bincount(idx, minlength=edges.size - 1)
    ok = cnt > 0
    mp = np.bincount(idx, weights=pred, minlength=cnt.size)[ok] / cnt[ok]
    mr = np.bincount(idx, weights=real, minlength=cnt.size)[ok] / cnt[ok]
    return mp, mr


def plot_calibration_curve(df, window: str, path, span: str = "scoring") -> Path:
    """Deciles of predicted USD on ``span``: mean predicted vs mean realized, log-log."""
    plt, fig, ax = _fig(1, 2, (10, 4.5))
    sub = df[df["span"] == span]
    for i, sd in enumerate(SIDES):
        a = ax[0, i]
        mp, mr = _curve(sub[f"predicted_{sd}_usd"].to_numpy(float),
                        sub[f"realized_{sd}_usd"].to_numpy(float))
        a.plot(mp + 1, mr + 1, "o-", color="#d62728", label="bins of predicted (deciles)")
        lo, hi = 1.0, max(mp.max(), mr.max()) * 1.5 + 1
        a.plot([lo, hi], [lo, hi], color="gray", lw=0.8, ls="--", label="perfect calibration")
        a.set_xscale("log")
        a.set_yscale("log")
        a.set_xlabel(f"mean predicted {sd} USD per bar")
        a.set_ylabel(f"mean realized {sd} USD per bar")
        a.grid(alpha=0.3)
        a.legend(fontsize=8)
        a.set_title(f"Window {window}, {sd}s, {span} span")
    return _save(plt, fig, path)


def window_plots(df, window: str, folder, *, realized_label: str | None = None) -> dict:
    """All three figures of one window into ``folder``; ``{kind: path}``. The calibration
    curve is drawn on the scoring span, or on the calibration span when nothing is scored."""
    folder = Path(folder)
    span = "scoring" if (df["span"] == "scoring").any() else "calibration"
    return {"timeseries": plot_timeseries(df, window, folder / f"{window}-timeseries.png",
                                          realized_label=realized_label),
            "scatter": plot_scatter(df, window, folder / f"{window}-scatter.png"),
            "calibration_curve": plot_calibration_curve(
                df, window, folder / f"{window}-calibration.png", span=span)}
