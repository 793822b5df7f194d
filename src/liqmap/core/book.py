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
scale factors, O(levels touched) per bar) and ``run_book_reference`` (plain NumPy, whole
book touched every bar). ``tests/core/test_book.py`` checks they agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np

from liqmap.core._typing import (
    BoolArray1D,
    Float64Array1D,
    Float64Array2D,
    FloatArray1D,
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
    "load_book_kernel",
    "run_book",
    "run_book_nb",
    "run_book_reference",
]

_RENORM_BELOW = 1e-200

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
    """Run the level book over all bars: ``engine="numba"`` the compiled kernel,
    ``"reference"`` its plain twin (``liqmap.core.engines``)."""
    fn: Callable[..., _BookArrays]
    fn = run_book_reference if check_engine(engine) == "reference" else run_book_nb
    return BookOutputs(*fn(*_kernel_args(inp)))


def load_book_kernel(inp: BookInputs, *, engine: str = "numba") -> None:
    """Make the compiled kernel ready for ``inp``'s argument types, without running it:
    loaded from numba's on-disk cache, or compiled (and cached) the first time. A no-op for
    ``engine="reference"`` and once loaded. Called before the kernel is timed, so that
    ``Estimate.engine_seconds`` is the kernel alone and the load is reported apart."""
    if check_engine(engine) == "numba":
        run_book_nb.compile(tuple(nb.typeof(a) for a in _kernel_args(inp)))  # type: ignore[no-untyped-call]


# ----------------------------------------------------------------------------- compiled


@nb.njit(cache=True)
def _long_threshold(low: float, p0: float, w: float) -> int:
    # first bin whose centre p0 + (b + 0.5) w is >= low
    return int(np.ceil((low - p0) / w - 0.5))


@nb.njit(cache=True)
def _short_threshold(high: float, p0: float, w: float) -> int:
    # last bin whose centre is <= high
    return int(np.floor((high - p0) / w - 0.5))


@nb.njit(cache=True)
def _cross_nb(book: Float64Array2D, scale: Float64Array1D, tot: Float64Array1D, top: Int64Array1D,
              bot: Int64Array1D, side: Int64Array1D, lb: int, hb: int,
              centers: FloatArray1D) -> tuple[float, float, float, float]:
    """Liquidate crossed levels of every channel; returns (long_coin, long_usd, short...)."""
    n_chan, n_bins = book.shape
    lq = 0.0
    lu = 0.0
    sq = 0.0
    su = 0.0
    for c in range(n_chan):
        if side[c] > 0:
            start = max(lb, 0)
            if top[c] >= start:
                q = 0.0
                u = 0.0
                for b in range(start, top[c] + 1):
                    v = book[c, b]
                    if v != 0.0:
                        q += v
                        u += v * centers[b]
                        book[c, b] = 0.0
                tot[c] -= q
                lq += q * scale[c]
                lu += u * scale[c]
                top[c] = start - 1
        else:
            stop = min(hb, n_bins - 1)
            if bot[c] <= stop:
                q = 0.0
                u = 0.0
                for b in range(bot[c], stop + 1):
                    v = book[c, b]
                    if v != 0.0:
                        q += v
                        u += v * centers[b]
                        book[c, b] = 0.0
                tot[c] -= q
                sq += q * scale[c]
                su += u * scale[c]
                bot[c] = stop + 1
    return lq, lu, sq, su


@nb.njit(cache=True)
def _renorm_nb(book: Float64Array2D, scale: Float64Array1D, tot: Float64Array1D, c: int) -> None:
    s = scale[c]
    for b in range(book.shape[1]):
        book[c, b] *= s
    tot[c] *= s
    scale[c] = 1.0


@nb.njit(cache=True)
def _shrink_leverage_first_nb(book: Float64Array2D, scale: Float64Array1D, tot: Float64Array1D,
                              side: Int64Array1D, rank: Int64Array1D, removal_long: float,
                              removal_short: float) -> None:
    n_chan = book.shape[0]
    order = np.argsort(rank)
    for i in range(n_chan):
        c = order[i]
        held = tot[c] * scale[c]
        if held <= 0.0:
            continue
        want = removal_long if side[c] > 0 else removal_short
        if want <= 0.0:
            continue
        take = min(want, held)
        scale[c] *= (held - take) / held
        if side[c] > 0:
            removal_long -= take
        else:
            removal_short -= take
        if scale[c] < _RENORM_BELOW:
            _renorm_nb(book, scale, tot, c)


@nb.njit(cache=True)
def _shrink_nb(book: Float64Array2D, scale: Float64Array1D, tot: Float64Array1D, side: Int64Array1D,
               rank: Int64Array1D, policy: int, oi_prev: float, oi_now: float,
               liq_coin: float) -> None:
    drop = oi_prev - oi_now
    if policy == POLICY_NET:
        drop = drop - liq_coin
    if drop <= 0.0 or oi_prev <= 0.0:
        return
    frac = min(drop / oi_prev, 1.0)
    n_chan = book.shape[0]
    if policy == POLICY_LEVERAGE_FIRST:
        held_l = 0.0
        held_s = 0.0
        for c in range(n_chan):
            if side[c] > 0:
                held_l += tot[c] * scale[c]
            else:
                held_s += tot[c] * scale[c]
        _shrink_leverage_first_nb(book, scale, tot, side, rank, frac * held_l, frac * held_s)
        return
    for c in range(n_chan):
        scale[c] *= 1.0 - frac
        if scale[c] < _RENORM_BELOW:
            _renorm_nb(book, scale, tot, c)


@nb.njit(cache=True)
def _cap_nb(book: Float64Array2D, scale: Float64Array1D, tot: Float64Array1D, side: Int64Array1D,
            oi_now: float) -> None:
    """Scale a side down to the open interest if it holds more."""
    held_l = 0.0
    held_s = 0.0
    for c in range(book.shape[0]):
        if side[c] > 0:
            held_l += tot[c] * scale[c]
        else:
            held_s += tot[c] * scale[c]
    for c in range(book.shape[0]):
        held = held_l if side[c] > 0 else held_s
        if held > oi_now:
            scale[c] *= max(oi_now, 0.0) / held
            if scale[c] < _RENORM_BELOW:
                _renorm_nb(book, scale, tot, c)


@nb.njit(cache=True)
def _add_nb(book: Float64Array2D, scale: Float64Array1D, tot: Float64Array1D, top: Int64Array1D,
            bot: Int64Array1D, side: Int64Array1D, factor: Float64Array1D, opened: float,
            share: float, w_aggr: Float64Array1D, w_pass: Float64Array1D, px_row: Float64Array1D,
            w_row: Float64Array1D, p0: float, w: float) -> None:
    n_chan, n_bins = book.shape
    for c in range(n_chan):
        a = share if side[c] > 0 else 1.0 - share
        q = opened * (a * w_aggr[c] + (1.0 - a) * w_pass[c])
        if q <= 0.0:
            continue
        if scale[c] == 0.0:
            scale[c] = 1.0
            for b in range(n_bins):
                book[c, b] = 0.0
            tot[c] = 0.0
        inv = 1.0 / scale[c]
        for j in range(px_row.shape[0]):
            wj = w_row[j]
            if wj <= 0.0:
                continue
            b = int(np.floor((px_row[j] * factor[c] - p0) / w))
            if b < 0 or b >= n_bins:
                continue
            v = q * wj * inv
            book[c, b] += v
            tot[c] += v
            if b > top[c]:
                top[c] = b
            if b < bot[c]:
                bot[c] = b


@nb.njit(cache=True)
def _snapshot_nb(book: Float64Array2D, scale: Float64Array1D, side: Int64Array1D,
                 centers: FloatArray1D, out_long: Float64Array2D, out_short: Float64Array2D,
                 f: int) -> None:
    n_chan, n_bins = book.shape
    for c in range(n_chan):
        s = scale[c]
        if side[c] > 0:
            for b in range(n_bins):
                out_long[f, b] += book[c, b] * s * centers[b]
        else:
            for b in range(n_bins):
                out_short[f, b] += book[c, b] * s * centers[b]


@nb.njit(cache=True)
def run_book_nb(low: Float64Array1D, high: Float64Array1D, dt_ms: Float64Array1D,
                oi: Float64Array1D, entry_px: Float64Array2D, entry_w: Float64Array2D,
                opened: Float64Array1D, share: Float64Array1D, w_aggr: Float64Array1D,
                w_pass: Float64Array1D, side: Int64Array1D, factor: Float64Array1D,
                rate: Float64Array1D, rank: Int64Array1D, p0: float, w: float, n_bins: int,
                frame_idx: Int64Array1D, policy: int) -> _BookArrays:
    """Compiled level book; see the module docstring for the per-bar steps."""
    n_bars = low.shape[0]
    n_chan = side.shape[0]
    centers = p0 + (np.arange(n_bins) + 0.5) * w
    book = np.zeros((n_chan, n_bins))
    scale = np.ones(n_chan)
    tot = np.zeros(n_chan)
    top = np.full(n_chan, -1, dtype=np.int64)
    bot = np.full(n_chan, n_bins, dtype=np.int64)
    liq_lu = np.zeros(n_bars)
    liq_su = np.zeros(n_bars)
    liq_lq = np.zeros(n_bars)
    liq_sq = np.zeros(n_bars)
    n_frames = frame_idx.shape[0]
    fr_l = np.zeros((n_frames, n_bins))
    fr_s = np.zeros((n_frames, n_bins))
    f = 0
    for t in range(n_bars):
        if t > 0 and dt_ms[t] > 0.0:
            for c in range(n_chan):
                if rate[c] > 0.0:
                    scale[c] *= np.exp(-rate[c] * dt_ms[t])
                    if scale[c] < _RENORM_BELOW:
                        _renorm_nb(book, scale, tot, c)
        lb = _long_threshold(low[t], p0, w)
        hb = _short_threshold(high[t], p0, w)
        lq, lu, sq, su = _cross_nb(book, scale, tot, top, bot, side, lb, hb, centers)
        liq_lq[t] = lq
        liq_lu[t] = lu
        liq_sq[t] = sq
        liq_su[t] = su
        if t > 0 and policy != POLICY_NONE and oi[t] < oi[t - 1]:
            _shrink_nb(book, scale, tot, side, rank, policy, oi[t - 1], oi[t], lq + sq)
        _cap_nb(book, scale, tot, side, oi[t])
        if opened[t] > 0.0:
            _add_nb(book, scale, tot, top, bot, side, factor, opened[t], share[t], w_aggr,
                    w_pass, entry_px[t], entry_w[t], p0, w)
        while f < n_frames and frame_idx[f] == t:
            _snapshot_nb(book, scale, side, centers, fr_l, fr_s, f)
            f += 1
    for c in range(n_chan):
        _renorm_nb(book, scale, tot, c)
    return liq_lu, liq_su, liq_lq, liq_sq, fr_l, fr_s, book


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
