"""Per-row plausibility: lone jumps in price or open interest that no market makes.

A feed glitch or a mistyped value shows up as one row (or two) whose value is many times
the level of its neighbours, while the neighbours before and after agree with each other.
A median-based check over the whole file misses it, yet one such row can move the map
(a 10,000x open-interest row flips the imbalance). So each row is compared with its own
neighbourhood:

1. ``left`` = median of the :data:`SPIKE_NEIGHBOURS` rows before it, ``right`` = median of
   the :data:`SPIKE_NEIGHBOURS` rows after it (fewer at the ends of the file, none past
   them); the row itself is never part of its own reference.
2. The row is a **spike** when it is at least ``factor`` times *every* available side
   level, or at most ``1/factor`` of every available side level. A first or last row has
   one side only and is judged on it.

A level shift that persists (open interest doubling and staying) is not a spike: the rows
after the shift agree with it, so the right side does not. The medians tolerate up to two
glitch rows among the five on each side, so two or three adjacent glitch rows are still
found; a run longer than that reads as a (short) level shift and is left alone.

Thresholds (:data:`PRICE_SPIKE_FACTOR`, :data:`OI_SPIKE_FACTOR`) are set far above what real
data does; the evidence is in their docstrings. ``repair=True`` replaces a spike by linear
interpolation between the nearest non-spike rows of the same column (for a price spike the
bar is then made consistent: ``low <= open, close <= high``) and reports what it did.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from liqmap._exceptions import DataError
from liqmap.io._frame import _where

__all__ = [
    "OI_SPIKE_FACTOR",
    "PRICE_COLUMNS",
    "PRICE_SPIKE_FACTOR",
    "SPIKE_NEIGHBOURS",
    "check_oi_spikes",
    "check_price_spikes",
    "find_spikes",
    "side_levels",
]

#: Rows on each side whose median is a row's reference level. Five tolerates two glitch
#: rows among them (median of 5) and spans only 25 minutes of 5-minute bars.
SPIKE_NEIGHBOURS = 5

#: A price 5x (or 1/5 of) the level of the bars on both sides, and back, is a glitch.
#: Real data stays far inside: the largest such ratio over 51,840 Binance BTCUSDT-perp 5m
#: bars (2025-07-04 to 2025-12-31, including the 2025-10-10 crash) is 1.08 (a low of 0.923x
#: its neighbours); over the Coinglass 1h/30m and Binance-API 5m files of 2025-12 to
#: 2026-06 it is 1.05 and over Hyperliquid 1-min marks 1.005. A decimal slip (10x) or a
#: 100x tick is caught.
PRICE_SPIKE_FACTOR = 5.0

#: Open interest 10x (or 1/10 of) the level of the rows on both sides, and back, is a
#: glitch. Real 5m-1h series move at most 1.08x against their neighbours (Binance metrics
#: 2025-12 to 2026-06: 1.014; Coinglass Binance OI 1h: 1.08; Hyperliquid 1-min: 1.012); the
#: widest dip in 20 venues' daily OI from Coinalyze (2022-2024) is 1/6.9 (Gate.io
#: BTC/USDT on 2023-07-11, itself most likely an aggregator gap). Set above that.
OI_SPIKE_FACTOR = 10.0

PRICE_COLUMNS = ("open", "high", "low", "close")

_FIX = "fix or drop the row, or pass --repair to replace it with its neighbours' value"


def side_levels(x: np.ndarray, k: int = SPIKE_NEIGHBOURS) -> tuple[np.ndarray, np.ndarray]:
    """Median of the ``k`` values before and after each row (NaN where there are none).

    Examples
    --------
    >>> left, right = side_levels(np.array([1.0, 2.0, 3.0, 4.0]), k=2)
    >>> left.tolist()[1:], right.tolist()[:3]
    ([1.0, 1.5, 2.5], [2.5, 3.5, 4.0])
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    left, right = np.full(n, np.nan), np.full(n, np.nan)
    if n > k:
        srt = np.sort(sliding_window_view(x, k), axis=1)  # 3x faster than np.median here
        med = 0.5 * (srt[:, (k - 1) // 2] + srt[:, k // 2])  # med[j] = median(x[j:j+k])
        left[k:] = med[: n - k]
        right[: n - k] = med[1:]
    for i in range(1, min(k, n)):  # the ends, with fewer than k neighbours on one side
        left[i] = np.median(x[:i])
        right[n - 1 - i] = np.median(x[n - i:])
    return left, right


def find_spikes(x: np.ndarray, factor: float, k: int = SPIKE_NEIGHBOURS, *,
                block: int = 8192) -> np.ndarray:
    """Rows at least ``factor`` times above (or below) every neighbouring side level.

    A side with no rows, or whose level is zero, gives no judgement (a zero side does
    rule out a dip: a zero next to zeros is not a dropout); a row needs at least one
    side with a positive level. See the module docstring. Rows are judged ``block`` at a
    time, each block with its ``k`` neighbours on both sides, and a block whose values
    span less than ``factor`` is passed without computing its levels (``_too_narrow``).

    Examples
    --------
    >>> x = np.array([100.0, 101, 99, 100, 1e6, 102, 101, 100, 200, 201, 199])
    >>> np.flatnonzero(find_spikes(x, 10.0)).tolist()
    [4]
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(x.size, dtype=bool)
    if x.size < 3:
        return out
    for start in range(0, x.size, block):  # rows [start, stop) see only [lo, hi)
        stop = min(x.size, start + block)
        lo, hi = max(0, start - k), min(x.size, stop + k)
        if not _too_narrow(x[lo:hi], factor):
            out[start:stop] = _spikes_by_levels(x[lo:hi], factor, k)[start - lo: stop - lo]
    return out


def _too_narrow(x: np.ndarray, factor: float) -> bool:
    """True when no row can be a spike: all values positive and finite, and the largest
    under ``factor`` times the smallest. Every side level is a median of values in
    [min, max], so no row is ``factor`` times above or below one."""
    lo, hi = float(np.min(x)), float(np.max(x))
    return bool(np.isfinite(lo) and np.isfinite(hi) and lo > 0 and hi < factor * lo)


def _spikes_by_levels(x: np.ndarray, factor: float, k: int) -> np.ndarray:
    up, down, judged = np.ones(x.size, bool), np.ones(x.size, bool), np.zeros(x.size, bool)
    for level in side_levels(x, k):
        ok = np.isfinite(level) & (level > 0)
        safe = np.where(ok, level, 1.0)
        up &= ~ok | (x >= factor * safe)
        down &= (~ok & ~(level == 0)) | (ok & (x * factor <= safe))
        judged |= ok
    return judged & (up | down)


def _level(x: np.ndarray, pos: int) -> float:
    """The neighbours' level of row ``pos``: mean of the available side medians."""
    left, right = side_levels(x[max(0, pos - SPIKE_NEIGHBOURS): pos + SPIKE_NEIGHBOURS + 1])
    i = min(pos, SPIKE_NEIGHBOURS)
    sides = [v for v in (left[i], right[i]) if np.isfinite(v)]
    return float(np.mean(sides))


def _num(value: float) -> str:
    return f"{value:.10g}"


def _times(ratio: float) -> str:
    return f"{ratio:,.0f}x" if ratio >= 100 else f"{ratio:.3g}x"


def _describe(value: float, level: float) -> str:
    if level > 0 and value >= level:
        return f"{_times(value / level)} the level of its neighbours ({_num(level)})"
    ratio = level / value if value > 0 else float("inf")
    return f"{_times(ratio)} below the level of its neighbours ({_num(level)})"


def _raise(frame: pd.DataFrame, col: str, mask: np.ndarray, source: str, what: str) -> None:
    x = frame[col].to_numpy(dtype=np.float64)
    pos = int(np.flatnonzero(mask)[0])
    more = int(mask.sum()) - 1
    also = f" ({more} more row(s) like it)" if more else ""
    raise DataError(
        f"{col} {_num(x[pos])} is {_describe(x[pos], _level(x, pos))}, which agree with "
        f"each other: a lone jump {what} no market makes (a feed glitch or a mistyped "
        f"value){also}; {_FIX}",
        **_where(frame, pos, source),
    )


def _interpolate(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``x`` with the masked rows linearly interpolated from the unmasked ones."""
    pos = np.arange(x.size)
    out = x.copy()
    out[mask] = np.interp(pos[mask], pos[~mask], x[~mask])
    return out


def _repair_note(frame: pd.DataFrame, col: str, mask: np.ndarray, old: np.ndarray,
                 new: np.ndarray, source: str) -> str:
    rows = [_where(frame, int(p), source)["row"] for p in np.flatnonzero(mask)]
    first = int(np.flatnonzero(mask)[0])
    return (f"replaced {col} spike(s) in {int(mask.sum())} row(s) {rows[:10]} with their "
            f"neighbours' value (row {rows[0]}: {_num(old[first])} -> {_num(new[first])})")


def check_price_spikes(frame: pd.DataFrame, *, source: str, repair: bool = False,
                       factor: float = PRICE_SPIKE_FACTOR) -> tuple[pd.DataFrame, list[str]]:
    """Refuse (or, with ``repair``, interpolate) lone price jumps in open/high/low/close.

    ``frame`` must be sorted by time with positive prices. A repaired bar is made
    consistent (``high`` = max and ``low`` = min of its four prices).

    Raises
    ------
    DataError
        Naming the file, row, value, the neighbours' level and the fix.
    """
    masks = {c: find_spikes(frame[c].to_numpy(np.float64), factor) for c in PRICE_COLUMNS}
    bad = [c for c in PRICE_COLUMNS if masks[c].any()]
    if not bad:
        return frame, []
    if not repair:
        col = min(bad, key=lambda c: int(np.flatnonzero(masks[c])[0]))
        _raise(frame, col, masks[col], source, "in price")
    frame, notes = frame.copy(), []
    for col in bad:
        old = frame[col].to_numpy(np.float64)
        new = _interpolate(old, masks[col])
        frame[col] = new
        notes.append(_repair_note(frame, col, masks[col], old, new, source))
    ohlc = frame[list(PRICE_COLUMNS)].to_numpy(np.float64)
    frame["high"], frame["low"] = ohlc.max(axis=1), ohlc.min(axis=1)
    return frame, notes


def check_oi_spikes(frame: pd.DataFrame, *, source: str, repair: bool = False,
                    factor: float = OI_SPIKE_FACTOR) -> tuple[pd.DataFrame, list[str]]:
    """Refuse (or, with ``repair``, interpolate) lone jumps in ``open_interest``.

    ``frame`` must be sorted by time.

    Raises
    ------
    DataError
        Naming the file, row, value, the neighbours' level and the fix.
    """
    oi = frame["open_interest"].to_numpy(np.float64)
    mask = find_spikes(oi, factor)
    if not mask.any():
        return frame, []
    if not repair:
        _raise(frame, "open_interest", mask, source, "in open interest")
    frame = frame.copy()
    new = _interpolate(oi, mask)
    frame["open_interest"] = new
    return frame, [_repair_note(frame, "open_interest", mask, oi, new, source)]
