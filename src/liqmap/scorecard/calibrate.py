"""Calibration: choose the engine's parameters and fit the combined predictor, past data only.

:func:`fit_calibration` cuts the window at its calibration end **before** anything else
(:func:`slice_before`: engine bars and realized bars opening at or after the cut are dropped,
so no later value can reach the fit), then

1. evaluates every :class:`GridPoint` of the grid (leverage weights, side model and strength,
   decay half-life, open-interest policy): the level book is run over the calibration bars
   (warming up from the window's first bar) and the combined predictor of
   :mod:`liqmap.scorecard.combine` is scored by a **blocked, forward-chaining time-series CV**
   inside the calibration span (``n_folds`` contiguous blocks; fold ``k`` fits on blocks
   ``< k`` and predicts block ``k``); each fold is scored by the scorecard's own metric code
   (:func:`liqmap.scorecard.metrics.score_predictor`, its scale and line fitted on the
   fold's training rows, as the backtest fits them on the calibration span) and the
   criterion is the mean out-of-fold ``r2_log`` over folds and sides (out-of-fold
   ``spearman`` is recorded too); each point is tried with each log ``offset`` of
   ``OFFSETS`` and keeps its better one;
2. takes the best point (first in grid order on ties) and fits the combination on all scored
   calibration bars; the same CV of each naive baseline (:func:`baseline_cv`) is stored in
   the preset's selection record, as the bar the model is compared with.

The grid is evaluated through ``map_fn(fn, points)`` (``map`` by default), so a scale-out
mapper such as ``liqmap.scaleout.map_tasks`` can run it on a cluster.

:func:`walk_forward` re-fits monthly from the calibration end on: each fit uses only the
bars before its month, and predicts that month.

>>> cal = fit_calibration(load_window("A"))                 # doctest: +SKIP
>>> cal.preset.model.leverage, cal.preset.selection["best"]["cv_r2_log"]  # doctest: +SKIP
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from functools import partial

import numpy as np

from liqmap import __version__
from liqmap._exceptions import ConfigError
from liqmap.model import LiquidationModel
from liqmap.model_setup import auto_bin
from liqmap.scorecard.combine import fit_side
from liqmap.scorecard.data import WindowData
from liqmap.scorecard.frame import ScoreFrame, score_frame
from liqmap.scorecard.metrics import baselines, score_predictor
from liqmap.scorecard.preset import DEFAULT_PRESET, FittedPreset
from liqmap.timeutil import iso_minute

__all__ = ["CRITERION", "Calibration", "GridPoint", "PointScore", "WalkForward",
           "baseline_cv", "book_series", "default_grid", "evaluate_grid", "evaluate_point",
           "fit_calibration", "month_starts", "simplex_leverage", "slice_before",
           "walk_forward"]

SIDES = ("long", "short")
LEVERAGE_GROUPS = ((2.0, 3.0, 5.0), (10.0, 20.0, 25.0), (50.0, 100.0))
NAMED_LEVERAGE = ("all-leverage", "high-leverage", "peer-common", "low-leverage")
SIDE_OPTIONS = (("candle", 1.0), ("candle", 0.5), ("funding", 1.0), ("neutral", 1.0))
HALF_LIVES = (None, 24.0, 72.0, 168.0, 720.0)
OI_POLICIES = ("proportional", "leverage-first")
OFFSETS = (1.0, 0.1)
CRITERION = ("mean out-of-fold r2_log (liqmap.scorecard.metrics.score_predictor: scale and "
             "line fitted on each fold's training rows), blocked forward-chaining CV inside "
             "the calibration span, both sides")


@dataclass(frozen=True, slots=True)
class GridPoint:
    """One candidate engine configuration (band ``none``, one heatmap frame)."""

    leverage: str
    side_model: str = "candle"
    side_strength: float = 1.0
    half_life_hours: float | None = None
    oi_policy: str = "proportional"

    def model(self) -> LiquidationModel:
        """The ``LiquidationModel`` of this point."""
        return LiquidationModel(leverage=self.leverage, side_model=self.side_model,
                                side_strength=self.side_strength,
                                half_life_hours=self.half_life_hours,
                                oi_policy=self.oi_policy, band="none", frames=1)

    def to_dict(self) -> dict:
        """JSON-ready."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class PointScore:
    """CV result of one grid point: criterion and per-side out-of-fold figures."""

    point: GridPoint
    offset: float
    cv_r2_log: float
    r2_log: dict
    spearman: dict

    def to_dict(self) -> dict:
        """JSON-ready."""
        return {"point": self.point.to_dict(), "offset": self.offset,
                "cv_r2_log": self.cv_r2_log,
                "r2_log": self.r2_log, "spearman": self.spearman}


def simplex_leverage(step: int = 3) -> tuple[str, ...]:
    """Weight strings over the low/mid/high leverage groups, shares in ``1/step`` steps.

    Each group's share is split evenly over its tiers.

    >>> simplex_leverage(1)[0]
    '50:0.5,100:0.5'
    """
    out = []
    for a, b in itertools.product(range(step + 1), repeat=2):
        if a + b > step:
            continue
        shares = (a / step, b / step, (step - a - b) / step)
        parts = [f"{lev:g}:{s / len(g):.6g}" for g, s in zip(LEVERAGE_GROUPS, shares)
                 if s > 0 for lev in g]
        out.append(",".join(parts))
    return tuple(out)


def default_grid() -> tuple[GridPoint, ...]:
    """The calibration grid: named presets and a low/mid/high simplex x side models x
    half-lives x open-interest policies (560 points)."""
    levs = NAMED_LEVERAGE + simplex_leverage(3)
    return tuple(GridPoint(lev, sm, st, hl, pol)
                 for lev, (sm, st), hl, pol in itertools.product(levs, SIDE_OPTIONS,
                                                                 HALF_LIVES, OI_POLICIES))


def slice_before(data: WindowData, end_ms: int) -> WindowData:
    """The window with every engine bar and realized bar opening at or after ``end_ms``
    removed (the only data a fit may see)."""
    keep_bars = data.bars.ts_ms < end_ms
    keep_score = np.asarray(data.score_ts) < end_ms
    if keep_bars.sum() < 2 or keep_score.sum() < 2:
        raise ConfigError(f"fewer than 2 bars before {iso_minute(end_ms)}; the fit needs past data")
    return replace(data, bars=data.bars.take(keep_bars),
                   realized_long_usd=np.array(data.realized_long_usd[keep_score]),
                   realized_short_usd=np.array(data.realized_short_usd[keep_score]),
                   after_gap=data.after_gap[keep_score],
                   score_ts_ms=None if data.score_ts_ms is None
                   else data.score_ts_ms[keep_score])


def book_series(model: LiquidationModel, data: WindowData, frame: ScoreFrame) -> dict:
    """The book's consumed notional per scoring bar, ``{"long", "short"}`` USD."""
    est = model.run(data.bars)
    return {"long": frame.to_score(est.predicted_long_usd),
            "short": frame.to_score(est.predicted_short_usd)}


def _fold_scores(pred_fn, real: np.ndarray, rows: np.ndarray,
                 n_folds: int) -> tuple[float, float]:
    """Mean out-of-fold ``(r2_log, spearman)``; ``pred_fn(train, idx)`` fits on rows
    ``train`` and returns the prediction of rows ``idx`` (train then test); each fold
    scored by :func:`score_predictor` (scale and line fitted on the fold's training rows,
    as the backtest fits them on the calibration span)."""
    blocks = np.array_split(rows, n_folds)
    r2s, rhos = [], []
    for k in range(1, n_folds):
        train, test = np.concatenate(blocks[:k]), blocks[k]
        idx = np.concatenate([train, test])
        fit_on = np.arange(idx.size) < train.size
        res = score_predictor(pred_fn(train, idx), real[idx], fit_on, ~fit_on,
                              usd=True)["scoring"]
        r2s.append(res.r2_log)
        rhos.append(res.spearman)
    return float(np.nanmean(r2s)), float(np.nanmean(rhos))


def _cv_side(inputs: dict, real: np.ndarray, rows: np.ndarray, n_folds: int,
             offset: float) -> tuple[float, float]:
    def pred(train, idx):
        fit = fit_side({f: v[train] for f, v in inputs.items()}, real[train], offset)
        return fit.predict({f: v[idx] for f, v in inputs.items()})

    return _fold_scores(pred, real, rows, n_folds)


def baseline_cv(frame: ScoreFrame, n_folds: int = 4) -> dict:
    """The same blocked CV for each naive baseline: ``{side: {baseline: {r2_log,
    spearman}}}`` (the bar the combined predictor is compared with)."""
    base = baselines(frame.open_usd, frame.high_usd, frame.low_usd, frame.oi_open_coin)
    rows = np.flatnonzero(frame.scored)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for i, sd in enumerate(SIDES):
        out[sd] = {}
        for name, v in base.items():
            r2_, rho = _fold_scores(lambda train, idx, x=v[i]: x[idx], frame.realized[sd],
                                    rows, n_folds)
            out[sd][name] = {"r2_log": r2_, "spearman": rho}
    return out


def evaluate_point(point: GridPoint, data: WindowData, frame: ScoreFrame,
                   n_folds: int = 4) -> PointScore:
    """Blocked forward-chaining CV of one grid point on ``frame.scored`` bars."""
    inputs = frame.inputs(book_series(point.model(), data, frame))
    rows = np.flatnonzero(frame.scored)
    best: PointScore | None = None
    for off in OFFSETS:
        res = {sd: _cv_side(inputs[sd], frame.realized[sd], rows, n_folds, off)
               for sd in SIDES}
        r2s = {sd: res[sd][0] for sd in SIDES}
        sc = PointScore(point=point, offset=off, cv_r2_log=float(np.mean(list(r2s.values()))),
                        r2_log=r2s, spearman={sd: res[sd][1] for sd in SIDES})
        if best is None or sc.cv_r2_log > best.cv_r2_log:
            best = sc
    if best is None:
        raise ValueError("OFFSETS is empty: no offset to evaluate")
    return best


def evaluate_grid(points, data: WindowData, frame: ScoreFrame, *, map_fn=map,
                  n_folds: int = 4) -> list[PointScore]:
    """Evaluate grid points through ``map_fn(fn, points)`` (order preserved)."""
    fn = partial(evaluate_point, data=data, frame=frame, n_folds=n_folds)
    return list(map_fn(fn, list(points)))


@dataclass(frozen=True, slots=True)
class Calibration:
    """Result of :func:`fit_calibration`: the preset and every grid point's CV score."""

    preset: FittedPreset
    scores: tuple[PointScore, ...]

    def summary(self, top: int = 10) -> dict:
        """JSON-ready: the preset and the ``top`` grid points by the criterion."""
        best = sorted(self.scores, key=lambda s: -s.cv_r2_log)[:top]
        return {"preset": self.preset.to_dict(), "top": [s.to_dict() for s in best],
                "grid_size": len(self.scores)}


def _best(scores: list[PointScore]) -> PointScore:
    vals = np.array([s.cv_r2_log for s in scores], float)
    if not np.isfinite(vals).any():
        raise ConfigError("no grid point gave a finite CV score; widen the calibration span")
    return scores[int(np.nanargmax(vals))]


def _fixed_bin(past: WindowData) -> float:
    """The automatic price-bin width of the fitting bars, pinned in the preset so that a
    later, longer run lays the same bins over the fitted span (the automatic width follows
    the median price of whatever bars are run)."""
    return auto_bin(float(np.median(past.bars.close)))


def _span(frame: ScoreFrame, end_ms: int, warm: float) -> dict:
    ts = frame.ts_ms[frame.scored]
    return {"start": iso_minute(int(ts[0])), "end": iso_minute(int(ts[-1])),
            "calibration_end": iso_minute(end_ms), "warmup_hours": warm, "n_bars": int(ts.size)}


def fit_calibration(data: WindowData, *, calibration_end_ms: int | None = None, grid=None,
                    map_fn=map, warmup_hours: float | None = None, n_folds: int = 4,
                    name: str = DEFAULT_PRESET) -> Calibration:
    """Choose the engine parameters and fit the combination on the calibration span only.

    Parameters
    ----------
    data : WindowData
        The whole window; it is cut at ``calibration_end_ms`` first (:func:`slice_before`).
    calibration_end_ms : int, optional
        First instant not used; default the window's calibration end.
    grid : sequence of GridPoint, optional
        Default :func:`default_grid`.
    map_fn : callable
        ``map_fn(fn, items) -> iterable`` used for the grid (``map``: serial).
    warmup_hours : float, optional
        Leading hours not fitted (book warm-up); default the window's.
    n_folds : int
        Blocks of the forward-chaining CV (>= 2).
    name : str
        Preset name.

    Returns
    -------
    Calibration
    """
    if n_folds < 2:
        raise ConfigError("n_folds must be >= 2")
    end = data.spec.calibration_end_ms if calibration_end_ms is None else int(calibration_end_ms)
    past = slice_before(data, end)
    warm = past.spec.warmup_hours if warmup_hours is None else float(warmup_hours)
    frame = score_frame(past, warm)
    scores = evaluate_grid(default_grid() if grid is None else grid, past, frame,
                           map_fn=map_fn, n_folds=n_folds)
    best = _best(scores)
    model = replace(best.point.model(), frames=LiquidationModel().frames,
                    bin_usd=_fixed_bin(past))
    inputs = frame.inputs(book_series(model, past, frame))
    rows = frame.scored
    sides = {sd: fit_side({f: v[rows] for f, v in inputs[sd].items()},
                          frame.realized[sd][rows], best.offset) for sd in SIDES}
    selection = {"criterion": CRITERION, "n_folds": n_folds, "grid_size": len(scores),
                 "best": best.to_dict(), "baselines_cv": baseline_cv(frame, n_folds),
                 "grid": "liqmap.scorecard.calibrate.default_grid" if grid is None
                 else "custom"}
    span = {**_span(frame, end, warm), "venue": past.bars.venue, "symbol": past.bars.symbol}
    preset = FittedPreset(name=name, model=model, sides=sides, fit_span=span,
                          window=data.spec.name, sources=(past.bars.source,) + past.notes,
                          selection=selection, code_version=__version__)
    return Calibration(preset=preset, scores=tuple(scores))


@dataclass(frozen=True, slots=True)
class WalkForward:
    """Monthly re-fits: ``predicted`` on the full window's scoring bars (NaN where none).

    The calibration span carries the first fit's in-sample values (used only for the
    scale of the log metrics); every later month is predicted by a fit on the bars before it.
    """

    ts_ms: np.ndarray
    predicted: dict
    fits: tuple[dict, ...]


def month_starts(first_ms: int, last_ms: int) -> list[int]:
    """UTC month starts from ``first_ms`` (itself included) up to ``last_ms``."""
    d = datetime.fromtimestamp(first_ms / 1000, tz=UTC)
    out = [int(first_ms)]
    while True:
        y, m = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
        d = datetime(y, m, 1, tzinfo=UTC)
        ms = int(d.timestamp() * 1000)
        if ms > last_ms:
            return out
        out.append(ms)


def _predict_until(preset: FittedPreset, data: WindowData, end_ms: int, warm: float):
    part = slice_before(data, end_ms)
    fr = score_frame(part, warm)
    pred = preset.combine(fr.inputs(book_series(preset.model, part, fr)))
    return fr.ts_ms, pred


def walk_forward(data: WindowData, *, grid=None, map_fn=map, warmup_hours: float | None = None,
                 n_folds: int = 4, progress=None) -> WalkForward:
    """Re-fit at each month start from the calibration end; predict each month out of sample.

    Each fit is :func:`fit_calibration` with ``calibration_end_ms`` = the month start, so it
    sees only earlier bars; the month is then predicted by running the fitted engine over the
    bars up to the month's end.
    """
    warm = data.spec.warmup_hours if warmup_hours is None else float(warmup_hours)
    full = score_frame(data, warm)
    ts = full.ts_ms
    pred = {sd: np.full(ts.size, np.nan) for sd in SIDES}
    starts = month_starts(data.spec.calibration_end_ms, int(ts[-1]))
    fits = []
    for i, s in enumerate(starts):
        e = starts[i + 1] if i + 1 < len(starts) else int(ts[-1]) + 1
        cal = fit_calibration(data, calibration_end_ms=s, grid=grid, map_fn=map_fn,
                              warmup_hours=warm, n_folds=n_folds)
        p_ts, p = _predict_until(cal.preset, data, e, warm)
        lo = -np.inf if i == 0 else s  # the first fit also fills its own calibration span
        pick = np.isin(ts, p_ts[(p_ts >= lo) & (p_ts < e)])
        src = np.searchsorted(p_ts, ts[pick])
        for sd in SIDES:
            pred[sd][pick] = p[sd][src]
        fits.append({"fit_end": iso_minute(s), "predicts": [iso_minute(s), iso_minute(e)],
                     "best": cal.preset.selection["best"],
                     "combine": {sd: cal.preset.sides[sd].to_dict() for sd in SIDES}})
        if progress is not None:
            progress(i + 1, len(starts))
    return WalkForward(ts_ms=ts, predicted=pred, fits=tuple(fits))
