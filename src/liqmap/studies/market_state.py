"""Market state over a window: the open-interest flush, realized liquidations per day and
side, the funding reset and the trend of the map's long/short imbalance, as numbers.

Written definitions
-------------------
**Open interest (USD)** is ``open_interest (coin) x close``. **The flush** is the largest
peak-to-trough drop of that USD series inside the window, in percent of the peak (the
maximum drawdown), with its USD size, its timestamps and the coin drop over the same span
(the USD drop mixes closed contracts with the fall in price; the coin drop does not).

**Funding reset.** With the funding history ``h`` (every finite ``funding_rate`` of the bars
given, including those before ``start_ms``, so the baseline is long-run), funding *has reset*
when, inside the window, it was extreme (some bar outside ``[q(h, 0.10), q(h, 0.90)]``) and
the last value is back within the inter-quartile band ``[q(h, 0.25), q(h, 0.75)]``. The
z-score and the percentile of the last value against ``h`` are reported alongside.

**Imbalance trend.** The model is run once over the bars up to ``end_ms`` (history before
``start_ms`` fills the book) and its map is read at ``imbalance_points`` evenly spaced times
of the window; at each, ``short_share`` = shorts within +10 % / (shorts within +10 % +
longs within -10 %); times where the map is still empty within +/-10 % are dropped. The
trend is the last share minus the first, in percentage points.

>>> st = market_state(load_sample(), start_ms=None)        # doctest: +SKIP
>>> st.sentences()[0]                                      # doctest: +SKIP
'OI fell 12.3% ($1.2B) from 2025-12-04 06:00 to 2025-12-06 10:00 UTC'
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from liqmap._exceptions import ConfigError, DataError
from liqmap.core import mapstats
from liqmap.core.bars import Bars
from liqmap.core.mapstats import jsonable
from liqmap.core.records import LiqMap
from liqmap.fmt import fmt_usd
from liqmap.model import LiquidationModel
from liqmap.timeutil import MS_PER_DAY, utc_date, utc_minute

__all__ = ["FUNDING_EXTREME_Q", "FUNDING_NORMAL_Q", "FundingState", "MarketState", "OIFlush",
           "market_state"]

FUNDING_EXTREME_Q = 0.10
"""Funding outside ``[q(0.10), q(0.90)]`` of its history counts as extreme."""
FUNDING_NORMAL_Q = 0.25
"""Funding inside ``[q(0.25), q(0.75)]`` of its history counts as back to normal."""


@dataclass(frozen=True, slots=True)
class OIFlush:
    """The largest peak-to-trough drop of open interest (USD) in the window."""

    drop_pct: float
    drop_usd: float
    drop_coin_pct: float
    peak_ts_ms: int
    trough_ts_ms: int
    peak_usd: float
    trough_usd: float


@dataclass(frozen=True, slots=True)
class FundingState:
    """Funding now against its window mean and its long-run history (fractions per 8 h)."""

    now: float
    window_mean: float
    window_max: float
    window_min: float
    history_median: float
    zscore: float
    percentile: float
    was_extreme: bool
    has_reset: bool
    rule: str


@dataclass(frozen=True, slots=True)
class MarketState:
    """Result of :func:`market_state` (read-only); ``to_dict()`` is JSON-ready."""

    venue: str
    symbol: str
    start_ms: int
    end_ms: int
    n_bars: int
    oi_start_coin: float
    oi_end_coin: float
    oi_peak_coin: float
    oi_start_usd: float
    oi_end_usd: float
    oi_peak_usd: float
    oi_peak_ts_ms: int
    flush: OIFlush
    funding: FundingState | None
    realized_per_day: tuple[dict, ...] = ()
    realized_long_usd: float | None = None
    realized_short_usd: float | None = None
    imbalance: tuple[dict, ...] = ()
    imbalance_trend_pp: float | None = None
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        """Plain dict (non-finite numbers become None)."""
        return jsonable(asdict(self))

    def sentences(self) -> list[str]:
        """The figures in plain sentences."""
        return _sentences(self)


def market_state(bars: Bars, realized=None, start_ms: int | None = None,
                 end_ms: int | None = None, *, model: LiquidationModel | None = None,
                 imbalance_points: int = 5, maps: list[LiqMap] | None = None) -> MarketState:
    """Describe the market over ``[start_ms, end_ms)`` of ``bars``.

    Parameters
    ----------
    bars : Bars
        Bars with open interest (coin) and, optionally, funding. Bars before ``start_ms``
        serve as history (funding baseline, the model's book).
    realized : RealizedLiquidations or dict or None
        Events (``RealizedLiquidations``) or per-bar totals: a dict (or object) with
        ``ts_ms``, ``long_usd``, ``short_usd`` arrays.
    start_ms, end_ms : int, optional
        Window bounds (bar open times); default all bars.
    model : LiquidationModel, optional
        Model for the imbalance trend (default ``LiquidationModel()``).
    imbalance_points : int
        Times at which the imbalance is read (0 = skip the model).
    maps : list of LiqMap, optional
        Precomputed maps to use instead of running the model.

    Examples
    --------
    >>> st = market_state(bars, start_ms=t0)        # doctest: +SKIP
    >>> st.flush.drop_pct                            # doctest: +SKIP
    """
    win = bars.window(start_ms, end_ms)
    if len(win) < 2:
        raise ConfigError("fewer than 2 bars between start and end; widen the window")
    oi_usd = win.open_interest * win.close
    ipk = int(np.argmax(oi_usd))
    notes = [] if win.funding_rate is not None else ["no funding column: funding not assessed"]
    if maps is None and imbalance_points > 0:
        maps = _maps(model or LiquidationModel(), bars, win, imbalance_points)
    return MarketState(
        venue=win.venue, symbol=win.symbol, start_ms=int(win.ts_ms[0]),
        end_ms=int(win.ts_ms[-1]), n_bars=len(win),
        oi_start_coin=float(win.open_interest[0]), oi_end_coin=float(win.open_interest[-1]),
        oi_peak_coin=float(np.max(win.open_interest)), oi_start_usd=float(oi_usd[0]),
        oi_end_usd=float(oi_usd[-1]), oi_peak_usd=float(oi_usd[ipk]),
        oi_peak_ts_ms=int(win.ts_ms[ipk]), flush=oi_flush(win),
        funding=funding_state(bars, win),
        **_realized_fields(realized, int(win.ts_ms[0]), int(win.ts_ms[-1]) + win.bar_ms),
        **_imbalance_fields(maps or []), notes=tuple(notes))


def oi_flush(win: Bars) -> OIFlush:
    """Largest peak-to-trough drop of ``open_interest x close`` (see the module docstring)."""
    usd = win.open_interest * win.close
    run_max = np.maximum.accumulate(usd)
    dd = 1.0 - usd / run_max
    it = int(np.argmax(dd))
    ip = int(np.argmax(usd[: it + 1]))
    coin = win.open_interest
    return OIFlush(drop_pct=float(dd[it] * 100.0), drop_usd=float(usd[ip] - usd[it]),
                   drop_coin_pct=float((1.0 - coin[it] / coin[ip]) * 100.0),
                   peak_ts_ms=int(win.ts_ms[ip]), trough_ts_ms=int(win.ts_ms[it]),
                   peak_usd=float(usd[ip]), trough_usd=float(usd[it]))


def funding_state(bars: Bars, win: Bars) -> FundingState | None:
    """Funding now, its window mean and the reset rule of the module docstring."""
    if win.funding_rate is None or bars.funding_rate is None:
        return None
    hist = bars.funding_rate[np.isfinite(bars.funding_rate)]
    w = win.funding_rate[np.isfinite(win.funding_rate)]
    if hist.size < 2 or w.size == 0:
        return None
    lo_x, hi_x, lo_n, hi_n, med = np.quantile(
        hist, [FUNDING_EXTREME_Q, 1 - FUNDING_EXTREME_Q, FUNDING_NORMAL_Q,
               1 - FUNDING_NORMAL_Q, 0.5])
    now = float(w[-1])
    sd = float(np.std(hist))
    extreme = bool(np.any((w < lo_x) | (w > hi_x)))
    return FundingState(
        now=now, window_mean=float(w.mean()), window_max=float(w.max()),
        window_min=float(w.min()), history_median=float(med),
        zscore=(now - float(hist.mean())) / sd if sd > 0 else math.nan,
        percentile=float(np.mean(hist <= now) * 100.0), was_extreme=extreme,
        has_reset=extreme and bool(lo_n <= now <= hi_n),
        rule=(f"extreme = outside the {FUNDING_EXTREME_Q:.0%}-{1 - FUNDING_EXTREME_Q:.0%} "
              f"quantiles of the {hist.size}-bar history; reset = was extreme in the window "
              f"and the last value is within the {FUNDING_NORMAL_Q:.0%}-"
              f"{1 - FUNDING_NORMAL_Q:.0%} quantiles"))


def daily_realized(realized, start_ms: int, end_ms: int) -> list[dict]:
    """Realized liquidations per UTC day and side, USD, for ``start_ms <= ts < end_ms``."""
    ts, side_long, side_short = _realized_arrays(realized)
    keep = (ts >= start_ms) & (ts < end_ms)
    day = (ts[keep] // MS_PER_DAY).astype(np.int64)
    if day.size == 0:
        return []
    days = np.unique(day)
    idx = np.searchsorted(days, day)
    lg = np.bincount(idx, weights=side_long[keep], minlength=days.size)
    sh = np.bincount(idx, weights=side_short[keep], minlength=days.size)
    return [{"date": utc_date(int(d) * MS_PER_DAY), "long_usd": float(a), "short_usd": float(b)}
            for d, a, b in zip(days, lg, sh)]


def _realized_arrays(realized) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ts_ms, long_usd, short_usd)`` per row of events or per-bar totals."""
    get = realized.get if isinstance(realized, dict) else lambda k: getattr(realized, k, None)
    ts = get("ts_ms")
    if ts is None:
        raise DataError("realized liquidations need ts_ms (and side/notional_usd or "
                        "long_usd/short_usd); pass RealizedLiquidations or a dict of arrays")
    ts = np.asarray(ts, np.int64)
    side, notional = get("side"), get("notional_usd")
    if side is not None and notional is not None:
        side, notional = np.asarray(side), np.asarray(notional, float)
        return ts, np.where(side == 1, notional, 0.0), np.where(side == -1, notional, 0.0)
    lg, sh = get("long_usd"), get("short_usd")
    if lg is None or sh is None or np.ndim(lg) == 0:
        raise DataError("per-bar realized liquidations need long_usd and short_usd arrays")
    lg, sh = np.asarray(lg, float), np.asarray(sh, float)
    if not len(lg) == len(sh) == len(ts):
        raise DataError("realized ts_ms, long_usd and short_usd must have the same length")
    return ts, np.nan_to_num(lg), np.nan_to_num(sh)


def _realized_fields(realized, start_ms: int, end_ms: int) -> dict:
    if realized is None:
        return {}
    days = daily_realized(realized, start_ms, end_ms)
    return {"realized_per_day": tuple(days),
            "realized_long_usd": float(sum(d["long_usd"] for d in days)),
            "realized_short_usd": float(sum(d["short_usd"] for d in days))}


def _maps(model: LiquidationModel, bars: Bars, win: Bars, points: int) -> list[LiqMap]:
    from liqmap.watch.frames import FrameMaps

    upto = bars.window(None, int(win.ts_ms[-1]) + 1)
    fm = FrameMaps.build(model, upto, every_bars=max(1, len(upto) // 2000))
    want = np.linspace(int(win.ts_ms[0]), int(win.ts_ms[-1]), points).astype(np.int64)
    idx = sorted({max(fm.index_at(int(t)), 0) for t in want})
    return [fm.map(i) for i in idx]


def _imbalance_fields(maps: list[LiqMap]) -> dict:
    if not maps:
        return {}
    pts = []
    for m in maps:
        imb = mapstats.imbalance(m, 0.10, 0.10)
        tot = imb.short_usd + imb.long_usd
        pts.append({"ts_ms": int(m.ts_ms), "price_usd": float(m.price_usd),
                    "short_usd": imb.short_usd, "long_usd": imb.long_usd, "ratio": imb.ratio,
                    "short_share": imb.short_usd / tot if tot > 0 else math.nan})
    pts = [x for x in pts if math.isfinite(x["short_share"])]  # an empty book says nothing
    if not pts:
        return {}
    trend = (pts[-1]["short_share"] - pts[0]["short_share"]) * 100.0
    return {"imbalance": tuple(pts), "imbalance_trend_pp": float(trend)}


def _sentences(st: MarketState) -> list[str]:
    f = st.flush
    out = [f"OI fell {f.drop_pct:.1f}% ({fmt_usd(f.drop_usd)}) from {utc_minute(f.peak_ts_ms)} to "
           f"{utc_minute(f.trough_ts_ms)} UTC ({f.drop_coin_pct:.1f}% in coins); OI went from "
           f"{fmt_usd(st.oi_start_usd)} to {fmt_usd(st.oi_end_usd)} over the window "
           f"(peak {fmt_usd(st.oi_peak_usd)} at {utc_minute(st.oi_peak_ts_ms)})."]
    if st.realized_long_usd is not None and st.realized_short_usd is not None:  # set together
        worst = max(st.realized_per_day, key=lambda d: d["long_usd"] + d["short_usd"],
                    default=None)
        out.append(f"Realized liquidations: {fmt_usd(st.realized_long_usd)} longs and "
                   f"{fmt_usd(st.realized_short_usd)} shorts over {len(st.realized_per_day)} "
                   "days" + ("" if worst is None else
                             f"; worst day {worst['date']} ({fmt_usd(worst['long_usd'])} longs,"
                             f" {fmt_usd(worst['short_usd'])} shorts)") + ".")
    fu = st.funding
    if fu is not None:
        out.append(f"Funding is {fu.now * 100:.4f}% per 8h (window mean {fu.window_mean * 100:.4f}"
                   f"%, long-run median {fu.history_median * 100:.4f}%, z {fu.zscore:+.2f}, "
                   f"percentile {fu.percentile:.0f}): "
                   + ("it has reset." if fu.has_reset else "it has not reset ("
                      + ("was extreme, not back to normal" if fu.was_extreme
                         else "was never extreme in the window") + ")."))
    if st.imbalance:
        a, b = st.imbalance[0], st.imbalance[-1]
        out.append(f"Shorts within +10% were {a['short_share']:.0%} of the +/-10% map at "
                   f"{utc_minute(a['ts_ms'])} and {b['short_share']:.0%} at "
                   f"{utc_minute(b['ts_ms'])} "
                   f"({st.imbalance_trend_pp:+.1f} pp).")
    return out


