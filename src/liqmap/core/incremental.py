"""One bar of the level book at a time, on carried state (the live engine's kernel).

``liqmap.core.book`` runs the book over a whole bar series in one call. Live, bars arrive
one by one, so the state the batch kernel keeps in local variables is carried here in a
:class:`BookState` and :func:`step_book_nb` advances it by one bar with **exactly** the
steps (and the same floating-point operations, in the same order) as one iteration of
``run_book_nb``: decay, crossing, open-interest fall, cap, open-interest rise. Feeding a
series bar by bar therefore reproduces the batch run.

The price grid is fixed (``p0_usd``, ``bin_usd``, ``n_bins``) while the state lives; when
a bar needs levels outside it, :func:`grow_state` extends it by whole bins on either side
(the grid stays aligned on ``p0 + k * bin``, so no level moves).

Two implementations with identical semantics, as for the batch kernel:
``step_book_nb`` (numba, lazy per-channel scale factors, O(levels touched)) and
``step_book_reference`` (plain NumPy on the dense book). ``tests/live`` checks they agree
with each other and with ``run_book_nb``.

>>> st = new_state(2, 10)
>>> st.book.shape, float(st.scale[0])
((2, 10), 1.0)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from liqmap._exceptions import ConfigError
from liqmap.core import book as bk
from liqmap.core._typing import BoolArray1D, Float64Array1D, Float64Array2D, Int64Array1D
from liqmap.core.engines import check_engine

__all__ = [
    "BookChannels",
    "BookState",
    "dense_book",
    "grow_state",
    "new_state",
    "side_usd",
    "step_book",
    "step_book_reference",
]


def __getattr__(name: str) -> Any:
    """``step_book_nb`` (numba) is imported on first use only."""
    if name == "step_book_nb":
        from liqmap.core._book_nb import step_book_nb

        return step_book_nb
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True, slots=True)
class BookChannels:
    """The fixed per-channel parameters of one book (see ``liqmap.core.book.BookInputs``).

    Attributes
    ----------
    side : (C,) int64
        +1 long, -1 short.
    factor : (C,) float64
        Liquidation price / entry price.
    w_aggr, w_pass : (C,) float64
        Weights of the channel in the aggressive and passive presets.
    rate_per_ms : (C,) float64
        Decay rate (0 = none).
    rank : (C,) int64
        Removal order for ``POLICY_LEVERAGE_FIRST``.
    policy : int
        One of ``liqmap.core.book.POLICY_*``.
    """

    side: np.ndarray
    factor: np.ndarray
    w_aggr: np.ndarray
    w_pass: np.ndarray
    rate_per_ms: np.ndarray
    rank: np.ndarray
    policy: int = bk.POLICY_PROPORTIONAL


@dataclass(frozen=True, slots=True)
class BookState:
    """The carried state of one book; arrays are updated in place by the step.

    Attributes
    ----------
    book : (C, P) float64
        Quantity per channel and bin, base units, *before* the channel's ``scale``.
    scale : (C,) float64
        Lazy per-channel multiplier (held quantity = ``book * scale``).
    tot : (C,) float64
        Row sums of ``book`` (unscaled).
    top, bot : (C,) int64
        Highest / lowest possibly non-empty bin per channel (-1 / P when empty).
    p0_usd, bin_usd : float
        Lower edge of bin 0 and the bin width.
    """

    book: np.ndarray
    scale: np.ndarray
    tot: np.ndarray
    top: np.ndarray
    bot: np.ndarray
    p0_usd: float = 0.0
    bin_usd: float = 1.0

    @property
    def n_bins(self) -> int:
        """Number of price bins."""
        return int(self.book.shape[1])

    @property
    def centers_usd(self) -> np.ndarray:
        """Bin centres, USD (the same expression as the batch kernel)."""
        return self.p0_usd + (np.arange(self.n_bins) + 0.5) * self.bin_usd


def new_state(n_chan: int, n_bins: int, p0_usd: float = 0.0, bin_usd: float = 1.0) -> BookState:
    """An empty book of ``n_chan`` channels on ``n_bins`` bins."""
    if n_chan < 1 or n_bins < 1 or not bin_usd > 0:
        raise ConfigError("a book needs >= 1 channel, >= 1 bin and bin_usd > 0")
    return BookState(book=np.zeros((n_chan, n_bins)), scale=np.ones(n_chan),
                     tot=np.zeros(n_chan), top=np.full(n_chan, -1, np.int64),
                     bot=np.full(n_chan, n_bins, np.int64), p0_usd=float(p0_usd),
                     bin_usd=float(bin_usd))


def grow_state(state: BookState, add_low: int, add_high: int) -> BookState:
    """The same book on a grid extended by ``add_low`` bins below and ``add_high`` above.

    >>> st = grow_state(new_state(1, 3, p0_usd=10.0, bin_usd=1.0), 2, 1)
    >>> st.n_bins, st.p0_usd
    (6, 8.0)
    """
    if add_low < 0 or add_high < 0:
        raise ConfigError("grow_state only extends the grid (add_low, add_high >= 0)")
    n_chan, n_bins = state.book.shape
    book = np.zeros((n_chan, n_bins + add_low + add_high))
    book[:, add_low:add_low + n_bins] = state.book
    empty = state.top < 0
    top = np.where(empty, -1, state.top + add_low).astype(np.int64)
    bot = np.where(empty | (state.bot >= n_bins), book.shape[1], state.bot + add_low)
    return BookState(book=book, scale=state.scale.copy(), tot=state.tot.copy(), top=top,
                     bot=bot.astype(np.int64), p0_usd=state.p0_usd - add_low * state.bin_usd,
                     bin_usd=state.bin_usd)


def dense_book(state: BookState) -> np.ndarray:
    """Held quantity per channel and bin (``book * scale``), base units."""
    dense: np.ndarray = state.book * state.scale[:, None]
    return dense


def side_usd(state: BookState, side: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Long and short notional per bin (quantity x bin centre), USD."""
    usd = dense_book(state) * state.centers_usd[None, :]
    return usd[side > 0].sum(axis=0), usd[side < 0].sum(axis=0)


# ----------------------------------------------------------------------------- reference


def step_book_reference(book: Float64Array2D, scale: Float64Array1D, tot: Float64Array1D,
                        top: Int64Array1D, bot: Int64Array1D, side: Int64Array1D,
                        factor: Float64Array1D, w_aggr: Float64Array1D, w_pass: Float64Array1D,
                        rate: Float64Array1D, rank: Int64Array1D, p0: float, w: float, policy: int,
                        first: bool, dt_ms: float, low: float, high: float, oi_prev: float,
                        oi_now: float, opened: float, share: float, px_row: Float64Array1D,
                        w_row: Float64Array1D) -> tuple[float, float, float, float]:
    """Plain NumPy twin of :func:`step_book_nb` (same state in, same state out).

    The scale factors are folded into the dense book first, every bin is touched, and
    ``tot``/``top``/``bot`` are recomputed from the result.
    """
    dense = book * scale[:, None]
    centers = p0 + (np.arange(book.shape[1]) + 0.5) * w
    is_long = side > 0
    if not first:
        dense *= np.exp(-rate * dt_ms)[:, None]
    hit = np.where(is_long[:, None], centers[None, :] >= low, centers[None, :] <= high)
    taken = np.where(hit, dense, 0.0)
    dense = np.where(hit, 0.0, dense)
    lq, sq = taken[is_long].sum(), taken[~is_long].sum()
    lu, su = (taken[is_long] * centers).sum(), (taken[~is_long] * centers).sum()
    if not first and policy != bk.POLICY_NONE and oi_now < oi_prev:
        dense = bk._shrink_reference(dense, is_long, rank, policy, oi_prev, oi_now, lq + sq)
    for mask in (is_long, ~is_long):
        held = dense[mask].sum()
        if held > oi_now:
            dense[mask] *= max(oi_now, 0.0) / held
    _add_reference(dense, is_long, factor, w_aggr, w_pass, p0, w, opened, share, px_row, w_row)
    _store_dense(dense, book, scale, tot, top, bot)
    return lu, su, lq, sq


def _add_reference(dense: Float64Array2D, is_long: BoolArray1D, factor: Float64Array1D,
                   w_aggr: Float64Array1D, w_pass: Float64Array1D, p0: float, w: float,
                   opened: float, share: float, px_row: Float64Array1D,
                   w_row: Float64Array1D) -> None:
    bins = np.floor((px_row[None, :] * factor[:, None] - p0) / w).astype(np.int64)
    a = np.where(is_long, share, 1.0 - share)
    qty = opened * (a * w_aggr + (1.0 - a) * w_pass)
    for c in range(dense.shape[0]):
        for j in range(px_row.shape[0]):
            b = bins[c, j]
            if qty[c] > 0 and w_row[j] > 0 and 0 <= b < dense.shape[1]:
                dense[c, b] += qty[c] * w_row[j]


def _store_dense(dense: Float64Array2D, book: Float64Array2D, scale: Float64Array1D,
                 tot: Float64Array1D, top: Int64Array1D, bot: Int64Array1D) -> None:
    book[:] = dense
    scale[:] = 1.0
    tot[:] = dense.sum(axis=1)
    n_bins = dense.shape[1]
    for c in range(dense.shape[0]):
        nz = np.flatnonzero(dense[c])
        top[c] = nz[-1] if nz.size else -1
        bot[c] = nz[0] if nz.size else n_bins


def step_book(state: BookState, ch: BookChannels, *, first: bool, dt_ms: float, low_usd: float,
              high_usd: float, oi_prev_coin: float, oi_coin: float, opened_coin: float,
              aggr_long_share: float, entry_px_usd: np.ndarray, entry_w: np.ndarray,
              engine: str = "numba") -> tuple[float, float, float, float]:
    """Advance ``state`` by one bar: ``engine="numba"`` the compiled kernel,
    ``"reference"`` its plain twin (``liqmap.core.engines``).

    Returns ``(long_usd, short_usd, long_coin, short_coin)`` liquidated in the bar.

    Examples
    --------
    >>> ch = BookChannels(side=np.array([1, -1]), factor=np.array([0.9, 1.1]),
    ...                   w_aggr=np.array([1.0, 1.0]), w_pass=np.array([1.0, 1.0]),
    ...                   rate_per_ms=np.zeros(2), rank=np.array([0, 1]))
    >>> st = new_state(2, 400, p0_usd=0.0, bin_usd=1.0)
    >>> _ = step_book(st, ch, first=True, dt_ms=0.0, low_usd=99.0, high_usd=101.0,
    ...               oi_prev_coin=0.0, oi_coin=1.0, opened_coin=1.0, aggr_long_share=0.5,
    ...               entry_px_usd=np.array([100.0]), entry_w=np.array([1.0]))
    >>> round(float(dense_book(st).sum()), 6)
    2.0
    """
    fn: Callable[..., tuple[float, float, float, float]] = step_book_reference
    if check_engine(engine) == "numba":
        from liqmap.core import _book_nb

        fn = _book_nb.step_book_nb
    out = fn(state.book, state.scale, state.tot, state.top, state.bot, ch.side, ch.factor,
             ch.w_aggr, ch.w_pass, ch.rate_per_ms, ch.rank, float(state.p0_usd),
             float(state.bin_usd), int(ch.policy), bool(first), float(dt_ms), float(low_usd),
             float(high_usd), float(oi_prev_coin), float(oi_coin), float(opened_coin),
             float(aggr_long_share), np.ascontiguousarray(entry_px_usd, dtype=np.float64),
             np.ascontiguousarray(entry_w, dtype=np.float64))
    return float(out[0]), float(out[1]), float(out[2]), float(out[3])
