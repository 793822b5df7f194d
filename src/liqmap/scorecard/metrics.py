"""Scores of a per-bar predictor against realized liquidations, and the naive baselines.

Every predictor (the model, or a baseline) is scored the same way, per side and per span:

- ``spearman``: rank correlation of predictor and realized USD;
- ``pearson_log``: Pearson correlation of ``log1p(x / s)`` and ``log1p(realized_usd)``;
- ``r2_log``: R-squared of the line ``log1p(realized) = a + b log1p(x / s)`` fitted by least
  squares on the **calibration** span; on the scoring span it is out of sample
  (``1 - SSE / SST`` around the scoring span's own mean: can be negative);
- ``top_decile_share``: share of the span's realized USD that falls in the predictor's top
  10 % of bars (ties at the cut share the remaining places, i.e. the expected value under
  random tie-breaking);
- ``total_ratio``: predicted / realized totals (only for predictors in USD, else NaN);
- ``r2_log_direct``: R-squared of ``log1p(realized)`` against ``log1p(x)`` itself, no line
  fitted at all (only for predictors in USD, else NaN): the out-of-sample figure of a
  predictor that claims to be in USD, such as the fitted combined model.

A window without a calibration span (window C is entirely out of sample) has no data to fit
the scale and line on: they are then fitted on the scored span itself, so ``r2_log`` is an
in-sample figure (equal to ``pearson_log`` squared) for every predictor alike.

``s`` is the median of the predictor's positive values on the calibration span: a unit-free
scale fitted on calibration data only, so baselines in fractions and the model in USD are
transformed alike.

Baselines (:func:`baselines`): adverse excursion (``(open - low) / open`` for longs,
``(high - open) / open`` for shorts), excursion x open interest (USD, open interest at the
bar's open), range x open interest (USD, both sides).

>>> import numpy as np
>>> y = np.array([0., 1., 5., 2., 9., 3.])
>>> round(top_decile_share(y, y), 3)
0.45
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from liqmap._exceptions import DataError

__all__ = ["METRIC_NAMES", "Comparison", "SideMetrics", "baselines", "compare", "fit_log_line",
           "log_scale", "r2", "score_predictor", "side_metrics", "top_decile_share"]

METRIC_NAMES = ("spearman", "pearson_log", "r2_log", "top_decile_share")


@dataclass(frozen=True, slots=True)
class SideMetrics:
    """Scores of one predictor, one side, one span (NaN where undefined).

    Attributes
    ----------
    spearman, pearson_log, r2_log, top_decile_share, total_ratio, r2_log_direct : float
        See the module docstring.
    n_bars : int
        Bars scored.
    """

    spearman: float
    pearson_log: float
    r2_log: float
    top_decile_share: float
    total_ratio: float
    n_bars: int
    r2_log_direct: float = float("nan")

    def to_dict(self) -> dict:
        """JSON-ready (NaN becomes None)."""
        return {k: (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in asdict(self).items()}


@dataclass(frozen=True, slots=True)
class Comparison:
    """Model versus one baseline on one side and span: which metrics the model wins.

    ``beats`` is True only when the model is strictly better on every metric of
    ``METRIC_NAMES`` (undefined metrics count as losses).
    """

    wins: tuple[str, ...]
    losses: tuple[str, ...]
    beats: bool

    def statement(self, side: str, baseline: str, span: str = "out of sample") -> str:
        """One plain sentence."""
        verdict = "beats" if self.beats else "does not beat"
        won = ", ".join(self.wins) if self.wins else "none"
        return (f"{side}: the model {verdict} {baseline} {span} (better on "
                f"{len(self.wins)}/{len(METRIC_NAMES)} metrics: {won})")


def _corr(fn, x: np.ndarray, y: np.ndarray) -> float:
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(fn(x, y)[0])


def log_scale(x_calib) -> float:
    """Median of the positive calibration values (1.0 when there are none)."""
    x = np.asarray(x_calib, float)
    pos = x[np.isfinite(x) & (x > 0)]
    return float(np.median(pos)) if pos.size else 1.0


def fit_log_line(x_log, y_log) -> tuple[float, float]:
    """Least-squares ``(intercept, slope)`` of ``y_log`` on ``x_log`` (slope 0 if x constant)."""
    x, y = np.asarray(x_log, float), np.asarray(y_log, float)
    if y.size == 0:
        return 0.0, 0.0
    if x.size < 2 or np.ptp(x) == 0:
        return float(y.mean()), 0.0
    xm, ym = x.mean(), y.mean()
    slope = float(((x - xm) * (y - ym)).sum() / ((x - xm) ** 2).sum())
    return float(ym - slope * xm), slope


def r2(y, y_hat) -> float:
    """``1 - SSE / SST`` with SST around ``y``'s own mean (NaN when ``y`` is constant)."""
    y, y_hat = np.asarray(y, float), np.asarray(y_hat, float)
    sst = float(((y - y.mean()) ** 2).sum()) if y.size else 0.0
    if sst == 0:
        return float("nan")
    return 1.0 - float(((y - y_hat) ** 2).sum()) / sst


def top_decile_share(pred, realized_usd, frac: float = 0.1) -> float:
    """Share of realized USD in the ``ceil(frac * n)`` bars with the largest predictor.

    Bars tied at the cut-off share the remaining places in proportion (expected value under
    random tie-breaking). NaN when nothing was realized.
    """
    x, y = np.asarray(pred, float), np.asarray(realized_usd, float)
    total = float(y.sum())
    if x.size == 0 or total <= 0:
        return float("nan")
    k = int(math.ceil(frac * x.size))
    cut = np.sort(x)[::-1][k - 1]
    above = x > cut
    tied = x == cut
    slots = k - int(above.sum())
    got = float(y[above].sum()) + slots / int(tied.sum()) * float(y[tied].sum())
    return got / total


def side_metrics(pred, realized_usd, *, scale: float, line: tuple[float, float],
                 usd: bool) -> SideMetrics:
    """Scores on one span, given the calibration ``scale`` and fitted ``line``."""
    x, y = np.asarray(pred, float), np.asarray(realized_usd, float)
    if x.shape != y.shape or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise DataError("predictor and realized must be finite arrays of the same length")
    xl, yl = np.log1p(x / scale), np.log1p(y)
    tot = float(y.sum())
    ratio = float(x.sum()) / tot if usd and tot > 0 else float("nan")
    return SideMetrics(
        spearman=_corr(stats.spearmanr, x, y), pearson_log=_corr(stats.pearsonr, xl, yl),
        r2_log=r2(yl, line[0] + line[1] * xl) if y.size else float("nan"),
        top_decile_share=top_decile_share(x, y), total_ratio=ratio, n_bars=int(y.size),
        r2_log_direct=r2(yl, np.log1p(x)) if usd and y.size else float("nan"))


def score_predictor(pred, realized_usd, calib_mask, score_mask, *,
                    usd: bool = False) -> dict[str, SideMetrics]:
    """Score one predictor on the calibration and scoring spans.

    The scale and the log line are fitted on ``calib_mask`` bars only (on ``score_mask``
    bars, in sample, when fewer than 3 calibration bars exist).

    Returns
    -------
    dict
        ``{"calibration": SideMetrics, "scoring": SideMetrics}``.
    """
    x, y = np.asarray(pred, float), np.asarray(realized_usd, float)
    cm, sm = np.asarray(calib_mask, bool), np.asarray(score_mask, bool)
    if np.any(cm & sm):
        raise DataError("calibration and scoring spans overlap")
    fit_on = cm if cm.sum() >= 3 else sm
    scale = log_scale(x[fit_on])
    line = fit_log_line(np.log1p(x[fit_on] / scale), np.log1p(y[fit_on]))
    return {"calibration": side_metrics(x[cm], y[cm], scale=scale, line=line, usd=usd),
            "scoring": side_metrics(x[sm], y[sm], scale=scale, line=line, usd=usd)}


def compare(model: SideMetrics, baseline: SideMetrics) -> Comparison:
    """Which metrics of ``METRIC_NAMES`` the model wins (strictly) against a baseline."""
    wins: list[str] = []
    losses: list[str] = []
    for name in METRIC_NAMES:
        a, b = getattr(model, name), getattr(baseline, name)
        ok = not math.isnan(a) and (math.isnan(b) or a > b)
        (wins if ok else losses).append(name)
    return Comparison(wins=tuple(wins), losses=tuple(losses), beats=not losses)


def baselines(open_usd, high_usd, low_usd, oi_open_coin) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Naive per-bar predictors ``{name: (long_score, short_score)}``.

    Parameters
    ----------
    open_usd, high_usd, low_usd : (T,) float64
        Bar prices.
    oi_open_coin : (T,) float64
        Open interest at the bar's open (base units).

    Returns
    -------
    dict
        ``excursion`` (fraction), ``excursion_x_oi_usd`` and ``range_x_oi_usd`` (USD).
    """
    o, h, lo = (np.asarray(a, float) for a in (open_usd, high_usd, low_usd))
    oi_usd = np.asarray(oi_open_coin, float) * o
    exc_l, exc_s = (o - lo) / o, (h - o) / o
    rng = (h - lo) / o
    return {"excursion": (exc_l, exc_s),
            "excursion_x_oi_usd": (exc_l * oi_usd, exc_s * oi_usd),
            "range_x_oi_usd": (rng * oi_usd, rng * oi_usd)}
