"""Hyperliquid window B: measured leverage next to liqmap's presets, and what became of
positions whose liquidation price the price path crossed.

**Leverage vs presets.** The notional-weighted leverage distribution of the whale positions
(every row of the coin over the 94 snapshots, so a position held for many snapshots counts
in each) on the buckets of :data:`LEVERAGE_BUCKETS`, next to the weights of each preset of
:data:`liqmap.core.leverage.PRESETS` on the same buckets, and the notional-weighted mean
leverage of each. The buckets and :func:`bucket_shares` live here and are re-exported by
:mod:`liqmap.checks.hyperliquid_positions`, which imports this module (never the other way
round).

**Crossed positions.** For consecutive snapshots ``i, i+1`` and each position of snapshot
``i`` with a liquidation price, the price path between the two is

- the hourly high/low of the bars overlapping ``[t_i, t_{i+1}]`` (window A's Coinglass
  regime file: Binance *spot* BTCUSDT, which differs from Hyperliquid's mark by the basis;
  a bar may start up to an hour before ``t_i``), and
- the snapshots' own mark prices (median ``mark_px_implied`` of the coin at ``t_i`` and
  ``t_{i+1}``); with no hourly bars, the marks alone.

A long is *crossed* when the path's low reaches its ``liquidation_px``, a short when the
high does. A position *disappeared* when snapshot ``i+1`` has no row with the same address,
coin and direction. Positions whose liquidation price is already beyond the mark at ``t_i``
are left out. The tracked lists (leaderboards) change between snapshots, so uncrossed
positions disappear too: that share is the baseline. Intervals are Wilson 95 % for each
share and Newcombe's score interval for the difference; pairs of snapshots are not
independent (a position appears in many), so the intervals are optimistic.

>>> res = crossing_check(load_positions(), price_bars=None)   # doctest: +SKIP
>>> res["crossed"]["disappeared_share"]                        # doctest: +SKIP
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from liqmap.core.bars import Bars
from liqmap.core.leverage import PRESETS
from liqmap.timeutil import MS_PER_HOUR

__all__ = ["LEVERAGE_BUCKETS", "REGIME_GLOB", "bucket_shares", "crossing_check",
           "leverage_vs_presets", "load_price_bars", "newcombe_diff", "wilson"]

REGIME_GLOB = "raw/coinglass_ismethanhtung/coinglass_BTC_regime_1h_*.csv.gz"
_Z = 1.959963984540054

LEVERAGE_BUCKETS = ((2, "<=2x"), (5, "3-5x"), (10, "6-10x"), (19, "11-19x"), (20, "20x"),
                    (39, "21-39x"), (math.inf, ">=40x"))
"""(upper bound, label) of the leverage buckets of the notional-weighted distribution."""


def bucket_shares(lev: np.ndarray, weight: np.ndarray) -> dict[str, float]:
    """Share of ``weight`` per leverage bucket of :data:`LEVERAGE_BUCKETS` (NaN if no weight).

    >>> bucket_shares(np.array([3.0, 25.0]), np.array([1.0, 3.0]))["21-39x"]
    0.75
    """
    total = weight.sum()
    out, lower = {}, -math.inf
    for upper, label in LEVERAGE_BUCKETS:
        sel = (lev > lower) & (lev <= upper)
        out[label] = float(weight[sel].sum() / total) if total > 0 else math.nan
        lower = upper
    return out


def leverage_vs_presets(df: pd.DataFrame) -> dict:
    """Measured notional-weighted leverage shares and means next to every preset's."""
    lev, val = df["leverage"].to_numpy(float), df["position_value"].abs().to_numpy(float)
    ok = np.isfinite(lev) & np.isfinite(val) & (val > 0)
    lev, val = lev[ok], val[ok]
    rows = {"measured": {"shares": bucket_shares(lev, val),
                         "mean_leverage": float(np.average(lev, weights=val)) if val.size
                         else math.nan,
                         "median_leverage": _weighted_median(lev, val)}}
    for name, p in PRESETS.items():
        lv, w = np.asarray(p.leverages), np.asarray(p.weights)
        rows[name] = {"shares": bucket_shares(lv, w),
                      "mean_leverage": float(np.average(lv, weights=w)),
                      "median_leverage": _weighted_median(lv, w)}
    return rows


def _weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    if x.size == 0:
        return math.nan
    order = np.argsort(x)
    cum = np.cumsum(w[order])
    return float(x[order][np.searchsorted(cum, 0.5 * cum[-1])])


def load_price_bars(data_dir) -> Bars | None:
    """Window A's hourly bars (spot OHLC) when the regime file is there, else None."""
    from liqmap.io.coinglass import read_regime_bars

    hits = sorted(Path(data_dir).glob(REGIME_GLOB)) if data_dir is not None else []
    return read_regime_bars(hits[-1]) if hits else None


def _path_extremes(t0: int, t1: int, marks: tuple[float, float], bars: Bars | None):
    lo, hi = min(marks), max(marks)
    if bars is not None:
        sel = (bars.ts_ms + MS_PER_HOUR > t0) & (bars.ts_ms < t1)
        if sel.any():
            lo, hi = min(lo, float(bars.low[sel].min())), max(hi, float(bars.high[sel].max()))
    return lo, hi


def _pairs(df: pd.DataFrame, bars: Bars | None) -> pd.DataFrame:
    """One row per (snapshot i position with a liquidation price): crossed, disappeared."""
    snaps = sorted(df["snapshot_utc"].unique())
    ts = {s: int(pd.Timestamp(s).value // 1_000_000) for s in snaps}
    mark = df.groupby("snapshot_utc")["mark_px_implied"].median()
    keys = {s: set(zip(g["address"], g["coin"], g["direction"]))
            for s, g in df.groupby("snapshot_utc")}
    out = []
    for a, b in zip(snaps[:-1], snaps[1:]):
        g = df[(df["snapshot_utc"] == a) & df["liquidation_px"].notna()]
        lo, hi = _path_extremes(ts[a], ts[b], (mark[a], mark[b]), bars)
        liq, s = g["liquidation_px"].to_numpy(float), g["s"].to_numpy()
        valid = np.where(s > 0, liq < mark[a], liq > mark[a]) & (liq > 0)
        crossed = np.where(s > 0, lo <= liq, hi >= liq)
        gone = [k not in keys[b] for k in zip(g["address"], g["coin"], g["direction"])]
        out.append(pd.DataFrame({"crossed": crossed[valid], "gone": np.asarray(gone)[valid],
                                 "gap_h": (ts[b] - ts[a]) / MS_PER_HOUR}))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(
        {"crossed": [], "gone": [], "gap_h": []})


def wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson 95 % interval of ``k / n``."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    den = 1 + _Z**2 / n
    mid = (p + _Z**2 / (2 * n)) / den
    half = _Z * math.sqrt(p * (1 - p) / n + _Z**2 / (4 * n * n)) / den
    return mid - half, mid + half


def newcombe_diff(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """Newcombe's score interval (95 %) of ``k1/n1 - k2/n2``."""
    if n1 == 0 or n2 == 0:
        return math.nan, math.nan
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1)
    l2, u2 = wilson(k2, n2)
    d = p1 - p2
    return (d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
            d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


def _group(k: int, n: int) -> dict:
    lo, hi = wilson(k, n)
    return {"n": n, "disappeared": k, "disappeared_share": k / n if n else math.nan,
            "ci_low": lo, "ci_high": hi}


def crossing_check(df: pd.DataFrame, price_bars: Bars | None) -> dict:
    """Disappearance of crossed vs uncrossed positions between snapshots (module docstring)."""
    pr = _pairs(df, price_bars)
    cr, un = pr[pr["crossed"].astype(bool)], pr[~pr["crossed"].astype(bool)]
    k1, n1, k2, n2 = int(cr["gone"].sum()), len(cr), int(un["gone"].sum()), len(un)
    lo, hi = newcombe_diff(k1, n1, k2, n2)
    return {
        "crossed": _group(k1, n1), "uncrossed": _group(k2, n2),
        "difference": (k1 / n1 - k2 / n2) if n1 and n2 else math.nan,
        "difference_ci_low": lo, "difference_ci_high": hi,
        "snapshot_pairs": int(df["snapshot_utc"].nunique() - 1),
        "median_gap_hours": float(pr["gap_h"].median()) if len(pr) else math.nan,
        "price_path": ("hourly spot high/low of window A + snapshot marks" if price_bars
                       is not None else "snapshot marks only (no hourly bars found)"),
    }
