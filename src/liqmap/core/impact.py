"""Price-impact models for the cascade simulator: how forced market orders move the price.

Every model maps the *effective cumulative signed flow* ``q_usd`` (market buys minus market
sells, USD, since the cascade began) to a log-displacement of the price ``x`` (so the mark
is ``p = p_shocked * exp(x)``; ``x > 0`` for net buying). Using the cumulative flow, not the
sum of per-step impacts, keeps the square-root law concave over the whole cascade.

Models (frozen parameter records; the pure function is :func:`impact_frac`):

(a) :class:`SqrtImpact` - the square-root law ``x = Y * sigma_daily * sqrt(|q| / V_daily)``.
(b) :class:`BookImpact` - walking a real L2 order book: the flow consumes the ask (buys) or
    bid (sells) levels in turn; ``x`` is the log distance from mid of the level where the
    flow runs out (linear between levels). Past the deepest visible level the book either
    stops the move there (``beyond_beta = nan``: the move is bounded by the book) or is
    extended by a depth profile of exponent ``beyond_beta``.
(c) :class:`DepthProfileImpact` - a depth profile ``depth(x) = depth_1pct_usd * (x/1%)**beta``
    (cumulative depth within ``x`` of mid) thinned by market-maker withdrawal: the resting
    depth is multiplied by ``1 / (1 + withdrawal * |q| / depth_1pct_usd)`` so the more
    forced flow has hit the book, the thinner it gets.
(d) :class:`Resilience` - recovery of the book between steps: the effective flow decays
    with half-life ``half_life_s`` (``q <- q * 0.5**(dt/half_life_s) + new flow``), so
    impact is transient. Applies on top of (a)-(c); ``None`` = permanent impact.

The compiled simulator receives a model as ``(kind, params, tables)`` from
:func:`encode_impact`; :func:`impact_x_nb` is its scalar numba twin of :func:`impact_frac`.

Examples
--------
>>> m = SqrtImpact(y=1.0, sigma_daily=0.02, volume_daily_usd=1e9)
>>> round(float(impact_frac(m, 1e7)), 6)
0.002
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np

from liqmap._exceptions import ConfigError
from liqmap.core._typing import ArrayLike, Float64Array1D

__all__ = [
    "KIND_BOOK",
    "KIND_DEPTH",
    "KIND_SQRT",
    "BookImpact",
    "DepthProfileImpact",
    "ImpactModel",
    "Resilience",
    "SqrtImpact",
    "decay_per_step",
    "encode_impact",
    "impact_frac",
    "impact_x_nb",
]

KIND_SQRT = 0
KIND_BOOK = 1
KIND_DEPTH = 2


def _positive(name: str, value: float, *, allow_zero: bool = False) -> None:
    ok = math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        need = "finite and >= 0" if allow_zero else "finite and > 0"
        raise ConfigError(f"{name} must be {need}, got {value!r}; pass a valid number")


@dataclass(frozen=True, slots=True)
class SqrtImpact:
    """Square-root impact law ``x = y * sigma_daily * sqrt(|q| / volume_daily_usd)``.

    Attributes
    ----------
    y : float
        Dimensionless prefactor Y (calibrated, see ``liqmap.cascade.impact_fit``); 0 = no impact.
    sigma_daily : float
        Daily volatility of log returns (0.02 = 2 %).
    volume_daily_usd : float
        Daily traded volume in USD of the market the flow hits.
    """

    y: float
    sigma_daily: float
    volume_daily_usd: float

    def __post_init__(self) -> None:
        _positive("y", self.y, allow_zero=True)
        _positive("sigma_daily", self.sigma_daily)
        _positive("volume_daily_usd", self.volume_daily_usd)

    name = property(lambda self: "sqrt")


@dataclass(frozen=True, slots=True)
class DepthProfileImpact:
    """Depth profile ``depth(x) = depth_1pct_usd * (x / 1%)**beta`` with MM withdrawal.

    Attributes
    ----------
    depth_1pct_usd : float
        Resting depth (one side, USD) within 1 % of mid before the cascade.
    beta : float
        Shape exponent (1 = uniform depth per unit of distance, >1 = deeper away from mid).
    withdrawal : float, default 0
        Market-maker withdrawal: depth is scaled by ``1/(1 + withdrawal*|q|/depth_1pct_usd)``.
    """

    depth_1pct_usd: float
    beta: float
    withdrawal: float = 0.0

    def __post_init__(self) -> None:
        _positive("depth_1pct_usd", self.depth_1pct_usd)
        _positive("beta", self.beta)
        _positive("withdrawal", self.withdrawal, allow_zero=True)

    name = property(lambda self: "depth")


@dataclass(frozen=True, slots=True)
class BookImpact:
    """A real L2 order book walked by the forced flow.

    Attributes
    ----------
    ask_x, bid_x : (L,) float64
        Log distance of each ask (bid) level from mid, positive, ascending.
    ask_cum_usd, bid_cum_usd : (L,) float64
        Cumulative USD size up to and including each level, ascending.
    beyond_beta : float, default nan
        Depth-profile exponent used past the deepest level; nan = stop there (the move is
        bounded by the visible book).
    ts_ms : int, default 0
        Time of the snapshot.
    """

    ask_x: np.ndarray
    ask_cum_usd: np.ndarray
    bid_x: np.ndarray
    bid_cum_usd: np.ndarray
    beyond_beta: float = float("nan")
    ts_ms: int = 0

    def __post_init__(self) -> None:
        for side in ("ask", "bid"):
            x, c = getattr(self, f"{side}_x"), getattr(self, f"{side}_cum_usd")
            if x.size == 0 or x.size != c.size:
                raise ConfigError(f"{side} side of the book is empty or misaligned; pass a "
                                  "snapshot with at least one level per side")
            if np.any(x < 0) or np.any(np.diff(x) < 0) or np.any(np.diff(c) < 0) or c[0] <= 0:
                raise ConfigError(f"{side} levels must have non-negative size and move away "
                                  "from mid; check the snapshot (negative depth?)")
        if not math.isnan(self.beyond_beta):
            _positive("beyond_beta", self.beyond_beta)

    name = property(lambda self: "book")

    def scaled(self, factor: float) -> BookImpact:
        """The same book with every size multiplied by ``factor`` (e.g. a volume ratio)."""
        _positive("factor", factor)
        return BookImpact(self.ask_x, self.ask_cum_usd * factor, self.bid_x,
                          self.bid_cum_usd * factor, self.beyond_beta, self.ts_ms)

    @classmethod
    def from_snapshot(cls, bid_px: ArrayLike, bid_sz: ArrayLike, ask_px: ArrayLike,
                      ask_sz: ArrayLike, *, beyond_beta: float = float("nan"),
                      ts_ms: int = 0) -> BookImpact:
        """Build from one L2 snapshot (prices USD, sizes in base units, best level first).

        Raises
        ------
        ConfigError
            If a size is negative or the book is crossed.
        """
        bp, bs, ap, az = (np.asarray(a, dtype=np.float64) for a in (bid_px, bid_sz, ask_px, ask_sz))
        if np.any(bs < 0) or np.any(az < 0) or not (np.isfinite(bs).all() and np.isfinite(az).all()):
            raise ConfigError("order-book sizes must be finite and >= 0 (negative depth given)")
        if bp.size == 0 or ap.size == 0 or bp[0] >= ap[0]:
            raise ConfigError("order book is empty or crossed (best bid >= best ask)")
        mid = 0.5 * (bp[0] + ap[0])
        return cls(ask_x=np.log(ap / mid), ask_cum_usd=np.cumsum(ap * az),
                   bid_x=np.log(mid / bp), bid_cum_usd=np.cumsum(bp * bs),
                   beyond_beta=float(beyond_beta), ts_ms=int(ts_ms))


@dataclass(frozen=True, slots=True)
class Resilience:
    """Book recovery between steps: effective flow decays with ``half_life_s`` seconds."""

    half_life_s: float

    def __post_init__(self) -> None:
        _positive("half_life_s", self.half_life_s)


ImpactModel = SqrtImpact | BookImpact | DepthProfileImpact


def decay_per_step(resilience: Resilience | None, step_s: float) -> float:
    """Multiplier applied to the effective flow each step (1.0 = permanent impact)."""
    if resilience is None:
        return 1.0
    return float(0.5 ** (step_s / resilience.half_life_s))


def _walk_ref(x: np.ndarray, cum: np.ndarray, a: np.ndarray, beta: float) -> np.ndarray:
    out = np.interp(a, np.r_[0.0, cum], np.r_[0.0, x])
    past = a > cum[-1]
    if past.any() and not math.isnan(beta):
        out[past] = x[-1] * (a[past] / cum[-1]) ** (1.0 / beta)
    return out


def impact_frac(model: ImpactModel, q_usd: ArrayLike) -> Float64Array1D:
    """Log-displacement of the price for effective cumulative signed flow ``q_usd``.

    Plain NumPy reference (vectorised); the simulator's kernel uses :func:`impact_x_nb`.

    Parameters
    ----------
    model : SqrtImpact, BookImpact or DepthProfileImpact
    q_usd : float or array
        Buys minus sells, USD.

    Returns
    -------
    ndarray
        ``x`` with the sign of ``q_usd`` (``p = p_shocked * exp(x)``).
    """
    q = np.atleast_1d(np.asarray(q_usd, dtype=np.float64))
    a, s = np.abs(q), np.sign(q)
    mag: Float64Array1D
    if isinstance(model, SqrtImpact):
        mag = model.y * model.sigma_daily * np.sqrt(a / model.volume_daily_usd)
    elif isinstance(model, DepthProfileImpact):
        d = model.depth_1pct_usd
        mag = 0.01 * (a * (1.0 + model.withdrawal * a / d) / d) ** (1.0 / model.beta)
    elif isinstance(model, BookImpact):
        mag = np.where(q >= 0, _walk_ref(model.ask_x, model.ask_cum_usd, a, model.beyond_beta),
                       _walk_ref(model.bid_x, model.bid_cum_usd, a, model.beyond_beta))
    else:
        raise ConfigError(f"unknown impact model {type(model).__name__}; use SqrtImpact, "
                          "BookImpact or DepthProfileImpact")
    return s * mag


def encode_impact(model: ImpactModel) -> tuple[int, Float64Array1D, Float64Array1D,
                                                Float64Array1D, Float64Array1D, Float64Array1D]:
    """``(kind, params, ask_x, ask_cum, bid_x, bid_cum)`` arrays for the compiled kernel."""
    empty = np.zeros(1)
    if isinstance(model, SqrtImpact):
        prm = np.array([model.y * model.sigma_daily, model.volume_daily_usd, 0.0])
        return KIND_SQRT, prm, empty, empty, empty, empty
    if isinstance(model, DepthProfileImpact):
        prm = np.array([model.depth_1pct_usd, model.beta, model.withdrawal])
        return KIND_DEPTH, prm, empty, empty, empty, empty
    if isinstance(model, BookImpact):
        prm = np.array([model.beyond_beta, 0.0, 0.0])
        return (KIND_BOOK, prm, model.ask_x.astype(np.float64), model.ask_cum_usd.astype(np.float64),
                model.bid_x.astype(np.float64), model.bid_cum_usd.astype(np.float64))
    raise ConfigError(f"unknown impact model {type(model).__name__}; use SqrtImpact, "
                      "BookImpact or DepthProfileImpact")


@nb.njit(cache=True)
def _walk_nb(x: Float64Array1D, cum: Float64Array1D, a: float,
             beta: float) -> float:  # pragma: no cover - compiled
    n = cum.size
    if a >= cum[n - 1]:
        if np.isnan(beta):
            return x[n - 1]
        return x[n - 1] * (a / cum[n - 1]) ** (1.0 / beta)
    i = np.searchsorted(cum, a)
    c0 = 0.0 if i == 0 else cum[i - 1]
    x0 = 0.0 if i == 0 else x[i - 1]
    return x0 + (x[i] - x0) * (a - c0) / (cum[i] - c0)


@nb.njit(cache=True)
def impact_x_nb(kind: int, prm: Float64Array1D, ask_x: Float64Array1D, ask_cum: Float64Array1D,
                bid_x: Float64Array1D, bid_cum: Float64Array1D,
                q: float) -> float:  # pragma: no cover - compiled
    """Scalar compiled twin of :func:`impact_frac` on encoded parameters."""
    if q == 0.0:
        return 0.0
    s = 1.0 if q > 0.0 else -1.0
    a = abs(q)
    if kind == KIND_SQRT:
        return s * prm[0] * np.sqrt(a / prm[1])
    if kind == KIND_DEPTH:
        return s * 0.01 * (a * (1.0 + prm[2] * a / prm[0]) / prm[0]) ** (1.0 / prm[1])
    if s > 0:
        return _walk_nb(ask_x, ask_cum, a, prm[0])
    return -_walk_nb(bid_x, bid_cum, a, prm[0])
