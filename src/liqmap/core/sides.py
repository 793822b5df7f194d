"""Who opened the new open interest: side models and entry prices within a bar.

Every contract has a long and a short holder, so a rise in open interest opens that quantity
on **both** sides. What is unknown is which side was the aggressive, leveraged one. A side
model returns ``aggr_long_share[t]`` in [0, 1]: the probability that the *long* side of bar
``t``'s new open interest is the aggressive one (the short side gets ``1 - share``). The
aggressive side is spread over the chosen leverage preset, the passive side over the
passive preset (``liqmap.core.leverage``).

Side models (a visible choice, never a hidden constant):

``neutral``
    0.5 every bar.
``candle``
    Price direction, softened: ``0.5 + 0.5 (close - open) / (high - low)``.
``taker``
    Taker flow: ``taker_buy / volume`` when both are given; from a taker delta alone,
    ``0.5 + 0.5 tanh(delta / m)`` with ``m`` the causal EWMA (span 288 bars) of ``|delta|``.
``funding``
    Crowding: ``0.5 + 0.5 tanh((funding - 0.0001) / 0.0002)`` (8 h rate; 0.01 % is the
    venues' neutral interest rate, positive excess means longs pay and are the crowded side).

``strength`` in [0, 1] shrinks any model towards 0.5.
"""

from __future__ import annotations

import numpy as np

from liqmap._exceptions import ConfigError
from liqmap.core._typing import ArrayLike, Float64Array1D, Float64Array2D
from liqmap.core.choices import SIDE_MODELS

__all__ = ["SIDE_MODELS", "aggressive_long_share", "entry_prices"]

_DELTA_SPAN_BARS = 288
_FUNDING_NEUTRAL = 0.0001
_FUNDING_SCALE = 0.0002


def _ewma_abs(x: np.ndarray, span: int) -> np.ndarray:
    alpha = 2.0 / (span + 1.0)
    out = np.empty_like(x)
    acc = np.nan
    for i, v in enumerate(np.abs(x)):
        acc = v if np.isnan(acc) else (1 - alpha) * acc + alpha * v
        out[i] = acc
    return out


def _taker_share(volume: ArrayLike | None, taker_buy_volume: ArrayLike | None,
                 taker_delta: ArrayLike | None) -> Float64Array1D:
    if volume is not None and taker_buy_volume is not None:
        vol = np.asarray(volume, float)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(vol > 0, np.asarray(taker_buy_volume, float) / vol, 0.5)
        return np.clip(share, 0.0, 1.0)
    if taker_delta is not None:
        d = np.asarray(taker_delta, float)
        m = _ewma_abs(d, _DELTA_SPAN_BARS)
        with np.errstate(invalid="ignore", divide="ignore"):
            z = np.where(m > 0, d / m, 0.0)
        return 0.5 + 0.5 * np.tanh(z)
    raise ConfigError(
        "side model 'taker' needs taker flow: give a taker_buy_volume column (with volume) "
        "or a taker_delta column, or choose --side-model candle|funding|neutral"
    )


def aggressive_long_share(model: str, *, open_usd: ArrayLike, high_usd: ArrayLike,
                          low_usd: ArrayLike, close_usd: ArrayLike,
                          volume: ArrayLike | None = None,
                          taker_buy_volume: ArrayLike | None = None,
                          taker_delta: ArrayLike | None = None,
                          funding_rate: ArrayLike | None = None,
                          strength: float = 1.0) -> Float64Array1D:
    """Per-bar probability that the long side of new open interest is the aggressive one.

    >>> o = np.array([100.0, 100.0]); c = np.array([101.0, 99.0])
    >>> aggressive_long_share("candle", open_usd=o, high_usd=o + 1, low_usd=o - 1, close_usd=c)
    array([0.75, 0.25])
    """
    if not 0.0 <= strength <= 1.0:
        raise ConfigError(f"side strength must be within [0, 1], got {strength}")
    n = np.shape(close_usd)[0]
    share: Float64Array1D
    if model == "neutral":
        share = np.full(n, 0.5)
    elif model == "candle":
        rng = np.asarray(high_usd, float) - np.asarray(low_usd, float)
        move = np.asarray(close_usd, float) - np.asarray(open_usd, float)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(rng > 0, 0.5 + 0.5 * move / rng, 0.5)
    elif model == "taker":
        share = _taker_share(volume, taker_buy_volume, taker_delta)
    elif model == "funding":
        if funding_rate is None:
            raise ConfigError("side model 'funding' needs a funding_rate column; "
                              "give one or choose --side-model candle|taker|neutral")
        f = np.nan_to_num(np.asarray(funding_rate, float), nan=_FUNDING_NEUTRAL)
        share = 0.5 + 0.5 * np.tanh((f - _FUNDING_NEUTRAL) / _FUNDING_SCALE)
    else:
        raise ConfigError(f"unknown side model {model!r}: use one of {SIDE_MODELS}")
    share = np.clip(share, 0.0, 1.0)
    return 0.5 + strength * (share - 0.5)


def entry_prices(high_usd: ArrayLike, low_usd: ArrayLike, close_usd: ArrayLike,
                 n_points: int = 4) -> tuple[Float64Array2D, Float64Array2D]:
    """Entry prices of a bar's new positions: spread over the bar, not all at the close.

    ``n_points`` prices at the mid-points of equal slices of [low, high], weighted by a
    triangle peaking at the typical price ``(high + low + close) / 3`` (weights never zero).

    Returns
    -------
    px_usd, weights : (T, n_points) float64
        Prices and weights (rows sum to 1).

    >>> px, w = entry_prices(np.array([104.0]), np.array([100.0]), np.array([103.0]), 2)
    >>> px.tolist(), bool(w[0, 1] > w[0, 0])
    ([[101.0, 103.0]], True)
    """
    if n_points < 1:
        raise ConfigError(f"entry points must be >= 1, got {n_points}")
    hi = np.asarray(high_usd, float)[:, None]
    lo = np.asarray(low_usd, float)[:, None]
    u = (np.arange(n_points) + 0.5) / n_points
    px = lo + (hi - lo) * u[None, :]
    rng = hi - lo
    tp = (hi + lo + np.asarray(close_usd, float)[:, None]) / 3.0
    with np.errstate(invalid="ignore", divide="ignore"):
        u_tp = np.where(rng > 0, (tp - lo) / rng, 0.5)
    w = 1.0 - np.abs(u[None, :] - u_tp) + 1e-3
    w /= w.sum(axis=1, keepdims=True)
    return px, w
