"""The map measured as a map: the standing levels against what then happened (issue 13).

For every hour ``t`` of a window (after the warm-up) and horizons ``H`` of
:data:`HORIZONS_H`:

- the map **standing at t** is the level book after the bar that closes at ``t`` (one
  heatmap frame per engine bar: the engine runs once; no position opened after ``t`` is in
  it);
- the price path over ``(t, t + H]`` is the ``H`` bars that open at ``t`` and after; its
  ``path_low_usd`` / ``path_high_usd`` are their extremes;
- **predicted** per side is the map's notional that such a path crosses, by the engine's
  own crossing rule (:mod:`liqmap.core.book`): every long level whose bin centre is at or
  above the path's low, every short level whose bin centre is at or below its high, i.e.
  the levels between the price and the extreme (long levels above the price, left by the
  last bar's openings, fall at the first step and count too). One cumulative sum per map
  makes each ``(t, H)`` a lookup;
- **realized** per side is the realized series summed over the same ``H`` bars.

``ts_ms`` in the rows is ``t`` itself: the **close** of the standing map's bar (its open
time plus one bar). A row is kept when its ``H`` bars are consecutive (no missing hour);
it is a **calibration** row when its whole outcome ends by the calibration end
(``t + H <= 2026-02-01``), a **scoring** row when ``t`` is at or after it; rows that
straddle the cut are in neither and are counted.

Baselines:

- **shapeless**: the map's per-side totals at ``t`` spread over the distance from the price
  by one exponential kernel, ``predicted = total x (1 - exp(-d / scale))`` with ``d`` the
  path's relative excursion (``(price - low) / price`` for longs, ``(high - price) / price``
  for shorts). ``scale`` is chosen on :data:`KERNEL_GRID` by the mean calibration
  ``r2_log`` over sides and horizons (scorecard metric, line fitted on the same rows);
- **vendor-style** (:mod:`liqmap.core.vendor`): the convention popular tools appear to
  use, run through the same book on the same price grid.

Everything fitted (the kernel scale, the scale and line of every ``r2_log``) comes from
:func:`fit_levels`, which cuts the window at the calibration end **before** building
anything (:func:`liqmap.scorecard.calibrate.slice_before`).

>>> res = run_levels("A")                                  # doctest: +SKIP
>>> res.summary()["verdict"]["scoring"]["24"]["long"]["statement"]   # doctest: +SKIP
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from liqmap._exceptions import ConfigError
from liqmap.core import book as bk
from liqmap.core.bars import Bars
from liqmap.core.vendor import VENDOR_STYLE, vendor_book_inputs
from liqmap.model import Estimate, LiquidationModel
from liqmap.scorecard.data import WindowData
from liqmap.scorecard.metrics import fit_log_line, log_scale, r2

__all__ = ["CSV_HEAD_LEVELS", "HORIZONS_H", "KERNEL_GRID", "PREDICTORS", "LevelFit",
           "LevelRows", "StandingMaps", "between", "fit_kernel", "fit_levels", "level_rows",
           "shapeless", "standing_maps", "vendor_maps"]

HORIZONS_H = (1, 4, 24, 168)
SIDES = ("long", "short")
CSV_HEAD_LEVELS = ("ts_ms", "horizon_h", "price_usd", "path_low_usd", "path_high_usd",
                   "predicted_long_usd", "predicted_short_usd", "shapeless_long_usd",
                   "shapeless_short_usd", "vendor_long_usd", "vendor_short_usd",
                   "realized_long_usd", "realized_short_usd", "span")
PREDICTORS = {"map": "predicted", "shapeless": "shapeless", VENDOR_STYLE: "vendor"}
"""Scored predictors and their column stem (``<stem>_<side>_usd``)."""
KERNEL_GRID = tuple(float(x) for x in np.geomspace(5e-4, 1.0, 45))
"""Candidate kernel scales (fraction of price: 0.05 % .. 100 %)."""


@dataclass(frozen=True, slots=True)
class StandingMaps:
    """The map standing after every bar: one book snapshot per bar.

    Attributes
    ----------
    name : str
        ``"map"`` or ``"vendor-style"``.
    p0_usd, bin_usd : float
        Lower edge of bin 0 and bin width (the engine's grid).
    price_bins_usd : (P,) float64
        Bin centres.
    long_usd, short_usd : (T, P) float64
        Notional per bin after each bar.
    seconds : float
        Engine time of the run.
    """

    name: str
    p0_usd: float
    bin_usd: float
    price_bins_usd: np.ndarray
    long_usd: np.ndarray
    short_usd: np.ndarray
    seconds: float

    def totals(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-side total notional of each map, ``(T,)`` each."""
        return self.long_usd.sum(axis=1), self.short_usd.sum(axis=1)


def standing_maps(model: LiquidationModel, bars: Bars) -> tuple[StandingMaps, Estimate]:
    """Run ``model`` once over ``bars`` with one heatmap frame per bar (band off).

    Returns the maps and the run itself (its per-bar consumed notional feeds the hourly
    combiner).
    """
    t0 = time.perf_counter()
    est = replace(model, band="none", frames=len(bars)).run(bars)
    hm = est.heatmap
    if hm.ts_ms.size != len(bars):
        raise ConfigError(f"the engine kept {hm.ts_ms.size} frames for {len(bars)} bars; "
                          "standing maps need one per bar")
    c = np.asarray(hm.price_bins_usd, float)
    b = float(model.bin_usd or hm.bin_usd)
    p0 = float(np.round((c[0] - b / 2) / b) * b)
    maps = StandingMaps("map", p0, b, c, hm.long_usd, hm.short_usd,
                        time.perf_counter() - t0)
    return maps, est


def vendor_maps(bars: Bars, grid: StandingMaps, *, venue: str = "binance") -> StandingMaps:
    """The ``vendor-style`` map after every bar, on ``grid``'s price bins."""
    t0 = time.perf_counter()
    inp = vendor_book_inputs(open_usd=bars.open, high_usd=bars.high, low_usd=bars.low,
                             close_usd=bars.close, oi_coin=bars.open_interest,
                             p0_usd=grid.p0_usd, bin_usd=grid.bin_usd,
                             n_bins=grid.price_bins_usd.size,
                             frame_idx=np.arange(len(bars)), venue=venue)
    out = bk.run_book(inp)
    return StandingMaps(VENDOR_STYLE, grid.p0_usd, grid.bin_usd, grid.price_bins_usd,
                        out.frames_long_usd, out.frames_short_usd, time.perf_counter() - t0)


def between(maps: StandingMaps, idx, low_usd, high_usd) -> tuple[np.ndarray, np.ndarray]:
    """Notional of map ``idx[k]`` crossed by a path down to ``low_usd[k]`` / up to
    ``high_usd[k]``: longs at or above the low, shorts at or below the high (bin centres,
    the engine's thresholds)."""
    idx = np.asarray(idx, np.int64)
    p0, w, n = maps.p0_usd, maps.bin_usd, maps.price_bins_usd.size
    lb = np.ceil((np.asarray(low_usd, float) - p0) / w - 0.5).astype(np.int64)
    hb = np.floor((np.asarray(high_usd, float) - p0) / w - 0.5).astype(np.int64)
    rows, inv = np.unique(idx, return_inverse=True)
    zero = np.zeros((rows.size, 1))
    cl = np.hstack([np.cumsum(maps.long_usd[rows, ::-1], axis=1)[:, ::-1], zero])
    cs = np.hstack([zero, np.cumsum(maps.short_usd[rows], axis=1)])
    return cl[inv, np.clip(lb, 0, n)], cs[inv, np.clip(hb + 1, 0, n)]


def shapeless(total_long, total_short, price_usd, low_usd, high_usd,
              scale: float) -> tuple[np.ndarray, np.ndarray]:
    """The shapeless map's crossed notional: totals x ``1 - exp(-excursion / scale)``."""
    p = np.asarray(price_usd, float)
    d_l = np.clip(p - np.asarray(low_usd, float), 0, None) / p
    d_s = np.clip(np.asarray(high_usd, float) - p, 0, None) / p
    return (np.asarray(total_long, float) * -np.expm1(-d_l / scale),
            np.asarray(total_short, float) * -np.expm1(-d_s / scale))


@dataclass(frozen=True, slots=True)
class LevelRows:
    """One row per kept ``(t, H)``: the CSV columns plus the bar index and map totals.

    ``cols`` maps every name of :data:`CSV_HEAD_LEVELS` (``span`` as a bool array
    ``is_scoring``) and ``bar_idx``, ``map_total_long_usd``, ``map_total_short_usd`` to
    ``(N,)`` arrays; ``dropped`` counts ``{H: {"gap", "straddle"}}`` rows left out.
    """

    cols: dict
    dropped: dict

    def __len__(self) -> int:
        return int(self.cols["ts_ms"].size)

    def select(self, mask) -> LevelRows:
        """The rows where ``mask`` is true."""
        return LevelRows({k: v[mask] for k, v in self.cols.items()}, self.dropped)

    def where(self, horizon_h: int, scoring: bool | None = None) -> np.ndarray:
        """Bool mask of one horizon (and span: True scoring, False calibration)."""
        m = self.cols["horizon_h"] == horizon_h
        return m if scoring is None else m & (self.cols["is_scoring"] == scoring)


def _path(bars: Bars, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Low and high of the ``h`` bars after each bar ``i`` (``i < T - h``)."""
    return (sliding_window_view(bars.low[1:], h).min(axis=1),
            sliding_window_view(bars.high[1:], h).max(axis=1))


def _horizon_rows(data: WindowData, maps, vendor, h: int, warm_ms: int, cut_ms: int,
                  from_ms: int | None = None):
    bars, bar_ms = data.bars, int(data.spec.bar_ms)
    ts = bars.ts_ms.astype(np.int64)
    i = np.arange(len(bars) - h)
    t = ts[i] + bar_ms
    ok = (ts[i + h] - ts[i] == h * bar_ms) & (ts[i] >= ts[0] + warm_ms)
    cal, sco = t + h * bar_ms <= cut_ms, t >= (cut_ms if from_ms is None else from_ms)
    dropped = {"gap": int((~ok & (ts[i] >= ts[0] + warm_ms)).sum()),
               "straddle": int((ok & ~cal & ~sco).sum())}
    keep = ok & (cal | sco)
    i, t = i[keep], t[keep]
    low, high = (x[keep] for x in _path(bars, h))
    cum = {sd: np.r_[0.0, np.cumsum(getattr(data, f"realized_{sd}_usd"))] for sd in SIDES}
    cols = {"ts_ms": t, "horizon_h": np.full(i.size, h, np.int64), "price_usd": bars.close[i],
            "path_low_usd": low, "path_high_usd": high,
            **{f"realized_{sd}_usd": cum[sd][i + h + 1] - cum[sd][i + 1] for sd in SIDES},
            "is_scoring": sco[keep], "bar_idx": i}
    return cols, dropped


def level_rows(data: WindowData, maps: StandingMaps, vendor: StandingMaps, *,
               horizons=HORIZONS_H, warmup_hours: float | None = None,
               kernel_scale: float | None = None) -> LevelRows:
    """Rows of every kept ``(t, H)`` (module docstring), shapeless columns from
    ``kernel_scale`` (NaN when None)."""
    if data.score_ts_ms is not None or data.spec.score_ms != data.spec.bar_ms:
        raise ConfigError(f"the level test needs realized liquidations per engine bar; "
                          f"{data.spec.name} scores coarser bars: give hourly realized "
                          "totals for hourly bars (or use window A)")
    if data.spec.bar_ms != 3_600_000:
        raise ConfigError(f"the level test's horizons (1, 4, 24, 168 h) count hourly bars; "
                          f"{data.spec.name} has {data.spec.bar_ms // 60_000}-minute bars: "
                          "give hourly bars and hourly realized totals")
    warm = data.spec.warmup_hours if warmup_hours is None else float(warmup_hours)
    parts, dropped = [], {}
    for h in horizons:
        if len(data.bars) > h:
            cols, dropped[h] = _horizon_rows(data, maps, vendor, int(h), int(warm * 3.6e6),
                                             int(data.spec.calibration_end_ms),
                                             int(data.spec.scoring_start_ms))
            parts.append(cols)
    if not parts or not sum(p["ts_ms"].size for p in parts):
        raise ConfigError("no (hour, horizon) row to score: widen the window or lower the "
                          "warm-up")
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    i, low, high = cols["bar_idx"], cols["path_low_usd"], cols["path_high_usd"]
    cols["predicted_long_usd"], cols["predicted_short_usd"] = between(maps, i, low, high)
    cols["vendor_long_usd"], cols["vendor_short_usd"] = between(vendor, i, low, high)
    tl, ts_ = maps.totals()
    cols["map_total_long_usd"], cols["map_total_short_usd"] = tl[i], ts_[i]
    cols["shapeless_long_usd"], cols["shapeless_short_usd"] = (
        shapeless(cols["map_total_long_usd"], cols["map_total_short_usd"], cols["price_usd"],
                  cols["path_low_usd"], cols["path_high_usd"], kernel_scale)
        if kernel_scale is not None else (np.full(cols["ts_ms"].size, np.nan),) * 2)
    return LevelRows(cols, dropped)


def _line(x: np.ndarray, y: np.ndarray) -> dict:
    s = log_scale(x)
    a, b = fit_log_line(np.log1p(x / s), np.log1p(y))
    return {"scale": s, "intercept": a, "slope": b}


def fit_kernel(rows: LevelRows, grid=KERNEL_GRID) -> tuple[float, list]:
    """Kernel scale maximizing the mean ``r2_log`` over sides and horizons on ``rows``
    (all of them: pass calibration rows only); returns ``(scale, [(scale, r2), ...])``."""
    c = rows.cols
    hs = np.unique(c["horizon_h"])
    curve = []
    for scale in grid:
        sl = shapeless(c["map_total_long_usd"], c["map_total_short_usd"], c["price_usd"],
                       c["path_low_usd"], c["path_high_usd"], scale)
        vals = []
        for j, sd in enumerate(SIDES):
            for h in hs:
                m = c["horizon_h"] == h
                x, y = sl[j][m], c[f"realized_{sd}_usd"][m]
                ln = _line(x, y)
                vals.append(r2(np.log1p(y), ln["intercept"] + ln["slope"]
                               * np.log1p(x / ln["scale"])))
        curve.append((float(scale), float(np.nanmean(vals))))
    best = max(range(len(curve)), key=lambda k: (np.nan_to_num(curve[k][1], nan=-np.inf), -k))
    return curve[best][0], curve


@dataclass(frozen=True, slots=True)
class LevelFit:
    """Everything fitted, on the calibration rows only.

    Attributes
    ----------
    kernel_scale : float
        Shapeless kernel scale (fraction of price).
    kernel_curve : tuple of (float, float)
        ``(scale, mean calibration r2_log)`` over :data:`KERNEL_GRID`.
    lines : dict
        ``{predictor: {H: {side: {"scale", "intercept", "slope"}}}}``: the ``r2_log``
        transform scale and line of each predictor.
    n_rows : dict
        ``{H: calibration rows fitted}``.
    calibration_end_ms : int
        The cut: nothing opening at or after it was seen.
    """

    kernel_scale: float
    kernel_curve: tuple
    lines: dict
    n_rows: dict
    calibration_end_ms: int

    def to_dict(self) -> dict:
        """JSON-ready."""
        return {"kernel": "exponential: total x (1 - exp(-excursion / scale))",
                "kernel_scale": self.kernel_scale,
                "kernel_criterion": "mean calibration r2_log over sides and horizons",
                "kernel_curve": [list(p) for p in self.kernel_curve],
                "lines": {p: {str(h): v for h, v in d.items()} for p, d in self.lines.items()},
                "n_rows": {str(h): n for h, n in self.n_rows.items()},
                "calibration_end_ms": self.calibration_end_ms}


def fit_levels(data: WindowData, model: LiquidationModel, *, horizons=HORIZONS_H,
               warmup_hours: float | None = None) -> LevelFit:
    """Fit the kernel scale and every ``r2_log`` line on the calibration span only.

    The window is cut at its calibration end first; the engine, both maps and the rows are
    built from the bars before the cut (so every row is a calibration row).

    Raises
    ------
    ConfigError
        When the window has no calibration span.
    """
    from liqmap.scorecard.calibrate import slice_before

    cut = int(data.spec.calibration_end_ms)
    if int(data.bars.ts_ms[0]) >= cut:
        raise ConfigError(f"window {data.spec.name} has no calibration span; use window A")
    past = slice_before(data, cut)
    maps, _ = standing_maps(model, past.bars)
    vendor = vendor_maps(past.bars, maps, venue=model.venue)
    rows = level_rows(past, maps, vendor, horizons=horizons, warmup_hours=warmup_hours)
    scale, curve = fit_kernel(rows)
    rows = level_rows(past, maps, vendor, horizons=horizons, warmup_hours=warmup_hours,
                      kernel_scale=scale)
    hs = [int(h) for h in np.unique(rows.cols["horizon_h"])]
    lines = {name: {h: {sd: _line(rows.cols[f"{stem}_{sd}_usd"][rows.where(h)],
                                  rows.cols[f"realized_{sd}_usd"][rows.where(h)])
                        for sd in SIDES} for h in hs}
             for name, stem in PREDICTORS.items()}
    return LevelFit(scale, tuple(curve), lines,
                    {h: int(rows.where(h).sum()) for h in hs}, cut)
