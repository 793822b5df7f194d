"""The combined predictor: the level book plus the naive baselines, fitted in logs.

The level book sees only the positions it builds from one venue's open-interest increases;
realized liquidations also come from positions it cannot see (other venues, cross margin,
positions older than the window), which the bar's own move and open interest stand for.
Per side, with the regressors ``x_j`` of :data:`FEATURES` (per scoring bar)

- ``book_usd``: the book's consumed notional in the bar (USD);
- ``excursion``: adverse excursion, ``(open - low)/open`` for longs, ``(high - open)/open``
  for shorts (the ``excursion`` baseline);
- ``range_x_oi_usd``: ``(high - low)/open`` times open interest at the bar's open (USD, the
  ``range_x_oi_usd`` baseline; it carries the other side's move and the open interest),

the log estimate is ordinary least squares of ``log1p(realized_usd)`` on the fitting rows

.. math::

    \\hat y = a + \\sum_j c_j \\log(1 + x_j / s_j)

with ``s_j`` the median of the positive values of ``x_j`` on the fitting rows times
``offset`` (a hyper-parameter, 1 or 0.1, chosen by the calibration CV). Two baselines of
:func:`liqmap.scorecard.metrics.baselines` are regressors, so the fit nests them (exactly
with ``offset`` 1, where ``log1p(x_j / s_j)`` is the metric's own transform); the third,
``excursion_x_oi_usd``, differs from ``excursion`` only by the slowly moving open interest.
A separate ``log1p(open interest)`` regressor and ``excursion_x_oi_usd`` itself were tried
and left out: they lowered the out-of-fold scores of the calibration CV (they fit the open
interest's level over the fitting span, and the two excursion terms are near-collinear).

The USD output is chosen so that the scorecard's transform ``log1p(pred / median(pred))``
(:mod:`liqmap.scorecard.metrics`) sees ``y_hat`` itself, not a compressed copy of it:

.. math::

    \\text{predicted\\_usd} = k \\max(2^{1 + (\\hat y - m) / d} - 1, 0)

with ``m`` the median and ``m - d`` the minimum of ``y_hat`` on the fitting rows, and ``k``
the factor that makes predicted and realized totals equal there. The median prediction is
then ``k`` and ``log1p(pred / k) = log 2 (1 + (y_hat - m) / d)``: exactly linear in
``y_hat`` (bars below the fitting rows' minimum predict 0). Per-bar USD values are thus a
totals-matched score, compressed in spread; ``expm1(log_predict(...))`` is the plain USD
estimate. Every coefficient comes from the rows passed to :func:`fit_side` (the calibration
span only, see :mod:`liqmap.scorecard.calibrate`).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = {f: rng.lognormal(10, 1, 500) for f in FEATURES}
>>> y_log = 9 + sum(c * np.log1p(x[f] / np.median(x[f])) for c, f in zip((.5, .4), FEATURES))
>>> fit = fit_side(x, np.expm1(y_log))
>>> round(fit.coef[0], 2), round(fit.coef[1], 2)
(0.5, 0.4)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from liqmap._exceptions import DataError
from liqmap.scorecard.metrics import baselines, log_scale

__all__ = ["FEATURES", "FORMULA", "SideFit", "design_inputs", "fit_side", "log_features",
           "without_book"]

FEATURES = ("book_usd", "excursion", "range_x_oi_usd")
FORMULA = ("predicted_usd = k * max(2**(1 + (y_hat - m)/d) - 1, 0), y_hat = a + "
           "sum_j c_j*log1p(x_j/s_j), x = (book_usd, excursion, range_x_oi_usd); (a, c) "
           "least squares of log1p(realized_usd) on the calibration span, s_j = offset x "
           "medians of the positive calibration values, m = median and m - d = minimum of "
           "y_hat there (so log1p(pred/median pred) is linear in y_hat), k = "
           "realized/predicted totals on the calibration span")


def design_inputs(book: dict, open_usd, high_usd, low_usd, oi_open_coin) -> dict:
    """Per-side regressors ``{side: {feature: (N,) array}}`` of :data:`FEATURES`.

    ``book`` is ``{"long", "short"}`` USD per bar; prices and open interest (base units, at
    the bar's open) give the baselines (:func:`liqmap.scorecard.metrics.baselines`).
    """
    base = baselines(open_usd, high_usd, low_usd, oi_open_coin)
    return {sd: {"book_usd": np.asarray(book[sd], float), "excursion": base["excursion"][i],
                 "range_x_oi_usd": base["range_x_oi_usd"][i]}
            for i, sd in enumerate(("long", "short"))}


def without_book(inputs: dict) -> dict:
    """The regressors of :func:`design_inputs` with ``book_usd`` set to zero: the
    **no-book** combiner (excursion and range x open interest only).

    Fitted by :func:`fit_side`, the zero column gets scale 1 (no positive value) and adds
    nothing to the fit, so the no-book combiner is fitted by the shipped combiner's own
    code, offset and output form.

    >>> x = without_book({"long": {"book_usd": np.ones(2), "excursion": np.ones(2)}})
    >>> x["long"]["book_usd"].tolist(), x["long"]["excursion"].tolist()
    ([0.0, 0.0], [1.0, 1.0])
    """
    return {sd: {**d, "book_usd": np.zeros_like(np.asarray(d["book_usd"], float))}
            for sd, d in inputs.items()}


def _stack(inputs: dict) -> np.ndarray:
    try:
        cols = [np.asarray(inputs[f], float) for f in FEATURES]
    except KeyError as exc:
        raise DataError(f"combined predictor input lacks {exc}; give every one of "
                        f"{FEATURES} (see design_inputs)") from None
    if len({c.shape for c in cols}) != 1 or cols[0].ndim != 1:
        raise DataError("combined predictor inputs must be 1-d arrays of one length")
    return np.column_stack(cols)


def log_features(inputs: dict, scale) -> np.ndarray:
    """Design matrix ``[1, log1p(x_j / s_j) ...]`` (rows = bars, ``j`` over FEATURES)."""
    x = _stack(inputs)
    s = np.asarray(scale, float)
    return np.column_stack([np.ones(x.shape[0]), np.log1p(np.clip(x, 0, None) / s)])


@dataclass(frozen=True, slots=True)
class SideFit:
    """Fitted coefficients of one side (see the module formula).

    Attributes
    ----------
    intercept : float
        ``a``.
    coef, scale : tuple of float
        ``c_j`` and ``s_j`` in :data:`FEATURES` order.
    log_median, log_spread : float
        ``m`` and ``d``.
    smear : float
        ``k``.
    n_bars : int
        Rows fitted.
    """

    intercept: float
    coef: tuple[float, ...]
    scale: tuple[float, ...]
    log_median: float
    log_spread: float
    smear: float
    n_bars: int

    def log_predict(self, inputs: dict) -> np.ndarray:
        """``y_hat`` in ``log1p(USD)`` units."""
        return log_features(inputs, self.scale) @ np.r_[self.intercept, self.coef]

    def predict(self, inputs: dict) -> np.ndarray:
        """Predicted liquidations, USD per bar (totals-matched, see the module formula)."""
        z = 1.0 + (self.log_predict(inputs) - self.log_median) / self.log_spread
        return self.smear * np.clip(np.exp2(z) - 1.0, 0.0, None)

    def to_dict(self) -> dict:
        """JSON-ready, flat: ``intercept``, ``c_<feature>``, ``s_<feature>``, the rest."""
        return {"intercept": self.intercept,
                **{f"c_{f}": c for f, c in zip(FEATURES, self.coef)},
                **{f"s_{f}": s for f, s in zip(FEATURES, self.scale)},
                "log_median": self.log_median, "log_spread": self.log_spread,
                "smear": self.smear, "n_bars": self.n_bars}

    @classmethod
    def from_dict(cls, d: dict) -> SideFit:
        """Inverse of :meth:`to_dict`."""
        return cls(intercept=float(d["intercept"]),
                   coef=tuple(float(d[f"c_{f}"]) for f in FEATURES),
                   scale=tuple(float(d[f"s_{f}"]) for f in FEATURES),
                   log_median=float(d["log_median"]), log_spread=float(d["log_spread"]),
                   smear=float(d["smear"]), n_bars=int(d["n_bars"]))


def fit_side(inputs: dict, realized_usd, offset: float = 1.0) -> SideFit:
    """Least-squares fit of one side on the rows given (all of them).

    ``inputs`` maps each name of :data:`FEATURES` to a per-bar array (see
    :func:`design_inputs`); ``offset`` multiplies the median log scales (smaller: more
    weight to small values).

    Raises
    ------
    DataError
        With fewer than 10 rows, misaligned or non-finite values, or ``offset <= 0``.
    """
    x, y = _stack(inputs), np.asarray(realized_usd, float)
    if x.shape[0] != y.size or y.size < 10:
        raise DataError("fit_side needs at least 10 aligned rows of inputs and realized USD")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise DataError("fit_side: inputs and realized must be finite")
    if not offset > 0:
        raise DataError("offset must be > 0")
    scale = tuple(offset * log_scale(col) for col in x.T)
    design = log_features(inputs, scale)
    coef, *_ = np.linalg.lstsq(design, np.log1p(np.clip(y, 0, None)), rcond=None)
    y_hat = design @ coef
    m = float(np.median(y_hat))
    d = m - float(y_hat.min())
    d = d if d > 0 else 1.0  # constant fit: any spread keeps the output constant
    raw = np.clip(np.exp2(1.0 + (y_hat - m) / d) - 1.0, 0.0, None)
    smear = float(y.sum() / raw.sum()) if raw.sum() > 0 else 1.0
    return SideFit(intercept=float(coef[0]), coef=tuple(float(c) for c in coef[1:]),
                   scale=scale, log_median=m, log_spread=d, smear=smear,
                   n_bars=int(y.size))
