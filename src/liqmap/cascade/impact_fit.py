"""Calibrate the impact constants on window C's Hyperliquid trades and L2 books.

Two fits, each with a block-bootstrap uncertainty:

- **Square-root law** (:func:`fit_sqrt_impact`): trades are cut into fixed intervals (5 min
  by default); per interval the signed aggressor flow ``Q`` (USD, buys minus sells) and the
  log return ``r`` of the last trade price. ``sigma_daily`` is the interval-return standard
  deviation scaled to a day, ``V_daily`` the mean USD volume per day, both measured on the
  same trades. ``Y`` is the least-squares slope of ``r`` on
  ``sigma_daily * sign(Q) * sqrt(|Q| / V_daily)`` through the origin. The free exponent
  ``delta`` of ``r ~ A sign(Q)|Q|**delta`` is fitted on a grid as a check of the 1/2 law.
  Note: this is the impact of *aggregate* flow over an interval, not of one metaorder, so
  ``Y`` depends on the interval (reported for 1, 5, 15 and 60 minutes).
- **Depth profile** (:func:`fit_depth_profile`): per L2 snapshot the cumulative USD depth
  within ``x`` of mid, per side, on a grid of distances inside the visible book (the 20
  levels reach about 3 bps); ``log(median depth)`` is regressed on ``log x`` giving ``beta``
  and the depth at a reference distance; ``depth_1pct_usd`` extrapolates it to 1 % (an
  extrapolation over ~1.5 decades: treat it as a model assumption, not a measurement).

Bootstraps resample blocks (6 h of intervals; 1 h of snapshots) with replacement.
Calibration rule: only window C's Hyperliquid data is used here.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from liqmap._exceptions import ConfigError, DataError
from liqmap.core.impact import DepthProfileImpact, SqrtImpact
from liqmap.outputs import atomic_write_text
from liqmap.timeutil import MS_PER_DAY, MS_PER_HOUR, iso_ms

__all__ = [
    "PRESET_NAME",
    "DepthFit",
    "SqrtFit",
    "calibrate",
    "fit_depth_profile",
    "fit_sqrt_impact",
    "interval_flows",
    "load_impact_preset",
    "preset_models",
    "save_preset",
]

PRESET_NAME = "impact_hyperliquid_2026-06"
_DATA = Path(__file__).resolve().parents[1] / "data"
# exponents tried by the grid search of _exponent_of: 0.20, 0.21, ..., 1.20 (read-only)
_EXPONENT_GRID = np.arange(0.2, 1.201, 0.01)
_EXPONENT_GRID.flags.writeable = False


@dataclass(frozen=True, slots=True)
class SqrtFit:
    """Fitted square-root law (CI = 2.5 / 97.5 % bootstrap percentiles)."""

    y: float
    y_se: float
    y_ci95: tuple[float, float]
    exponent: float
    exponent_ci95: tuple[float, float]
    sigma_daily: float
    volume_daily_usd: float
    interval_s: float
    n_intervals: int
    r2: float
    start_ms: int
    end_ms: int


@dataclass(frozen=True, slots=True)
class DepthFit:
    """Fitted depth profile ``depth(x) = depth_ref_usd * (x / x_ref)**beta`` (one side)."""

    beta: float
    beta_ci95: tuple[float, float]
    x_ref_bps: float
    depth_ref_usd: float
    depth_ref_ci95: tuple[float, float]
    depth_1pct_usd: float
    depth_1pct_ci95: tuple[float, float]
    x_max_bps: float
    n_snapshots: int
    start_ms: int
    end_ms: int


def interval_flows(ts_ms, px_usd, signed_usd, interval_ms: int):
    """Per fixed interval: ``(start_ms, flow_usd, log_return)`` of consecutive non-empty ones.

    The return of interval ``i`` is ``log(last px of i / last px of i-1)``; intervals
    without trades (or after one) are dropped.
    """
    ts = np.asarray(ts_ms, np.int64)
    if ts.size < 3:
        raise DataError("fewer than 3 trades; pass a longer slice of trades")
    b = (ts - ts[0]) // interval_ms
    n = int(b[-1]) + 1
    flow = np.bincount(b, weights=signed_usd, minlength=n)
    last = np.full(n, np.nan)
    idx = np.r_[np.nonzero(np.diff(b))[0], b.size - 1]
    last[b[idx]] = np.asarray(px_usd)[idx]
    r = np.diff(np.log(last))
    ok = np.isfinite(r)
    start = ts[0] + np.arange(1, n) * interval_ms
    return start[ok], flow[1:][ok], r[ok]


def _y_of(f, r, sigma, vol):
    x = sigma * np.sign(f) * np.sqrt(np.abs(f) / vol)
    return float(x @ r / (x @ x)), x


def _exponent_of(f, r, grid=_EXPONENT_GRID):
    a, s = np.abs(f), np.sign(f)
    best, arg = np.inf, np.nan
    for d in grid:
        z = s * a**d
        c = z @ r / (z @ z)
        sse = float(((r - c * z) ** 2).sum())
        if sse < best:
            best, arg = sse, float(d)
    return arg


def _blocks(start_ms, block_ms: int, rng: np.random.Generator):
    blk = (start_ms - start_ms[0]) // block_ms
    ids = np.unique(blk)
    pick = rng.choice(ids, size=ids.size, replace=True)
    return np.concatenate([np.nonzero(blk == i)[0] for i in pick])


def fit_sqrt_impact(trades, *, interval_s: float = 300.0, n_boot: int = 200,
                    block_hours: float = 6.0, seed: int = 0) -> SqrtFit:
    """Fit ``Y`` (and the free exponent) of the square-root law on trades.

    Parameters
    ----------
    trades : liqmap.venues.hyperliquid.files.HLTrades
    interval_s : float, default 300
    n_boot : int, default 200
        Bootstrap resamples (blocks of ``block_hours``).
    seed : int

    Returns
    -------
    SqrtFit
    """
    if interval_s <= 0 or n_boot < 2:
        raise ConfigError("interval_s must be > 0 and n_boot >= 2")
    iv = int(interval_s * 1000)
    start, f, r = interval_flows(trades.ts_ms, trades.px_usd, trades.signed_usd, iv)
    days = (trades.ts_ms[-1] - trades.ts_ms[0]) / MS_PER_DAY
    vol = float(trades.notional_usd.sum() / days)
    per_day = MS_PER_DAY / iv
    sigma = float(np.std(r) * np.sqrt(per_day))
    y, x = _y_of(f, r, sigma, vol)
    r2 = 1.0 - float(((r - y * x) ** 2).sum() / ((r - r.mean()) ** 2).sum())
    rng = np.random.default_rng(seed)
    ys, ds = [], []
    for _ in range(n_boot):
        i = _blocks(start, int(block_hours * MS_PER_HOUR), rng)
        ys.append(_y_of(f[i], r[i], float(np.std(r[i]) * np.sqrt(per_day)), vol)[0])
        ds.append(_exponent_of(f[i], r[i]))
    q = lambda a: (float(np.percentile(a, 2.5)), float(np.percentile(a, 97.5)))  # noqa: E731
    return SqrtFit(y, float(np.std(ys)), q(ys), _exponent_of(f, r), q(ds), sigma, vol,
                   float(interval_s), int(r.size), r2, int(trades.ts_ms[0]), int(trades.ts_ms[-1]))


def _side_depth(px, sz, mid, grid_x):
    """Cumulative depth (N, G) within each grid distance; NaN past the visible book."""
    x = np.abs(np.log(px / mid[:, None]))
    cum = np.cumsum(np.nan_to_num(px * sz), axis=1)
    out = np.full((px.shape[0], grid_x.size), np.nan)
    for i in range(px.shape[0]):
        ok = np.isfinite(x[i])
        xi, ci = x[i][ok], cum[i][ok]
        inside = grid_x <= xi[-1]
        out[i, inside] = np.interp(grid_x[inside], np.r_[0.0, xi], np.r_[0.0, ci])
    return out


def _profile(depth, grid_x, x_ref):
    med = np.nanmedian(depth, axis=0)
    ok = np.isfinite(med) & (med > 0)
    beta, c = np.polyfit(np.log(grid_x[ok]), np.log(med[ok]), 1)
    return float(beta), float(np.exp(c) * x_ref**beta)


def fit_depth_profile(books, *, grid_bps=(0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5), x_ref_bps: float = 2.0,
                      n_boot: int = 200, seed: int = 0) -> DepthFit:
    """Fit the one-side depth profile on L2 snapshots (both sides pooled).

    Parameters
    ----------
    books : liqmap.venues.hyperliquid.files.HLBooks
    grid_bps : sequence of float
        Distances from mid (basis points) inside the visible book.
    x_ref_bps : float
        Reference distance of the reported depth.
    n_boot : int
        Bootstrap resamples over 1-hour blocks of snapshots.

    Returns
    -------
    DepthFit
    """
    g = np.asarray(grid_bps, np.float64) * 1e-4
    mid = books.mid_usd
    d = np.vstack([_side_depth(books.ask_px_usd, books.ask_sz_btc, mid, g),
                   _side_depth(books.bid_px_usd, books.bid_sz_btc, mid, g)])
    ts2 = np.r_[books.ts_ms, books.ts_ms]
    order = np.argsort(ts2, kind="stable")
    d, ts2 = d[order], ts2[order]
    xr = x_ref_bps * 1e-4
    beta, dref = _profile(d, g, xr)
    rng = np.random.default_rng(seed)
    bs = np.array([_profile(d[_blocks(ts2, MS_PER_HOUR, rng)], g, xr) for _ in range(n_boot)])
    d1 = bs[:, 1] * (0.01 / xr) ** bs[:, 0]
    q = lambda a: (float(np.percentile(a, 2.5)), float(np.percentile(a, 97.5)))  # noqa: E731
    xmax = float(np.nanmedian(np.abs(np.log(books.ask_px_usd[:, -1] / mid))) * 1e4)
    return DepthFit(beta, q(bs[:, 0]), float(x_ref_bps), dref, q(bs[:, 1]),
                    float(dref * (0.01 / xr) ** beta), q(d1), xmax, len(books),
                    int(books.ts_ms[0]), int(books.ts_ms[-1]))


def calibrate(root=None, *, n_boot: int = 200, l2_every: int = 10,
              intervals_s=(60.0, 300.0, 900.0, 3600.0), main_interval_s: float = 300.0) -> dict:
    """Run both fits on the window-C Hyperliquid files; return the preset dictionary."""
    from liqmap.venues.hyperliquid.files import hl_files, read_l2, read_trades

    trades = read_trades(hl_files("trades", root))
    books = read_l2(hl_files("l2", root), every=l2_every)
    fits = {s: fit_sqrt_impact(trades, interval_s=s, n_boot=n_boot) for s in intervals_s}
    main = fits.get(main_interval_s) or fit_sqrt_impact(trades, interval_s=main_interval_s,
                                                        n_boot=n_boot)
    depth = fit_depth_profile(books, n_boot=n_boot)
    return {
        "name": PRESET_NAME, "venue": "hyperliquid", "symbol": "BTC/USDC:USDC",
        "source": "raw/hyperliquid_hlreaper (trades, l2), window C",
        "span": {"trades": [iso_ms(main.start_ms), iso_ms(main.end_ms)],
                 "l2": [iso_ms(depth.start_ms), iso_ms(depth.end_ms)]},
        "n_boot": n_boot, "trades_dropped_overlap": trades.dropped_overlap,
        "sqrt": asdict(main), "sqrt_by_interval": {str(int(s)): asdict(f) for s, f in fits.items()},
        "depth": asdict(depth),
    }


def save_preset(preset: dict, path: str | Path | None = None) -> Path:
    """Write the preset JSON (default: the shipped ``liqmap/data/<PRESET_NAME>.json``)."""
    path = Path(path) if path is not None else _DATA / f"{PRESET_NAME}.json"
    return atomic_write_text(path, json.dumps(preset, indent=1) + "\n")


def load_impact_preset(name_or_path: str | Path = PRESET_NAME) -> dict:
    """Load a shipped preset by name, or a preset JSON file by path.

    Raises
    ------
    ConfigError
        If no such preset exists.
    """
    p = Path(name_or_path)
    if not p.suffix:
        p = _DATA / f"{name_or_path}.json"
    if not p.is_file():
        raise ConfigError(f"impact preset {str(name_or_path)!r} not found; use {PRESET_NAME!r} "
                          "or a path to a JSON written by `liqmap calibrate-impact --save`")
    return json.loads(p.read_text())


def preset_models(preset: dict | None = None, *, volume_daily_usd: float | None = None,
                  withdrawal: float = 0.0) -> dict:
    """``{"sqrt": SqrtImpact, "depth": DepthProfileImpact}`` from a preset (default shipped).

    ``Y``, ``sigma_daily`` and ``beta`` carry over between venues; the volume and the depth
    do not. ``volume_daily_usd`` (e.g. the daily USD volume of the bars the map was built
    from) replaces the preset's Hyperliquid volume and scales the depth in proportion
    (assumption: resting depth is proportional to traded volume).
    """
    p = preset if preset is not None else load_impact_preset()
    s, d = p["sqrt"], p["depth"]
    vol = float(volume_daily_usd) if volume_daily_usd is not None else s["volume_daily_usd"]
    scale = vol / s["volume_daily_usd"]
    return {"sqrt": SqrtImpact(s["y"], s["sigma_daily"], vol),
            "depth": DepthProfileImpact(d["depth_1pct_usd"] * scale, d["beta"], withdrawal)}
