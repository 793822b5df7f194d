"""The readers' claims, tested on the standing maps of :mod:`liqmap.scorecard.levels`.

**Imbalance** (:func:`imbalance_claims`). At every scored hour ``t`` the map's short/long
imbalance within 10 % and 20 % (:func:`liqmap.core.mapstats.imbalance`, as ``liqmap``
prints it) is read as ``log((shorts + $1) / (longs + $1))``; over the next ``H`` of
:data:`CLAIM_HORIZONS_H` (24 h, 7 d) it is set against

- the realized ratio ``log((short + $1k) / (long + $1k))`` (the $1k keeps quiet hours,
  often zero, from dominating; rows with both sides under $1k are counted);
- the next move ``log(close[t + H] / close[t])``;
- the sign reading "price goes to the heavier side": the share of hours where the sign of
  the move matches the sign of the imbalance (0.5 for a tie: imbalance exactly even or no
  move), minus one half.

Effects are Spearman correlations (ties at average ranks) and the share minus 0.5, with
95 % intervals from a moving-block bootstrap over hours in time order (blocks of ``H``
hours: neighbouring outcomes overlap). Medians of the map's, the ``vendor-style`` map's and
the realized ratios are printed next to them.

**Clusters and walls** (:func:`wall_claims`). At 00:00 UTC each day the map's largest
cluster and its densest 2 %-wide zone lying 1-5 % from the price
(:func:`liqmap.studies.level_study.largest_cluster`,
:func:`~liqmap.studies.level_study.densest_wall`) are followed for ``H`` hours: hit rate
and realized burst against the same distance at the other days of the span
(:func:`liqmap.studies.level_study.wall_study`).

Each span is tested on its own rows only (controls drawn from the same span). Nothing here
is fitted.
"""

from __future__ import annotations

import numpy as np

from liqmap.core import mapstats
from liqmap.core.records import LiqMap
from liqmap.scorecard.levels import LevelRows, StandingMaps
from liqmap.studies.level_study import densest_wall, largest_cluster, wall_study
from liqmap.studies.reaction import ReactionParams, block_bootstrap_ci, bootstrap_spearman
from liqmap.timeutil import MS_PER_DAY

__all__ = ["CLAIM_HORIZONS_H", "IMBALANCE_BANDS", "imbalance_claims", "wall_claims"]

CLAIM_HORIZONS_H = (24, 168)
IMBALANCE_BANDS = (0.10, 0.20)
RATIO_PSEUDO_USD = 1_000.0
_SPANS = ("calibration", "scoring")
_N_BOOT = 2000
_SEED = 13


def _map(maps: StandingMaps, close, i: int) -> LiqMap:
    return LiqMap(ts_ms=0, price_usd=float(close[i]), price_bins_usd=maps.price_bins_usd,
                  long_usd=maps.long_usd[i], short_usd=maps.short_usd[i])


def log_imbalance(maps: StandingMaps, close, idx, band: float) -> np.ndarray:
    """``log((shorts + 1) / (longs + 1))`` within ``band`` (fraction) of each map ``idx``."""
    out = np.empty(len(idx))
    for k, i in enumerate(idx):
        im = mapstats.imbalance(_map(maps, close, int(i)), band, band)
        out[k] = np.log((im.short_usd + 1.0) / (im.long_usd + 1.0))
    return out


def _rho_effect(name: str, x, y, h: int) -> dict:
    x, y = np.asarray(x, float), np.asarray(y, float)
    from scipy.stats import spearmanr

    rho = float(spearmanr(x, y)[0]) if x.size > 2 and np.ptp(x) and np.ptp(y) else np.nan
    boot = bootstrap_spearman([x], y, _N_BOOT, h, _SEED)[:, 0]
    lo, hi = ((float(np.nanquantile(boot, 0.025)), float(np.nanquantile(boot, 0.975)))
              if np.isfinite(boot).any() else (np.nan, np.nan))
    return {"name": name, "effect": rho, "ci_low": lo, "ci_high": hi, "n": int(x.size),
            "unit": "Spearman"}


def _sign_effect(name: str, x, ret, h: int) -> dict:
    agree = np.where((x == 0) | (ret == 0), 0.5, (np.sign(x) == np.sign(ret)).astype(float))
    lo, hi = block_bootstrap_ci(agree - 0.5, _N_BOOT, h, _SEED)
    return {"name": name, "effect": float(agree.mean() - 0.5) if agree.size else np.nan,
            "ci_low": lo, "ci_high": hi, "n": int(agree.size), "unit": "share - 0.5",
            "ties": int(((x == 0) | (ret == 0)).sum())}


def _say(e: dict) -> str:
    if not (e["n"] and np.isfinite(e["ci_low"])):
        return f"{e['name']}: too few rows (n={e['n']}) to say anything."
    verdict = ("above zero" if e["ci_low"] > 0 else "below zero" if e["ci_high"] < 0
               else "not distinguishable from zero")
    return (f"{e['name']}: {e['effect']:+.3f} ({e['unit']}, 95% CI {e['ci_low']:+.3f} to "
            f"{e['ci_high']:+.3f}, n={e['n']}): {verdict}.")


def _imbalance_one(rows: LevelRows, imb: dict, close, h: int, span: str) -> list[dict]:
    m = rows.where(h, span == "scoring")
    i = rows.cols["bar_idx"][m]
    s, lg = rows.cols["realized_short_usd"][m], rows.cols["realized_long_usd"][m]
    y = np.log((s + RATIO_PSEUDO_USD) / (lg + RATIO_PSEUDO_USD))
    ret = np.log(close[i + h] / close[i])
    out = []
    for band in IMBALANCE_BANDS:
        x, xv = imb["map", band][i], imb["vendor", band][i]
        tag = f"imbalance_{int(round(band * 100))}pct_{h}h"
        recs = [_rho_effect(f"{tag}_vs_realized_ratio", x, y, h),
                _rho_effect(f"{tag}_vs_next_move", x, ret, h),
                _sign_effect(f"{tag}_toward_heavier_side", x, ret, h)]
        med = {"map_ratio_median": float(np.exp(np.median(x))) if x.size else None,
               "vendor_ratio_median": float(np.exp(np.median(xv))) if x.size else None,
               "realized_ratio_median": float(np.exp(np.median(y))) if y.size else None,
               "rows_both_under_1k": int(((s < RATIO_PSEUDO_USD)
                                          & (lg < RATIO_PSEUDO_USD)).sum())}
        out += [{**r, **med, "span": span, "horizon_h": h, "band": band,
                 "statement": _say(r)} for r in recs]
    return out


def imbalance_claims(rows: LevelRows, maps: StandingMaps, vendor: StandingMaps,
                     close) -> list[dict]:
    """Imbalance effects per span, horizon and band (module docstring)."""
    close = np.asarray(close, float)
    need = np.unique(rows.cols["bar_idx"][np.isin(rows.cols["horizon_h"], CLAIM_HORIZONS_H)])
    imb = {}
    for name, mp in (("map", maps), ("vendor", vendor)):
        for band in IMBALANCE_BANDS:
            imb[name, band] = np.full(close.size, np.nan)
            imb[name, band][need] = log_imbalance(mp, close, need, band)
    return [rec for span in _SPANS for h in CLAIM_HORIZONS_H
            if rows.where(h, span == "scoring").any()
            for rec in _imbalance_one(rows, imb, close, h, span)]


def _decisions(rows: LevelRows, h: int, span: str) -> np.ndarray:
    m = rows.where(h, span == "scoring") & (rows.cols["ts_ms"] % MS_PER_DAY == 0)
    return rows.cols["bar_idx"][m]


def wall_claims(rows: LevelRows, maps: StandingMaps, bars, realized_long_usd,
                realized_short_usd) -> dict:
    """``{span: {H: {"cluster": wall_study, "zone": wall_study}}}`` (module docstring)."""
    out: dict = {}
    c = np.asarray(bars.close, float)
    for span in _SPANS:
        for h in CLAIM_HORIZONS_H:
            dec = _decisions(rows, h, span)
            if dec.size < 3:
                continue
            p = ReactionParams(horizon=h, block=max(5, h // 24))
            found = {"cluster": [largest_cluster(_map(maps, c, s), p) for s in dec],
                     "zone": [densest_wall(_map(maps, c, s), p) for s in dec]}
            res = {}
            for kind, lw in found.items():
                r = wall_study(bars.high, bars.low, c, realized_long_usd, realized_short_usd,
                               dec, [x[0] for x in lw], [x[1] for x in lw], p, kind)
                r["effects"] = [_effect_dict(e, p) for e in r["effects"]]
                res[kind] = r
            out.setdefault(span, {})[h] = res
    return out


def _effect_dict(e, p: ReactionParams) -> dict:
    from liqmap.studies.level_study import statement

    d = {"name": e.name, "effect": e.effect, "ci_low": e.ci_low, "ci_high": e.ci_high,
         "n": e.n, "mean_event": e.mean_event, "mean_control": e.mean_control,
         "statement": statement(e, p)}
    if e.name.endswith("_burst_log"):
        d["burst_ratio"] = float(np.exp(e.effect)) if np.isfinite(e.effect) else None
    return d
