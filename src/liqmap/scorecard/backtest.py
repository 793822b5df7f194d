"""Backtest: the model's per-bar predicted liquidations against realized ones, with baselines.

``run_backtest`` runs the level book over a whole scorecard window (the book starts empty at
the window's first bar), sums its per-bar output into the window's scoring bars
(:mod:`liqmap.scorecard.frame`), drops a warm-up and the bars after data gaps, splits the rest
at the calibration end (2026-02-01) and scores the model and the naive baselines on both
spans (:mod:`liqmap.scorecard.metrics`).

With a fitted preset (``preset=``, :mod:`liqmap.scorecard.preset`) the model's prediction is
the combined predictor of :mod:`liqmap.scorecard.combine` (book + excursion + range x open
interest, coefficients from the calibration span) and the raw book is scored too, as
``book``; without one the prediction is the raw book of ``model``.

Targets (issue "Scorecard", out of sample, window A, hourly): Spearman at least 0.05 above
the excursion baseline on both sides, ``r2_log >= 0.5`` on both sides, and predicted totals
within +/-30 % of realized (:data:`TARGETS`).

>>> res = run_backtest("A", preset="fitted-binance-btcusdt-2025-12")  # doctest: +SKIP
>>> res.summary()["verdict"]["long"]["excursion"]["statement"]        # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from liqmap.model import LiquidationModel
from liqmap.outputs import atomic_path, atomic_write_text
from liqmap.scorecard.data import WindowData, load_window
from liqmap.scorecard.frame import ScoreFrame, score_frame
from liqmap.scorecard.metrics import baselines, compare, score_predictor
from liqmap.scorecard.preset import FittedPreset, load_preset
from liqmap.timeutil import iso_minute

__all__ = ["BASELINES", "CSV_HEAD", "SIDES", "TARGETS", "BacktestResult", "baselines_of",
           "run_backtest", "score_all", "targets"]

CSV_HEAD = ("ts_ms", "predicted_long_usd", "predicted_short_usd", "realized_long_usd",
            "realized_short_usd")
SIDES = ("long", "short")
SPANS = ("calibration", "scoring")
BASELINES = ("excursion", "excursion_x_oi_usd", "range_x_oi_usd")
TARGETS = {"spearman_margin_vs_excursion": 0.05, "r2_log_min": 0.5, "total_ratio_band": 0.30}


def _clean(v):
    return None if v is None or (isinstance(v, float) and not np.isfinite(v)) else v


def targets(metrics_scoring: dict) -> dict:
    """The issue's targets checked on ``{side: {predictor: SideMetrics}}`` (scoring span)."""
    out: dict = {}
    for sd in SIDES:
        m, exc = metrics_scoring[sd]["model"], metrics_scoring[sd]["excursion"]
        margin = m.spearman - exc.spearman
        band = TARGETS["total_ratio_band"]
        out[sd] = {
            "spearman_margin": {"value": _clean(float(margin)),
                                "target": f">= {TARGETS['spearman_margin_vs_excursion']}",
                                "met": bool(margin >= TARGETS["spearman_margin_vs_excursion"])},
            "r2_log": {"value": _clean(m.r2_log), "target": f">= {TARGETS['r2_log_min']}",
                       "met": bool(m.r2_log >= TARGETS["r2_log_min"])},
            "total_ratio": {"value": _clean(m.total_ratio),
                            "target": f"{1 - band:.2f} .. {1 + band:.2f}",
                            "met": bool(abs(m.total_ratio - 1.0) <= band)},
        }
    out["all_met"] = all(t["met"] for sd in SIDES for t in out[sd].values())
    return out


def score_all(preds: dict, real: dict, cm: np.ndarray, sm: np.ndarray, usd: set) -> dict:
    """``{span: {side: {name: SideMetrics}}}`` for ``preds = {name: {side: array}}``."""
    metrics: dict = {sp: {sd: {} for sd in SIDES} for sp in SPANS}
    for sd in SIDES:
        for name, series in preds.items():
            res = score_predictor(series[sd], real[sd], cm, sm, usd=name in usd)
            for sp in SPANS:
                metrics[sp][sd][name] = res[sp]
    return metrics


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """Read-only result of :func:`run_backtest`.

    Attributes
    ----------
    window : str
        Window id.
    model : LiquidationModel
        Engine parameters used.
    preset : FittedPreset or None
        The fitted preset whose combination made the prediction (None: raw book).
    ts_ms : (N,) int64
        Open times of the scored bars (scoring bars: 1 h for A, 30 min for C).
    predicted, realized, book : dict
        ``{"long": (N,), "short": (N,)}`` USD per scored bar (``book``: the raw level book).
    baseline_scores : dict
        ``{baseline: {"long": (N,), "short": (N,)}}`` on the scored bars.
    is_scoring : (N,) bool
        True for bars of the out-of-sample span.
    metrics : dict
        ``{span: {side: {predictor: SideMetrics}}}``; predictor ``"model"``, ``"book"`` (with
        a preset) or a baseline.
    data : WindowData
        The window the model ran on.
    warmup_hours : float
        Leading hours not scored (the book fills up).
    """

    window: str
    model: LiquidationModel
    preset: FittedPreset | None
    ts_ms: np.ndarray
    predicted: dict
    realized: dict
    book: dict
    baseline_scores: dict
    is_scoring: np.ndarray
    metrics: dict
    data: WindowData
    warmup_hours: float

    def comparisons(self, span: str = "scoring") -> dict:
        """``{side: {baseline: Comparison}}`` of the model against each baseline."""
        return {side: {b: compare(self.metrics[span][side]["model"], self.metrics[span][side][b])
                       for b in BASELINES}
                for side in SIDES}

    def _spans(self) -> dict:
        spans = {}
        for name, mask in (("calibration", ~self.is_scoring), ("scoring", self.is_scoring)):
            ts = self.ts_ms[mask]
            spans[name] = {"n_bars": int(mask.sum()),
                           "start": iso_minute(int(ts[0])) if ts.size else None,
                           "end": iso_minute(int(ts[-1])) if ts.size else None}
        return spans

    def _totals(self) -> dict:
        out = {}
        for sp, m in (("calibration", ~self.is_scoring), ("scoring", self.is_scoring)):
            out[sp] = {f"{k}_{sd}": float(v[sd][m].sum())
                       for k, v in (("predicted", self.predicted), ("realized", self.realized),
                                    ("book", self.book)) for sd in SIDES}
        return out

    def summary(self) -> dict:
        """JSON-ready: window, spans, data notes, metrics per span/side/predictor, verdicts,
        targets, the preset."""
        metrics = {sp: {sd: {p: m.to_dict() for p, m in self.metrics[sp][sd].items()}
                        for sd in SIDES} for sp in SPANS}
        verdict = {sd: {b: {"beats": c.beats, "wins": list(c.wins),
                            "statement": c.statement(sd, b)}
                        for b, c in comp.items()}
                   for sd, comp in self.comparisons("scoring").items()}
        d = self.data
        no_cal = not (~self.is_scoring).any()
        return {
            "window": self.window, "model": self.model.to_dict(),
            "preset": None if self.preset is None else self.preset.to_dict(),
            "prediction": "combined (book + excursion + range x OI), fitted preset"
            if self.preset else "raw level book",
            "engine_bar_ms": int(d.spec.bar_ms), "scoring_bar_ms": int(d.spec.score_ms),
            "bars_in_window": len(d.bars), "bars_scored": int(self.ts_ms.size),
            "warmup_hours": self.warmup_hours,
            "gaps": [iso_minute(t) for t in d.gaps_ms],
            "oi_rel_diff_median": _clean(d.oi_rel_diff_median),
            "calibration_end": iso_minute(d.spec.calibration_end_ms),
            "score_from": iso_minute(d.spec.scoring_start_ms),
            "venue": d.bars.venue, "symbol": d.bars.symbol, "bars_source": d.bars.source,
            "r2_log_fitted_on": "scoring span, in sample (no calibration span)" if no_cal
            else "calibration span",
            "spans": self._spans(), "notes": list(d.notes), "metrics": metrics,
            "verdict": verdict, "targets": targets(self.metrics["scoring"]),
            "totals_usd": self._totals(),
        }

    def to_csv(self, path) -> Path:
        """One row per scored bar: ``CSV_HEAD``, ``book_*_usd``, baselines, then ``span``."""
        import pandas as pd

        cols = {"ts_ms": self.ts_ms,
                "predicted_long_usd": self.predicted["long"],
                "predicted_short_usd": self.predicted["short"],
                "realized_long_usd": self.realized["long"],
                "realized_short_usd": self.realized["short"],
                "book_long_usd": self.book["long"], "book_short_usd": self.book["short"]}
        for b, sc in self.baseline_scores.items():
            for sd in SIDES:
                cols[f"{b}_{sd}"] = sc[sd]
        cols["span"] = np.where(self.is_scoring, "scoring", "calibration")
        path = Path(path)
        with atomic_path(path) as tmp:
            pd.DataFrame(cols).to_csv(tmp, index=False)
        return path

    def to_json(self, path) -> Path:
        """Write :meth:`summary` as JSON."""
        return atomic_write_text(path, json.dumps(self.summary(), indent=2, allow_nan=False))


def baselines_of(frame: ScoreFrame) -> dict:
    """The naive baselines' predictions on a score frame: ``{baseline: {side: (S,) USD}}``."""
    base = baselines(frame.open_usd, frame.high_usd, frame.low_usd, frame.oi_open_coin)
    return {b: {"long": v[0], "short": v[1]} for b, v in base.items()}


def run_backtest(window: str = "A", model: LiquidationModel | None = None, data_dir=None, *,
                 preset: FittedPreset | str | None = None, start_ms: int | None = None,
                 end_ms: int | None = None, warmup_hours: float | None = None,
                 data: WindowData | None = None) -> BacktestResult:
    """Run the engine over a window and score it and the baselines on both spans.

    Parameters
    ----------
    window : str
        Scorecard window id (``"A"`` or ``"C"``).
    model : LiquidationModel, optional
        Raw-book run (no preset); default ``LiquidationModel(band="none")``.
    data_dir : path-like, optional
        Shared data folder; default ``$LIQMAP_SHARED_DATA``, else ``../shared/data``.
    preset : FittedPreset or str, optional
        Fitted preset (object, shipped name or JSON path): its engine parameters and combined
        predictor are used, unchanged. Not together with ``model``.
    start_ms, end_ms : int, optional
        Run on the bars opening in ``[start_ms, end_ms)`` only.
    warmup_hours : float, optional
        Leading hours left out of scoring while the book fills; default the window's.
    data : WindowData, optional
        An already loaded window (then ``window``, ``data_dir`` and the slice are ignored).

    Returns
    -------
    BacktestResult
    """
    from liqmap._exceptions import ConfigError
    from liqmap.scorecard.calibrate import book_series

    if warmup_hours is not None and warmup_hours < 0:
        raise ConfigError("warmup_hours must be >= 0")
    if preset is not None and model is not None:
        raise ConfigError("give either a fitted preset or model parameters, not both")
    if isinstance(preset, str):
        preset = load_preset(preset)
    model = preset.model if preset is not None else (model or LiquidationModel(band="none"))
    data = data or load_window(window, data_dir, start_ms=start_ms, end_ms=end_ms)
    frame = score_frame(data, warmup_hours)
    book = book_series(model, data, frame)
    pred = book if preset is None else preset.combine(frame.inputs(book))
    k = frame.scored & (frame.is_scoring | frame.calibration_mask)  # none between the spans
    sel = lambda d: {sd: np.asarray(d[sd])[k] for sd in SIDES}  # noqa: E731
    base = {b: sel(v) for b, v in baselines_of(frame).items()}
    preds = {"model": sel(pred), **({"book": sel(book)} if preset is not None else {}), **base}
    is_scoring = frame.is_scoring[k]
    real = sel(frame.realized)
    metrics = score_all(preds, real, ~is_scoring, is_scoring,
                        usd={"model", "book"})
    return BacktestResult(window=data.spec.name, model=model, preset=preset,
                          ts_ms=frame.ts_ms[k], predicted=sel(pred), realized=real,
                          book=sel(book), baseline_scores=base, is_scoring=is_scoring,
                          metrics=metrics, data=data,
                          warmup_hours=float(data.spec.warmup_hours if warmup_hours is None
                                             else warmup_hours))
