"""What else could predict realized liquidations? Combiner variants, calibration span only.

The shipped combined predictor (:mod:`liqmap.scorecard.combine`) is linear in three log
regressors. This study asks, on the **calibration span alone**, whether richer combiners or
other market data would have scored better, with the same blocked forward-chaining CV that
chose the preset (:func:`liqmap.scorecard.calibrate._fold_scores`: scale and line of each fold
fitted on its training rows, out-of-fold ``r2_log`` and ``spearman``). The window is cut at
its calibration end before anything is computed (:func:`liqmap.scorecard.calibrate.slice_before`),
so no scoring-span value enters.

Variants (each adds to the shipped three regressors, same ``offset``):

- ``shipped``: the preset's own form (reproduces its recorded CV figures);
- extra log regressors ``log1p(x / s)``: ``oi_flush`` (sum of the 5-minute open-interest
  drops inside the bar, USD), ``breakout`` (the excursion beyond the previous 24 hours'
  extreme), ``excursion_over_vol`` (excursion / mean range of the previous 24 hours' bars),
  ``vol24`` (that mean range);
- extra linear regressors: ``return_pct`` (close vs open, signed against the side),
  ``funding_bp`` (funding rate, basis points), ``oi_build24_pct`` (open-interest change over
  the previous 24 hours), ``oi_change_pct`` (within the bar);
- shape terms of the three logs: ``quadratic``, ``interactions`` (pairwise products),
  ``quadratic+interactions``, ``hinges`` (kinks at the training quartiles), ``two-part``
  (a logistic model of "under $10k realized" mixing that class's mean log with a log fit of
  the other bars: ``E[log1p(realized)]`` of a zero-inflated outcome).

It also reports how much of the shipped fit's out-of-fold squared error comes from bars with
under $1k realized (:func:`small_bar_error_share`): ``log1p`` puts a quiet hour with $0 eleven
log units below a typical one, so a few such bars weigh heavily in ``r2_log``.

>>> res = predictor_study(load_window("A"))            # doctest: +SKIP
>>> res.best("short").name, res.best("short").r2_log["short"]  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from liqmap._exceptions import ConfigError, DataError
from liqmap.scorecard.calibrate import SIDES, _fold_scores, book_series, slice_before
from liqmap.scorecard.combine import FEATURES
from liqmap.scorecard.data import WindowData, default_data_dir, one_file, read_oi_5m
from liqmap.scorecard.frame import ScoreFrame, score_frame
from liqmap.scorecard.metrics import fit_log_line, log_scale
from liqmap.scorecard.preset import FittedPreset, load_preset
from liqmap.timeutil import MS_PER_HOUR, MS_PER_MINUTE, iso_minute

__all__ = ["LOG_EXTRAS", "LINEAR_EXTRAS", "SHAPES", "PredictorStudy", "Variant",
           "predictor_study", "small_bar_error_share"]

LOG_EXTRAS = ("oi_flush", "breakout", "excursion_over_vol", "vol24")
LINEAR_EXTRAS = ("return_pct", "funding_bp", "oi_build24_pct", "oi_change_pct")
SHAPES = ("quadratic", "interactions", "quadratic+interactions", "hinges", "two-part")
TWO_PART_CUT_USD = 10_000.0


@dataclass(frozen=True, slots=True)
class Variant:
    """One combiner variant's out-of-fold CV on the calibration span."""

    name: str
    r2_log: dict
    spearman: dict

    @property
    def mean_r2_log(self) -> float:
        """Mean over sides (the calibration criterion)."""
        return float(np.mean([self.r2_log[s] for s in SIDES]))

    def to_dict(self) -> dict:
        """JSON-ready."""
        return {"name": self.name, "r2_log": self.r2_log, "spearman": self.spearman,
                "mean_r2_log": self.mean_r2_log}


@dataclass(frozen=True, slots=True)
class PredictorStudy:
    """All variants, and the share of error from small-realized bars."""

    variants: tuple[Variant, ...]
    small_bar_error_share: dict
    small_bar_count: dict
    calibration_end: str
    n_bars: int
    offset: float

    def best(self, side: str) -> Variant:
        """The variant with the highest out-of-fold ``r2_log`` on ``side``."""
        return max(self.variants, key=lambda v: v.r2_log[side])

    def to_dict(self) -> dict:
        """JSON-ready."""
        return {"variants": [v.to_dict() for v in self.variants],
                "best": {s: self.best(s).name for s in SIDES},
                "small_bar_error_share": self.small_bar_error_share,
                "small_bar_count": self.small_bar_count, "small_bar_below_usd": 1_000.0,
                "calibration_end": self.calibration_end, "n_bars": self.n_bars,
                "offset": self.offset,
                "cv": "blocked forward-chaining, as liqmap calibrate (calibration span only)"}


def _rolling(x: np.ndarray, n: int, how: str) -> np.ndarray:
    s = getattr(pd.Series(x).shift(1).rolling(n, min_periods=1), how)()
    return s.bfill().to_numpy()


def _oi_flush_coin(data: WindowData, root) -> np.ndarray:
    """Sum of 5-minute open-interest drops inside each engine bar (base units)."""
    bars = data.bars
    if bars.bar_ms <= 5 * MS_PER_MINUTE:
        step = np.diff(bars.open_interest, prepend=bars.open_interest[0])
        return np.clip(-step, 0, None)
    t, oi = read_oi_5m(one_file(root, data.spec.oi_glob))
    keep = t < bars.ts_ms[-1] + bars.bar_ms
    t, oi = t[keep], oi[keep]
    t_end, drop = t[1:], np.clip(-np.diff(oi), 0, None)
    idx = np.searchsorted(bars.ts_ms, t_end - 1, side="right") - 1
    ok = (idx >= 0) & (t_end <= bars.ts_ms[np.clip(idx, 0, None)] + bars.bar_ms)
    return np.bincount(idx[ok], weights=drop[ok], minlength=len(bars))


def _last_engine_bar(frame: ScoreFrame) -> np.ndarray:
    """Index of the last engine bar of each scoring bar (0 where a scoring bar has none)."""
    last = np.zeros(frame.ts_ms.size, np.int64)
    ok = frame.bar_bucket >= 0
    np.maximum.at(last, frame.bar_bucket[ok], np.flatnonzero(ok))
    return last


def _extras(data: WindowData, frame: ScoreFrame, root) -> dict:
    """``{name: (kind, {side: (S,)})}`` of the extra regressors per scoring bar.

    Prices come from the scoring bar itself (open, high, low over its engine bars; close,
    open interest and funding of its last engine bar); rolling terms look back 24 hours of
    scoring bars; the open-interest flush sums the engine bars' drops.
    """
    b, last = data.bars, _last_engine_bar(frame)
    if b.funding_rate is None:
        raise DataError("the extra regressors need the window's funding rates", source=b.source)
    funding = b.funding_rate
    o, h, lo = frame.open_usd, frame.high_usd, frame.low_usd
    c, oi, oi_prev = b.close[last], b.open_interest[last], frame.oi_open_coin
    n = max(int(round(24 * MS_PER_HOUR / data.spec.score_ms)), 1)
    vol = _rolling((h - lo) / o, n, "mean")
    oi_n = pd.Series(oi_prev).shift(n - 1).bfill().to_numpy()
    flush = frame.to_score(_oi_flush_coin(data, root)) * o
    per_side = {
        "oi_flush": (flush, flush),
        "breakout": (np.clip(_rolling(lo, n, "min") - lo, 0, None) / o,
                     np.clip(h - _rolling(h, n, "max"), 0, None) / o),
        "excursion_over_vol": ((o - lo) / o / vol, (h - o) / o / vol),
        "vol24": (vol, vol),
        "return_pct": ((o - c) / o * 100, (c - o) / o * 100),
        "funding_bp": (funding[last] * 1e4,) * 2,
        "oi_build24_pct": ((oi_prev / oi_n - 1) * 100,) * 2,
        "oi_change_pct": ((oi - oi_prev) / oi_prev * 100,) * 2,
    }
    return {name: ("log" if name in LOG_EXTRAS else "linear",
                   {"long": np.nan_to_num(lv), "short": np.nan_to_num(sv)})
            for name, (lv, sv) in per_side.items()}


def _shape_cols(z: np.ndarray, shape: str, knots: np.ndarray | None) -> list[np.ndarray]:
    k = z.shape[1]
    cols = []
    if shape in ("quadratic", "quadratic+interactions"):
        cols += [z[:, j] ** 2 for j in range(k)]
    if shape in ("interactions", "quadratic+interactions"):
        cols += [z[:, i] * z[:, j] for i in range(k) for j in range(i + 1, k)]
    if shape == "hinges":
        if knots is None:
            raise ValueError("the hinges shape needs knots")
        cols += [np.clip(z[:, j] - q, 0, None) for j in range(k) for q in knots[j]]
    return cols


def _logistic(design: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Weights of a ridge-damped (1e-3) logistic regression."""
    from scipy.optimize import minimize

    def nll(w):
        z = design @ w
        return float(np.sum(np.logaddexp(0.0, z) - target * z) + 1e-3 * w @ w)

    def grad(w):
        return design.T @ (1.0 / (1.0 + np.exp(-(design @ w))) - target) + 2e-3 * w

    return minimize(nll, np.zeros(design.shape[1]), jac=grad, method="L-BFGS-B").x


def _fit_log(d_train: np.ndarray, d_all: np.ndarray, ly: np.ndarray, shape: str):
    """In-sample and all-row ``log1p`` estimates of the least-squares (or two-part) fit."""
    if shape != "two-part":
        coef, *_ = np.linalg.lstsq(d_train, ly, rcond=None)
        return d_train @ coef, d_all @ coef
    small = ly < np.log1p(TWO_PART_CUT_USD)
    w = _logistic(d_train, small.astype(float))
    coef, *_ = np.linalg.lstsq(d_train[~small], ly[~small], rcond=None)
    mu_small = float(ly[small].mean()) if small.any() else 0.0

    def mix(d):
        p = 1.0 / (1.0 + np.exp(-(d @ w)))
        return p * mu_small + (1.0 - p) * (d @ coef)

    return mix(d_train), mix(d_all)


def _predictor(logs: np.ndarray, lins: np.ndarray, real: np.ndarray, offset: float,
               shape: str):
    """``pred(train, idx)`` for :func:`_fold_scores`: the shipped combiner's fit and USD
    output form (:mod:`liqmap.scorecard.combine`), with extra columns."""
    def design(z, rows, knots):
        return np.column_stack([np.ones(rows.size), z[rows], lins[rows],
                                *_shape_cols(z[rows], shape, knots)])

    def pred(train, idx):
        s = np.array([offset * log_scale(col[train]) for col in logs.T])
        z = np.log1p(np.clip(logs, 0, None) / s)
        knots = np.quantile(z[train], [0.25, 0.5, 0.75], axis=0).T if shape == "hinges" else None
        y_fit, y_hat = _fit_log(design(z, train, knots), design(z, idx, knots),
                                np.log1p(np.clip(real[train], 0, None)), shape)
        m = float(np.median(y_fit))
        d = max(m - float(y_fit.min()), 1e-12)
        return np.clip(np.exp2(1.0 + (y_hat - m) / d) - 1.0, 0.0, None)

    return pred


def small_bar_error_share(pred_fn, real: np.ndarray, rows: np.ndarray, n_folds: int,
                          below_usd: float = 1_000.0) -> float:
    """Share of the out-of-fold squared log error (line of each fold's training rows, as
    ``r2_log``) that falls on bars with realized under ``below_usd``."""
    blocks = np.array_split(rows, n_folds)
    err_small = err_all = 0.0
    for k in range(1, n_folds):
        train, test = np.concatenate(blocks[:k]), blocks[k]
        idx = np.concatenate([train, test])
        p = pred_fn(train, idx)
        p_tr, p_te = p[:train.size], p[train.size:]
        s = log_scale(p_tr)
        a, b = fit_log_line(np.log1p(p_tr / s), np.log1p(real[train]))
        e = (np.log1p(real[test]) - a - b * np.log1p(p_te / s)) ** 2
        err_all += float(e.sum())
        err_small += float(e[real[test] < below_usd].sum())
    return err_small / err_all if err_all > 0 else float("nan")


def _variant_specs() -> list[tuple[str, tuple[str, ...], str]]:
    specs: list[tuple[str, tuple[str, ...], str]] = [("shipped", (), "linear")]
    specs += [(f"+ {n}", (n,), "linear") for n in LOG_EXTRAS + LINEAR_EXTRAS]
    specs += [(f"shape: {s}", (), s) for s in SHAPES]
    return specs


def predictor_study(data: WindowData, preset: FittedPreset | None = None, *,
                    data_dir=None, n_folds: int = 4) -> PredictorStudy:
    """Score every variant by the calibration CV on ``data``'s calibration span.

    Parameters
    ----------
    data : WindowData
        A window with a calibration span (window A); it is cut at its calibration end first.
    preset : FittedPreset, optional
        Engine and ``offset`` to use; default the shipped preset.
    data_dir : path-like, optional
        Shared data folder (for the 5-minute open interest); default the loader's.
    n_folds : int
        CV blocks, as ``liqmap calibrate``.

    Raises
    ------
    ConfigError
        When the window has no calibration span.
    """
    end = data.spec.calibration_end_ms
    if int(data.bars.ts_ms[0]) >= end:
        raise ConfigError(f"window {data.spec.name} has no calibration span; use window A")
    past = slice_before(data, end)
    preset = load_preset() if preset is None else preset
    frame = score_frame(past, past.spec.warmup_hours)
    base = frame.inputs(book_series(preset.model, past, frame))
    extras = _extras(past, frame, default_data_dir() if data_dir is None else data_dir)
    offset = float(preset.selection.get("best", {}).get("offset", 1.0))
    rows = np.flatnonzero(frame.scored)
    variants, small = [], {}
    for name, extra, shape in _variant_specs():
        r2s, rhos = {}, {}
        for sd in SIDES:
            logs = [base[sd][f] for f in FEATURES] + [extras[e][1][sd] for e in extra
                                                      if extras[e][0] == "log"]
            lins = [extras[e][1][sd] for e in extra if extras[e][0] == "linear"]
            lin_m = np.column_stack(lins) if lins else np.zeros((frame.ts_ms.size, 0))
            fn = _predictor(np.column_stack(logs), lin_m, frame.realized[sd], offset, shape)
            r2s[sd], rhos[sd] = _fold_scores(fn, frame.realized[sd], rows, n_folds)
            if name == "shipped":
                small[sd] = small_bar_error_share(fn, frame.realized[sd], rows, n_folds)
        variants.append(Variant(name=name, r2_log=r2s, spearman=rhos))
    count = {sd: int((frame.realized[sd][rows] < 1_000.0).sum()) for sd in SIDES}
    return PredictorStudy(variants=tuple(variants), small_bar_error_share=small,
                          small_bar_count=count,
                          calibration_end=iso_minute(end), n_bars=int(rows.size), offset=offset)
