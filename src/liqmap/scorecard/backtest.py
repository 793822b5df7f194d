"""Backtest: the model's per-bar predicted liquidations against realized ones, with baselines.

``run_backtest`` runs a ``LiquidationModel`` over a whole scorecard window (the book starts
empty at the window's first bar), drops a warm-up and the bars after data gaps, splits the
rest at the window's calibration end (2026-02-01 for window A) and scores the model and the
naive baselines on both spans (``liqmap.scorecard.metrics``). Nothing is tuned here; the
only fitted quantities (the log scale and line of each predictor) use the calibration span.

>>> res = run_backtest("A")                                    # doctest: +SKIP
>>> res.summary()["verdict"]["long"]["excursion"]["statement"] # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from liqmap._exceptions import ConfigError
from liqmap.model import LiquidationModel
from liqmap.scorecard.data import WindowData, load_window
from liqmap.scorecard.metrics import (SideMetrics, baselines, compare, score_predictor)

__all__ = ["CSV_HEAD", "BacktestResult", "run_backtest"]

CSV_HEAD = ("ts_ms", "predicted_long_usd", "predicted_short_usd", "realized_long_usd",
            "realized_short_usd")
SIDES = ("long", "short")
SPANS = ("calibration", "scoring")
DEFAULT_WARMUP_HOURS = 168.0


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%MZ")


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """Read-only result of :func:`run_backtest`.

    Attributes
    ----------
    window : str
        Window id.
    model : LiquidationModel
        Parameters used.
    ts_ms : (N,) int64
        Open times of the scored bars.
    predicted, realized : dict
        ``{"long": (N,), "short": (N,)}`` USD per scored bar.
    baseline_scores : dict
        ``{baseline: {"long": (N,), "short": (N,)}}`` on the scored bars.
    is_scoring : (N,) bool
        True for bars of the out-of-sample span.
    metrics : dict
        ``{span: {side: {predictor: SideMetrics}}}``; predictor ``"model"`` or a baseline.
    data : WindowData
        The window the model ran on.
    warmup_hours : float
        Leading hours not scored (the book fills up).
    """

    window: str
    model: LiquidationModel
    ts_ms: np.ndarray
    predicted: dict
    realized: dict
    baseline_scores: dict
    is_scoring: np.ndarray
    metrics: dict
    data: WindowData
    warmup_hours: float

    def comparisons(self, span: str = "scoring") -> dict:
        """``{side: {baseline: Comparison}}`` of the model against each baseline."""
        return {side: {b: compare(self.metrics[span][side]["model"], m)
                       for b, m in self.metrics[span][side].items() if b != "model"}
                for side in SIDES}

    def summary(self) -> dict:
        """JSON-ready: window, spans, data notes, metrics per span/side/predictor, verdicts."""
        spans = {}
        for name, mask in (("calibration", ~self.is_scoring), ("scoring", self.is_scoring)):
            ts = self.ts_ms[mask]
            spans[name] = {"n_bars": int(mask.sum()),
                           "start": _iso(int(ts[0])) if ts.size else None,
                           "end": _iso(int(ts[-1])) if ts.size else None}
        metrics = {sp: {sd: {p: m.to_dict() for p, m in self.metrics[sp][sd].items()}
                        for sd in SIDES} for sp in SPANS}
        verdict = {sd: {b: {"beats": c.beats, "wins": list(c.wins),
                            "statement": c.statement(sd, b)}
                        for b, c in comp.items()}
                   for sd, comp in self.comparisons("scoring").items()}
        d = self.data
        return {
            "window": self.window, "model": self.model.to_dict(),
            "bars_in_window": len(d.bars), "bars_scored": int(self.ts_ms.size),
            "warmup_hours": self.warmup_hours,
            "gaps": [_iso(t) for t in d.gaps_ms],
            "oi_rel_diff_median": d.oi_rel_diff_median,
            "calibration_end": _iso(d.spec.calibration_end_ms),
            "spans": spans, "notes": list(d.notes), "metrics": metrics, "verdict": verdict,
            "totals_usd": {sp: {f"{k}_{sd}": float(v[sd][m].sum())
                                for k, v in (("predicted", self.predicted),
                                             ("realized", self.realized))
                                for sd in SIDES}
                           for sp, m in (("calibration", ~self.is_scoring),
                                         ("scoring", self.is_scoring))},
        }

    def to_csv(self, path) -> Path:
        """One row per scored bar: ``CSV_HEAD`` columns, baseline columns, then ``span``."""
        import pandas as pd

        cols = {"ts_ms": self.ts_ms,
                "predicted_long_usd": self.predicted["long"],
                "predicted_short_usd": self.predicted["short"],
                "realized_long_usd": self.realized["long"],
                "realized_short_usd": self.realized["short"]}
        for b, sc in self.baseline_scores.items():
            for sd in SIDES:
                cols[f"{b}_{sd}"] = sc[sd]
        cols["span"] = np.where(self.is_scoring, "scoring", "calibration")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(cols).to_csv(path, index=False)
        return path

    def to_json(self, path) -> Path:
        """Write :meth:`summary` as JSON."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.summary(), indent=2, allow_nan=False))
        return path


def run_backtest(window: str = "A", model: LiquidationModel | None = None, data_dir=None, *,
                 start_ms: int | None = None, end_ms: int | None = None,
                 warmup_hours: float = DEFAULT_WARMUP_HOURS) -> BacktestResult:
    """Run ``model`` over a window and score it and the baselines on both spans.

    Parameters
    ----------
    window : str
        Scorecard window id (``"A"``).
    model : LiquidationModel, optional
        Default ``LiquidationModel(band="none")`` (the band does not enter the scores).
    data_dir : path-like, optional
        Shared data folder; default ``$LIQMAP_SHARED_DATA``, else ``../shared/data``.
    start_ms, end_ms : int, optional
        Run on the bars opening in ``[start_ms, end_ms)`` only.
    warmup_hours : float
        Leading hours (from the first bar run) left out of scoring while the book fills.

    Returns
    -------
    BacktestResult
    """
    if warmup_hours < 0:
        raise ConfigError("warmup_hours must be >= 0")
    model = model if model is not None else LiquidationModel(band="none")
    data = load_window(window, data_dir, start_ms=start_ms, end_ms=end_ms)
    bars = data.bars
    est = model.run(bars)
    ts = bars.ts_ms
    scored = (ts >= ts[0] + warmup_hours * 3_600_000) & ~data.after_gap
    if not scored.any():
        raise ConfigError("no bar left to score after the warm-up; widen the slice or lower "
                          "warmup_hours")
    is_scoring = ts[scored] >= data.spec.calibration_end_ms
    oi_open = np.r_[bars.open_interest[0], bars.open_interest[:-1]]
    base = baselines(bars.open, bars.high, bars.low, oi_open)
    pred = {"long": est.predicted_long_usd[scored], "short": est.predicted_short_usd[scored]}
    real = {"long": data.realized_long_usd[scored], "short": data.realized_short_usd[scored]}
    base_sc = {b: {"long": v[0][scored], "short": v[1][scored]} for b, v in base.items()}
    metrics: dict = {sp: {sd: {} for sd in SIDES} for sp in SPANS}
    cm = ~is_scoring
    for sd in SIDES:
        preds = {"model": (pred[sd], True)}
        preds.update({b: (sc[sd], False) for b, sc in base_sc.items()})
        for name, (x, usd) in preds.items():
            res: dict[str, SideMetrics] = score_predictor(x, real[sd], cm, is_scoring, usd=usd)
            for sp in SPANS:
                metrics[sp][sd][name] = res[sp]
    return BacktestResult(window=window, model=model, ts_ms=ts[scored], predicted=pred,
                          realized=real, baseline_scores=base_sc, is_scoring=is_scoring,
                          metrics=metrics, data=data, warmup_hours=float(warmup_hours))
