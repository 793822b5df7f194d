"""The compiled level book: the numba kernels behind ``liqmap.core.book.run_book``.

Kept apart from :mod:`liqmap.core.book` so that importing the book (its inputs, outputs and
plain twin) does not import numba: when the ahead-of-time build of these kernels is present
(:mod:`liqmap.core.aot`), a command runs it and never loads numba at all. The semantics are
the module docstring of :mod:`liqmap.core.book`; ``tests/core/test_book.py`` checks the
kernels against the plain twin and ``tests/core/test_aot.py`` the ahead-of-time build
against them.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from liqmap.core._typing import Float64Array1D, Float64Array2D, FloatArray1D, Int64Array1D
from liqmap.core.choices import POLICY_LEVERAGE_FIRST, POLICY_NET, POLICY_NONE

__all__ = ["RENORM_BELOW", "run_book_nb", "step_book_nb"]

RENORM_BELOW = 1e-200
"""A channel's lazy scale factor below this is folded into its book (no underflow)."""
_RENORM_BELOW = RENORM_BELOW

_BookArrays = tuple[Float64Array1D, Float64Array1D, Float64Array1D, Float64Array1D,
                    Float64Array2D, Float64Array2D, Float64Array2D]



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


@nb.njit(cache=True, nogil=True)  # releases the GIL: a server answers from its cache meanwhile
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


@nb.njit(cache=True)
def step_book_nb(book: Float64Array2D, scale: Float64Array1D, tot: Float64Array1D,
                 top: Int64Array1D, bot: Int64Array1D, side: Int64Array1D, factor: Float64Array1D,
                 w_aggr: Float64Array1D, w_pass: Float64Array1D, rate: Float64Array1D,
                 rank: Int64Array1D, p0: float, w: float, policy: int, first: bool, dt_ms: float,
                 low: float, high: float, oi_prev: float, oi_now: float, opened: float,
                 share: float, px_row: Float64Array1D,
                 w_row: Float64Array1D) -> tuple[float, float, float, float]:
    """Advance the book by one bar in place; returns ``(long_usd, short_usd, long_coin,
    short_coin)`` liquidated in the bar. ``first`` marks the series' first bar (no decay,
    no open-interest fall), as ``t == 0`` in :func:`run_book_nb`."""
    n_chan = side.shape[0]
    n_bins = book.shape[1]
    centers = p0 + (np.arange(n_bins) + 0.5) * w
    if not first and dt_ms > 0.0:
        for c in range(n_chan):
            if rate[c] > 0.0:
                scale[c] *= np.exp(-rate[c] * dt_ms)
                if scale[c] < _RENORM_BELOW:
                    _renorm_nb(book, scale, tot, c)
    lb = _long_threshold(low, p0, w)
    hb = _short_threshold(high, p0, w)
    lq, lu, sq, su = _cross_nb(book, scale, tot, top, bot, side, lb, hb, centers)
    if not first and policy != POLICY_NONE and oi_now < oi_prev:
        _shrink_nb(book, scale, tot, side, rank, policy, oi_prev, oi_now, lq + sq)
    _cap_nb(book, scale, tot, side, oi_now)
    if opened > 0.0:
        _add_nb(book, scale, tot, top, bot, side, factor, opened, share, w_aggr, w_pass,
                   px_row, w_row, p0, w)
    return lu, su, lq, sq
