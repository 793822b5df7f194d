"""Point-in-time alignment of snapshot and settlement series onto bar closes.

Two rules, used by every loader that merges series:

* **Open-interest snapshots** (Binance ``metrics`` / ``openInterestHist``, ccxt
  ``fetch_open_interest_history``): a row stamped ``t`` is the open interest *at* ``t``
  (checked on real data: the row's ``sum_open_interest_value / sum_open_interest`` equals
  the price at ``t``, i.e. the close of the bar that ends at ``t``, to a median 2e-5,
  against 5e-4 for the next bar's close). ``Bars.open_interest`` is the OI at bar
  **close**, so a bar opening at ``ts`` takes the last snapshot stamped at or before
  ``ts + bar_ms + OI_STAMP_JITTER_MS``. The jitter allows for archive stamps such as
  ``00:05:02``; at most that many ms of look-ahead.
* **Funding settlements**: a settlement at ``calc_time`` is known from then on, so a bar
  takes the last settlement with ``calc_time <= ts + bar_ms`` (its close), no jitter.
"""

from __future__ import annotations

import numpy as np

__all__ = ["OI_STAMP_JITTER_MS", "asof_at_close", "funding_to_8h"]

#: Snapshot stamps may lag the 5-minute grid by a few seconds (e.g. ``00:05:02``).
OI_STAMP_JITTER_MS = 5_000


def asof_at_close(close_ms: np.ndarray, snap_ts_ms: np.ndarray, values: np.ndarray, *,
                  jitter_ms: int = 0, max_age_ms: int | None = None) -> np.ndarray:
    """Last snapshot value stamped at or before each bar close (+ jitter).

    Parameters
    ----------
    close_ms : (T,) int64
        Bar close times, Unix ms.
    snap_ts_ms : (S,) int64
        Snapshot stamps, Unix ms (any order; on equal stamps the later row wins).
    values : (S,) float64
        Snapshot values.
    jitter_ms : int
        Tolerated lateness of a stamp.
    max_age_ms : int, optional
        A snapshot older than this (before ``close + jitter``) is not used: NaN instead.

    Returns
    -------
    (T,) float64
        The aligned values, NaN where no snapshot qualifies.

    Examples
    --------
    >>> asof_at_close(np.array([300, 600]), np.array([0, 302]), np.array([1.0, 2.0]),
    ...               jitter_ms=5)
    array([2., 2.])
    """
    snap = np.asarray(snap_ts_ms, dtype=np.int64)
    vals = np.asarray(values, dtype=np.float64)
    order = np.argsort(snap, kind="stable")
    snap, vals = snap[order], vals[order]
    target = np.asarray(close_ms, dtype=np.int64) + int(jitter_ms)
    idx = np.searchsorted(snap, target, side="right") - 1
    out = np.full(len(target), np.nan)
    ok = idx >= 0
    if max_age_ms is not None:
        ok[ok] &= (target[ok] - snap[idx[ok]]) <= int(max_age_ms)
    out[ok] = vals[idx[ok]]
    return out


def funding_to_8h(rate: np.ndarray, interval_hours: np.ndarray | float) -> np.ndarray:
    """Express funding rates per 8 h (``Bars.funding_rate``'s unit).

    A rate paid every ``interval_hours`` is scaled by ``8 / interval_hours``: 0.01 % per
    4 h is 0.02 % per 8 h.
    """
    return np.asarray(rate, dtype=np.float64) * (8.0 / np.asarray(interval_hours, dtype=np.float64))
