"""The combined predictor: the level book plus a background term, fitted in logs.

The level book sees only the positions it builds from one venue's open-interest increases;
realized liquidations also come from positions it cannot see (other venues, cross margin,
positions older than the window). Per side, the predicted liquidations of a scoring bar are

.. math::

    \\hat y = a + b \\log(1 + B / s_B) + c \\log(1 + E / s_E), \\qquad
    \\text{predicted\\_usd} = k \\max(e^{\\hat y} - 1, 0)

with ``B`` the book's consumed notional in the bar (USD), ``E`` the background regressor
``excursion x open interest`` (USD: ``(open - low)/open`` for longs, ``(high - open)/open``
for shorts, times open interest at the bar's open), ``s_B, s_E`` the medians of the positive
values on the fitting rows times ``offset`` (a hyper-parameter: 1 or 0.1, chosen by the
calibration CV), ``(a, b, c)`` ordinary least squares of ``log(1 + realized_usd)``
on the fitting rows, and ``k`` the smearing factor that makes predicted and realized totals
equal on the fitting rows. Every coefficient comes from the rows passed to :func:`fit_side`
(the calibration span only, see :mod:`liqmap.scorecard.calibrate`).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> book, bg = rng.lognormal(10, 1, 500), rng.lognormal(12, 1, 500)
>>> y_log = 9 + 0.5 * np.log1p(book / np.median(book)) + 0.4 * np.log1p(bg / np.median(bg))
>>> fit = fit_side(book, bg, np.expm1(y_log))
>>> round(fit.b_book, 2), round(fit.c_background, 2)
(0.5, 0.4)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from liqmap._exceptions import DataError

__all__ = ["FORMULA", "SideFit", "fit_side", "log_features"]

FORMULA = ("predicted_usd = k * max(expm1(a + b*log1p(book_usd/s_book) + "
           "c*log1p(excursion_x_oi_usd/s_background)), 0); (a, b, c) least squares of "
           "log1p(realized_usd) on the calibration span, s_* = offset x medians of the "
           "positive calibration values, k = realized/predicted totals on the calibration span")


def _median_pos(x: np.ndarray) -> float:
    pos = x[np.isfinite(x) & (x > 0)]
    return float(np.median(pos)) if pos.size else 1.0


def log_features(book_usd, background_usd, s_book: float, s_background: float) -> np.ndarray:
    """Design matrix ``[1, log1p(B/s_B), log1p(E/s_E)]`` (rows = bars)."""
    b = np.asarray(book_usd, float)
    e = np.asarray(background_usd, float)
    return np.column_stack([np.ones(b.size), np.log1p(np.clip(b, 0, None) / s_book),
                            np.log1p(np.clip(e, 0, None) / s_background)])


@dataclass(frozen=True, slots=True)
class SideFit:
    """Fitted coefficients of one side (see the module formula).

    Attributes
    ----------
    intercept, b_book, c_background : float
        ``a``, ``b``, ``c``.
    s_book_usd, s_background_usd : float
        Log scales (calibration medians).
    smear : float
        ``k``.
    n_bars : int
        Rows fitted.
    """

    intercept: float
    b_book: float
    c_background: float
    s_book_usd: float
    s_background_usd: float
    smear: float
    n_bars: int

    def log_predict(self, book_usd, background_usd) -> np.ndarray:
        """``y_hat`` in ``log1p(USD)`` units."""
        x = log_features(book_usd, background_usd, self.s_book_usd, self.s_background_usd)
        return x @ np.array([self.intercept, self.b_book, self.c_background])

    def predict(self, book_usd, background_usd) -> np.ndarray:
        """Predicted liquidations, USD per bar."""
        y = self.log_predict(book_usd, background_usd)
        return self.smear * np.clip(np.expm1(y), 0.0, None)

    def to_dict(self) -> dict:
        """JSON-ready."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "SideFit":
        """Inverse of :meth:`to_dict`."""
        return cls(**{k: (int(d[k]) if k == "n_bars" else float(d[k]))
                      for k in cls.__slots__})


def fit_side(book_usd, background_usd, realized_usd, offset: float = 1.0) -> SideFit:
    """Least-squares fit of one side on the rows given (all of them).

    ``offset`` multiplies the median log scales (smaller: more weight to small values).

    Raises
    ------
    DataError
        With fewer than 10 rows or non-finite values.
    """
    b, e, y = (np.asarray(a, float) for a in (book_usd, background_usd, realized_usd))
    if not (b.size == e.size == y.size) or b.size < 10:
        raise DataError("fit_side needs at least 10 aligned rows of book, background and "
                        "realized USD")
    if not all(np.all(np.isfinite(a)) for a in (b, e, y)):
        raise DataError("fit_side: book, background and realized must be finite")
    if not offset > 0:
        raise DataError("offset must be > 0")
    s_b, s_e = offset * _median_pos(b), offset * _median_pos(e)
    x = log_features(b, e, s_b, s_e)
    coef, *_ = np.linalg.lstsq(x, np.log1p(np.clip(y, 0, None)), rcond=None)
    raw = np.clip(np.expm1(x @ coef), 0.0, None)
    smear = float(y.sum() / raw.sum()) if raw.sum() > 0 else 1.0
    return SideFit(intercept=float(coef[0]), b_book=float(coef[1]),
                   c_background=float(coef[2]), s_book_usd=s_b, s_background_usd=s_e,
                   smear=smear, n_bars=int(b.size))
