"""Scoring bars of a window: engine bars grouped into the realized series' bars.

A :class:`ScoreFrame` holds, per scoring bar, the prices and open interest the baselines and
the combined predictor need, the realized liquidations and which bars are scored. Engine
outputs (per engine bar) are summed into scoring bars with :meth:`ScoreFrame.to_score`.
For window A both bar sizes are one hour and the grouping is the identity.

- open = first engine bar's open, high/low = extremes over the engine bars;
- ``oi_open_coin`` = open interest at the close of the engine bar before the scoring bar
  (the first engine bar's own value at the window's start);
- a scoring bar is scored when all its engine bars are present, it does not follow a gap
  in the realized series, and it opens at least ``warmup_hours`` after the first engine bar.

>>> fr = score_frame(load_window("A"), warmup_hours=168)    # doctest: +SKIP
>>> fr.excursion_x_oi_usd()["long"][:3]                     # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from liqmap._exceptions import ConfigError
from liqmap.scorecard.combine import design_inputs
from liqmap.scorecard.data import WindowData
from liqmap.timeutil import MS_PER_HOUR

__all__ = ["ScoreFrame", "score_frame"]


@dataclass(frozen=True, slots=True)
class ScoreFrame:
    """Per scoring bar arrays (length S) and the engine-bar -> scoring-bar map.

    Attributes
    ----------
    ts_ms : (S,) int64
        Scoring bar open times.
    open_usd, high_usd, low_usd, oi_open_coin : (S,) float64
        Prices over the scoring bar and open interest at its open (base units).
    realized : dict
        ``{"long": (S,), "short": (S,)}`` realized USD.
    scored : (S,) bool
        Scoring bars that enter the scores.
    is_scoring : (S,) bool
        Opening at or after the window's calibration end (out of sample).
    bar_bucket : (T,) int64
        Scoring bar of each engine bar (-1: none).
    is_calibration : (S,) bool, optional
        Opening before the calibration end (default: not ``is_scoring``); a dataset whose
        scoring span starts after its fit span leaves the bars between in neither.
    """

    ts_ms: np.ndarray
    open_usd: np.ndarray
    high_usd: np.ndarray
    low_usd: np.ndarray
    oi_open_coin: np.ndarray
    realized: dict
    scored: np.ndarray
    is_scoring: np.ndarray
    bar_bucket: np.ndarray
    is_calibration: np.ndarray | None = None

    @property
    def calibration_mask(self) -> np.ndarray:
        """Bars of the calibration span."""
        return ~self.is_scoring if self.is_calibration is None else self.is_calibration

    def to_score(self, per_bar) -> np.ndarray:
        """Sum a per-engine-bar series into the scoring bars."""
        x = np.asarray(per_bar, float)
        ok = self.bar_bucket >= 0
        return np.bincount(self.bar_bucket[ok], weights=x[ok], minlength=self.ts_ms.size)

    def excursion(self) -> dict:
        """Adverse excursion per side: ``(open - low)/open`` long, ``(high - open)/open`` short."""
        o = self.open_usd
        return {"long": (o - self.low_usd) / o, "short": (self.high_usd - o) / o}

    def excursion_x_oi_usd(self) -> dict:
        """Excursion times open interest at the open, USD."""
        oi_usd = self.oi_open_coin * self.open_usd
        return {sd: v * oi_usd for sd, v in self.excursion().items()}

    def inputs(self, book: dict) -> dict:
        """The combined predictor's regressors ``{side: {feature: (S,)}}`` given the book's
        per-scoring-bar USD (:func:`liqmap.scorecard.combine.design_inputs`)."""
        return design_inputs(book, self.open_usd, self.high_usd, self.low_usd,
                             self.oi_open_coin)


def _bucket_of(bar_ts: np.ndarray, bar_ms: int, score_ts: np.ndarray,
               score_ms: int) -> np.ndarray:
    idx = np.searchsorted(score_ts, bar_ts, side="right") - 1
    ok = (idx >= 0) & (bar_ts + bar_ms <= score_ts[np.clip(idx, 0, None)] + score_ms)
    return np.where(ok, idx, -1).astype(np.int64)


def _prices(bars, bucket: np.ndarray, n: int):
    ok = bucket >= 0
    b = bucket[ok]
    high = np.full(n, -np.inf)
    low = np.full(n, np.inf)
    np.maximum.at(high, b, bars.high[ok])
    np.minimum.at(low, b, bars.low[ok])
    first = np.full(n, -1, np.int64)
    pos = np.flatnonzero(ok)
    first[b[::-1]] = pos[::-1]  # earliest engine bar of each scoring bar
    has = first >= 0
    f = np.clip(first, 0, None)
    open_ = np.where(has, bars.open[f], np.nan)
    oi_prev = np.r_[bars.open_interest[0], bars.open_interest[:-1]]
    return open_, np.where(has, high, np.nan), np.where(has, low, np.nan), \
        np.where(has, oi_prev[f], np.nan)


def score_frame(data: WindowData, warmup_hours: float | None = None) -> ScoreFrame:
    """Group a window's engine bars into its scoring bars.

    Parameters
    ----------
    data : WindowData
        A loaded window.
    warmup_hours : float, optional
        Leading hours not scored; default the window's own (``spec.warmup_hours``).

    Returns
    -------
    ScoreFrame
    """
    spec, bars = data.spec, data.bars
    warm = spec.warmup_hours if warmup_hours is None else float(warmup_hours)
    if warm < 0:
        raise ConfigError("warmup_hours must be >= 0")
    score_ts = np.asarray(data.score_ts, np.int64)
    bucket = _bucket_of(bars.ts_ms, spec.bar_ms, score_ts, spec.score_ms)
    per = max(spec.score_ms // spec.bar_ms, 1)
    complete = np.bincount(bucket[bucket >= 0], minlength=score_ts.size) == per
    open_, high, low, oi = _prices(bars, bucket, score_ts.size)
    scored = complete & ~data.after_gap & (score_ts >= bars.ts_ms[0] + warm * MS_PER_HOUR)
    if not scored.any():
        raise ConfigError("no bar left to score after the warm-up; widen the slice or lower "
                          "warmup_hours")
    return ScoreFrame(ts_ms=score_ts, open_usd=open_, high_usd=high, low_usd=low,
                      oi_open_coin=oi,
                      realized={"long": np.asarray(data.realized_long_usd, float),
                                "short": np.asarray(data.realized_short_usd, float)},
                      scored=scored, is_scoring=score_ts >= spec.scoring_start_ms,
                      bar_bucket=bucket, is_calibration=score_ts < spec.calibration_end_ms)
