"""The level book: liquidation quantity on a price grid, per channel, run bar by bar.

A *channel* is one (side, leverage) pair: every position in it liquidates at
``entry price x factor`` (the venue formula's ratio for that leverage). Per bar ``t``:

1. **decay**: each channel's book is multiplied by ``exp(-rate_per_ms[c] * dt_ms[t])``
   (optional per-tier half-lives; rate 0 = no decay);
2. **crossing**: long levels whose bin centre is at or above the bar's low, and short levels
   at or below its high, are liquidated: their quantity leaves the book and is reported as
   predicted liquidations of that bar (USD = quantity x bin-centre price);
3. **open-interest fall** (``oi[t] < oi[t-1]``): the book shrinks by a policy
   (``POLICY_*``, named in ``liqmap.core.choices``); whatever the policy, a side that would
   hold more base quantity than the open interest is then scaled down to it (the cap);
4. **open-interest rise**: channel ``c`` receives ``open_coin[t] * (a * w_aggr[c] + (1 - a) *
   w_pass[c])`` where ``a`` is ``aggr_long_share[t]`` for a long channel and ``1 - share``
   for a short one; it is added at the entry prices ``entry_px[t, j]`` with weights
   ``entry_w[t, j]``, each level at bin ``floor((entry*factor - p0) / bin)``;
5. optional **snapshot** of the book into the heatmap frames.

New positions are added after the crossing step, so a position is never liquidated in the
bar it was opened in. Quantities are base units (BTC); the book never holds more base
quantity per side than the open interest (property-tested).

Two implementations with identical semantics: ``run_book_nb`` (numba, lazy per-channel
scale factors, O(levels touched) per bar; in :mod:`liqmap.core._book_nb`, also built ahead
of time by :mod:`liqmap.core.aot`) and ``run_book_reference`` (plain NumPy, whole book
touched every bar). ``tests/core/test_book.py`` and ``tests/core/test_aot.py`` check they
agree. Importing this module does not import numba.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from liqmap.core import aot
from liqmap.core._typing import (
    BoolArray1D,
    Float64Array1D,
    Float64Array2D,
    Int64Array1D,
)
from liqmap.core.choices import (  # the OI policies (POLICY_*): named there, without numpy
    POLICY_LEVERAGE_FIRST,
    POLICY_NET,
    POLICY_NONE,
    POLICY_PROPORTIONAL,
)
from liqmap.core.engines import check_engine

__all__ = [
    "POLICY_LEVERAGE_FIRST",
    "POLICY_NET",
    "POLICY_NONE",
    "POLICY_PROPORTIONAL",
    "BookInputs",
    "BookOutputs",
    "kernel_kind",
    "load_book_kernel",
    "run_book",
    "run_book_reference",
]

_COMPILED = frozenset({"run_book_nb", "_RENORM_BELOW", "_long_threshold", "_short_threshold",
                       "_cross_nb", "_renorm_nb", "_shrink_nb", "_cap_nb", "_add_nb"})


def __getattr__(name: str) -> Any:
    """The numba kernels (``run_book_nb`` and its steps), imported on first use only."""
    if name in _COMPILED:
        from liqmap.core import _book_nb

        return getattr(_book_nb, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

_BookArrays = tuple[Float64Array1D, Float64Array1D, Float64Array1D, Float64Array1D,
                    Float64Array2D, Float64Array2D, Float64Array2D]
"""``(liq_long_usd, liq_short_usd, liq_long_coin, liq_short_coin, frames_long_usd,
frames_short_usd, book_coin)``, the fields of :class:`BookOutputs` in order."""


@dataclass(frozen=True, slots=True)
class BookInputs:
    """Arrays the book kernel runs on (all built by ``liqmap.model``).

    Attributes
    ----------
    low_usd, high_usd : (T,) float64
        Bar low and high.
    dt_ms : (T,) float64
        Time since the previous bar (0 for the first).
    oi_coin : (T,) float64
        Open interest at bar close, base units.
    entry_px_usd, entry_w : (T, J) float64
        Entry prices of new positions and their weights (rows sum to 1).
    open_coin : (T,) float64
        Base quantity opened on each side in the bar (the open-interest rise, else 0).
    aggr_long_share : (T,) float64
        Probability that the long side of the bar's new positions is the aggressive one.
    chan_w_aggr, chan_w_pass : (C,) float64
        Weight of the channel's leverage in the aggressive and passive presets (per side,
        each sums to at most 1; less when a tier can never be liquidated).
    chan_side : (C,) int64
        +1 long, -1 short.
    chan_factor : (C,) float64
        Liquidation price / entry price of the channel's positions.
    chan_rate_per_ms : (C,) float64
        Decay rate (``ln 2 / half_life_ms``; 0 for none).
    chan_rank : (C,) int64
        Removal order for ``POLICY_LEVERAGE_FIRST`` (0 = first removed).
    p0_usd, bin_usd : float
        Lower edge of bin 0 and the bin width; ``n_bins`` bins.
    frame_idx : (F,) int64
        Bars after which the book is snapshotted (ascending).
    policy : int
        One of the ``POLICY_*`` constants.
    """

    low_usd: np.ndarray
    high_usd: np.ndarray
    dt_ms: np.ndarray
    oi_coin: np.ndarray
    entry_px_usd: np.ndarray
    entry_w: np.ndarray
    open_coin: np.ndarray
    aggr_long_share: np.ndarray
    chan_w_aggr: np.ndarray
    chan_w_pass: np.ndarray
    chan_side: np.ndarray
    chan_factor: np.ndarray
    chan_rate_per_ms: np.ndarray
    chan_rank: np.ndarray
    p0_usd: float
    bin_usd: float
    n_bins: int
    frame_idx: np.ndarray
    policy: int = POLICY_PROPORTIONAL


@dataclass(frozen=True, slots=True)
class BookOutputs:
    """What one run of the book produces.

    Attributes
    ----------
    liq_long_usd, liq_short_usd : (T,) float64
        Predicted liquidations per bar (notional at the level price).
    liq_long_coin, liq_short_coin : (T,) float64
        The same in base quantity.
    frames_long_usd, frames_short_usd : (F, P) float64
        Book snapshots (USD per bin) after the bars in ``frame_idx``.
    book_coin : (C, P) float64
        Final book per channel, base quantity per bin.
    """

    liq_long_usd: np.ndarray
    liq_short_usd: np.ndarray
    liq_long_coin: np.ndarray
    liq_short_coin: np.ndarray
    frames_long_usd: np.ndarray
    frames_short_usd: np.ndarray
    book_coin: np.ndarray


def _kernel_args(inp: BookInputs) -> tuple[Any, ...]:
    return (
        inp.low_usd, inp.high_usd, inp.dt_ms, inp.oi_coin, inp.entry_px_usd, inp.entry_w,
        inp.open_coin, inp.aggr_long_share, inp.chan_w_aggr, inp.chan_w_pass, inp.chan_side,
        inp.chan_factor, inp.chan_rate_per_ms, inp.chan_rank,
        float(inp.p0_usd), float(inp.bin_usd), int(inp.n_bins), inp.frame_idx, int(inp.policy),
    )


def run_book(inp: BookInputs, *, engine: str = "numba") -> BookOutputs:
    """Run the level book over all bars: ``engine="numba"`` the compiled kernel (built ahead
    of time when present, :mod:`liqmap.core.aot`; else numba's just-in-time one),
    ``"reference"`` its plain twin (``liqmap.core.engines``)."""
    args = _kernel_args(inp)
    return BookOutputs(*_kernel_for(args, engine)(*args))


def kernel_kind(inp: BookInputs, *, engine: str = "numba") -> str:
    """Which kernel :func:`run_book` runs ``inp`` on: ``"numba-aot"`` (built at install),
    ``"numba-jit"`` (numba's cache or a compile) or ``"reference"`` (the plain twin)."""
    if check_engine(engine) == "reference":
        return "reference"
    return "numba-aot" if aot.book_kernel(_kernel_args(inp)) is not None else "numba-jit"


def load_book_kernel(inp: BookInputs, *, engine: str = "numba") -> None:
    """Make the compiled kernel ready for ``inp``'s argument types, without running it: the
    ahead-of-time module imported, or numba's kernel loaded from its on-disk cache (compiled
    and cached the first time). A no-op for ``engine="reference"`` and once loaded. Called
    before the kernel is timed, so that ``Estimate.engine_seconds`` is the kernel alone and
    the load is reported apart."""
    args = _kernel_args(inp)
    if check_engine(engine) == "numba" and aot.book_kernel(args) is None:
        import numba as nb

        from liqmap.core._book_nb import run_book_nb

        run_book_nb.compile(tuple(nb.typeof(a) for a in args))  # type: ignore[no-untyped-call]


def _kernel_for(args: tuple[Any, ...], engine: str) -> Callable[..., _BookArrays]:
    if check_engine(engine) == "reference":
        return run_book_reference
    fn = aot.book_kernel(args)
    if fn is not None:
        return fn
    from liqmap.core._book_nb import run_book_nb

    return run_book_nb


# ----------------------------------------------------------------------------- reference


def run_book_reference(low: Float64Array1D, high: Float64Array1D, dt_ms: Float64Array1D,
                       oi: Float64Array1D, entry_px: Float64Array2D, entry_w: Float64Array2D,
                       opened: Float64Array1D, share: Float64Array1D, w_aggr: Float64Array1D,
                       w_pass: Float64Array1D, side: Int64Array1D, factor: Float64Array1D,
                       rate: Float64Array1D, rank: Int64Array1D, p0: float, w: float, n_bins: int,
                       frame_idx: Int64Array1D, policy: int) -> _BookArrays:
    """Plain NumPy twin of ``run_book_nb``: the whole book is touched every bar."""
    n_bars, n_chan = low.shape[0], side.shape[0]
    centers = p0 + (np.arange(n_bins) + 0.5) * w
    book = np.zeros((n_chan, n_bins))
    is_long = side > 0
    out = {k: np.zeros(n_bars) for k in ("lu", "su", "lq", "sq")}
    fr_l = np.zeros((len(frame_idx), n_bins))
    fr_s = np.zeros((len(frame_idx), n_bins))
    for t in range(n_bars):
        if t > 0:
            book *= np.exp(-rate * dt_ms[t])[:, None]
        hit = np.where(is_long[:, None], centers[None, :] >= low[t], centers[None, :] <= high[t])
        taken = np.where(hit, book, 0.0)
        book = np.where(hit, 0.0, book)
        out["lq"][t], out["sq"][t] = taken[is_long].sum(), taken[~is_long].sum()
        out["lu"][t] = (taken[is_long] * centers).sum()
        out["su"][t] = (taken[~is_long] * centers).sum()
        if t > 0 and policy != POLICY_NONE and oi[t] < oi[t - 1]:
            book = _shrink_reference(book, is_long, rank, policy, oi[t - 1], oi[t],
                                     out["lq"][t] + out["sq"][t])
        for mask in (is_long, ~is_long):
            held = book[mask].sum()
            if held > oi[t]:
                book[mask] *= max(oi[t], 0.0) / held
        bins = np.floor((entry_px[t][None, :] * factor[:, None] - p0) / w).astype(np.int64)
        a = np.where(is_long, share[t], 1.0 - share[t])
        qty = opened[t] * (a * w_aggr + (1.0 - a) * w_pass)
        for c in range(n_chan):
            for j in range(entry_px.shape[1]):
                b = bins[c, j]
                if qty[c] > 0 and entry_w[t, j] > 0 and 0 <= b < n_bins:
                    book[c, b] += qty[c] * entry_w[t, j]
        for f in np.flatnonzero(frame_idx == t):
            fr_l[f] = (book[is_long] * centers).sum(axis=0)
            fr_s[f] = (book[~is_long] * centers).sum(axis=0)
    return out["lu"], out["su"], out["lq"], out["sq"], fr_l, fr_s, book


def _shrink_reference(book: Float64Array2D, is_long: BoolArray1D, rank: Int64Array1D, policy: int,
                      oi_prev: float, oi_now: float, liq_coin: float) -> Float64Array2D:
    drop = oi_prev - oi_now - (liq_coin if policy == POLICY_NET else 0.0)
    if drop <= 0 or oi_prev <= 0:
        return book
    frac = min(drop / oi_prev, 1.0)
    if policy != POLICY_LEVERAGE_FIRST:
        return book * (1.0 - frac)
    book = book.copy()
    for mask in (is_long, ~is_long):
        want = frac * book[mask].sum()
        for c in np.argsort(rank, kind="stable"):
            if not mask[c] or want <= 0:
                continue
            held = book[c].sum()
            take = min(want, held)
            if held > 0:
                book[c] *= (held - take) / held
                want -= take
    return book
