"""Scores of the level test (:mod:`liqmap.scorecard.levels`): per span, horizon, side.

Every predictor (the map, the shapeless map, ``vendor-style``) is scored by the
scorecard's own code (:func:`liqmap.scorecard.metrics.side_metrics`): Spearman, Pearson on
logs, ``r2_log`` of the line fitted on the calibration rows (:class:`LevelFit`), the share of
realized USD in the predictor's top decile, predicted / realized totals. Ties take average
ranks (Spearman) and share the cut-off places (top decile); rows with zero realized or zero
predicted stay in (``log1p``) and are counted by :func:`zeros_report`.

**The map against the shapeless map** (:func:`verdicts`): ``beats`` when the map is
strictly better on all four of spearman, pearson_log, r2_log and top_decile_share; the
Spearman difference gets a 95 % interval from a moving-block bootstrap of the rows in time
order (blocks of ``max(H, 24)`` rows: the ``H``-hour outcomes of neighbouring hours
overlap), both predictors scored on the same draws.

**The no-book combiner** (:func:`no_book_comparison`): the hourly combiner of
:mod:`liqmap.scorecard.combine` fitted with the book set to zero (excursion and range x
open interest only, :func:`liqmap.scorecard.combine.without_book`), by the shipped
combiner's own code and ``offset``, on the calibration span only; scored beside the shipped
preset's combiner on the window's hourly bars.
"""

from __future__ import annotations

import numpy as np

from liqmap.core.vendor import VENDOR_STYLE
from liqmap.scorecard.levels import PREDICTORS, SIDES, LevelFit, LevelRows
from liqmap.scorecard.metrics import METRIC_NAMES, compare, score_predictor, side_metrics
from liqmap.studies.reaction import bootstrap_spearman

__all__ = ["SPANS", "no_book_comparison", "score_levels", "vendor_report", "verdicts",
           "zeros_report"]

SPANS = ("calibration", "scoring")
SMALL_USD = 1_000.0


def _span_mask(rows: LevelRows, h: int, span: str) -> np.ndarray:
    return rows.where(h, span == "scoring")


def _horizons(rows: LevelRows) -> list[int]:
    return [int(h) for h in np.unique(rows.cols["horizon_h"])]


def score_levels(rows: LevelRows, fit: LevelFit) -> dict:
    """``{span: {H: {side: {predictor: SideMetrics}}}}`` with ``fit``'s scales and lines
    (spans or horizons without rows are left out)."""
    out: dict = {}
    for span in SPANS:
        for h in _horizons(rows):
            m = _span_mask(rows, h, span)
            if not m.any() or h not in fit.lines["map"]:
                continue
            y = {sd: rows.cols[f"realized_{sd}_usd"][m] for sd in SIDES}
            out.setdefault(span, {})[h] = {sd: {
                name: side_metrics(rows.cols[f"{stem}_{sd}_usd"][m], y[sd],
                                   scale=fit.lines[name][h][sd]["scale"],
                                   line=(fit.lines[name][h][sd]["intercept"],
                                         fit.lines[name][h][sd]["slope"]), usd=True)
                for name, stem in PREDICTORS.items()} for sd in SIDES}
    return out


def _statement(span: str, h: int, side: str, beats: bool, wins, d_rho: float,
               ci: tuple[float, float]) -> str:
    verdict = "beats" if beats else "does not beat"
    sig = ("above zero" if ci[0] > 0 else "below zero" if ci[1] < 0 else "covering zero")
    return (f"{span}, {h} h, {side}: the map {verdict} the shapeless map (better on "
            f"{len(wins)}/{len(METRIC_NAMES)}: {', '.join(wins) or 'none'}); Spearman "
            f"{d_rho:+.3f} (95% CI {ci[0]:+.3f} to {ci[1]:+.3f}, {sig})")


def verdicts(rows: LevelRows, metrics: dict, *, n_boot: int = 1000, seed: int = 13) -> dict:
    """Map against shapeless per span, horizon and side (module docstring)."""
    out: dict = {}
    for span, by_h in metrics.items():
        for h, by_side in by_h.items():
            m = _span_mask(rows, h, span)
            for sd, preds in by_side.items():
                mp, sl = preds["map"], preds["shapeless"]
                cmp_ = compare(mp, sl)
                boot = bootstrap_spearman(
                    [rows.cols[f"predicted_{sd}_usd"][m], rows.cols[f"shapeless_{sd}_usd"][m]],
                    rows.cols[f"realized_{sd}_usd"][m], n_boot, max(h, 24), seed)
                d = boot[:, 0] - boot[:, 1]
                ci = ((float(np.nanquantile(d, 0.025)), float(np.nanquantile(d, 0.975)))
                      if np.isfinite(d).any() else (np.nan, np.nan))
                d_rho = mp.spearman - sl.spearman
                out.setdefault(span, {}).setdefault(h, {})[sd] = {
                    "beats": cmp_.beats, "wins": list(cmp_.wins),
                    "spearman_diff": d_rho, "spearman_diff_ci": list(ci),
                    "r2_log_diff": mp.r2_log - sl.r2_log,
                    "top_decile_share_diff": mp.top_decile_share - sl.top_decile_share,
                    "statement": _statement(span, h, sd, cmp_.beats, cmp_.wins, d_rho, ci)}
    return out


def zeros_report(rows: LevelRows) -> dict:
    """Counts of zeros and ties per span, horizon and side: rows, realized zero and under
    $1k, each predictor's zero rows and the share of realized USD falling on them."""
    out: dict = {}
    for span in SPANS:
        for h in _horizons(rows):
            m = _span_mask(rows, h, span)
            if not m.any():
                continue
            for sd in SIDES:
                y = rows.cols[f"realized_{sd}_usd"][m]
                rec: dict[str, float | None] = {"rows": int(m.sum()),
                                                "realized_zero": int((y == 0).sum()),
                                                "realized_under_1k": int((y < SMALL_USD).sum())}
                for name, stem in PREDICTORS.items():
                    zero = rows.cols[f"{stem}_{sd}_usd"][m] == 0
                    rec[f"{name}_zero"] = int(zero.sum())
                    rec[f"{name}_zero_realized_share"] = (
                        float(y[zero].sum() / y.sum()) if y.sum() > 0 else None)
                out.setdefault(span, {}).setdefault(h, {})[sd] = rec
    return out


def vendor_report(metrics: dict) -> dict:
    """``vendor-style`` overstatement: its predicted / realized totals, and its totals over
    the map's, per span, horizon and side."""
    out: dict = {}
    for span, by_h in metrics.items():
        for h, by_side in by_h.items():
            for sd, p in by_side.items():
                v, m = p[VENDOR_STYLE].total_ratio, p["map"].total_ratio
                out.setdefault(span, {}).setdefault(h, {})[sd] = {
                    "vendor_over_realized": v, "map_over_realized": m,
                    "vendor_over_map": v / m if m and np.isfinite(m) and m > 0 else None}
    return out


def no_book_comparison(data, preset, book_per_bar: dict) -> dict:
    """The shipped combiner and the no-book combiner on the window's scored hourly bars.

    ``book_per_bar`` is the shipped engine's consumed notional per engine bar
    (``{"long", "short"}``). The no-book fit sees the calibration span only (the window is
    cut first). Returns ``{span: {side: {"combiner": SideMetrics, "no_book": ...}}}`` and
    the fitted no-book coefficients.
    """
    from liqmap.scorecard.calibrate import slice_before
    from liqmap.scorecard.combine import fit_side, without_book
    from liqmap.scorecard.frame import score_frame

    frame = score_frame(data)
    book = {sd: frame.to_score(book_per_bar[sd]) for sd in SIDES}
    past = score_frame(slice_before(data, data.spec.calibration_end_ms))
    p_in = without_book(past.inputs({sd: np.zeros(past.ts_ms.size) for sd in SIDES}))
    offset = float(preset.selection.get("best", {}).get("offset", 1.0))
    k = past.scored
    fits = {sd: fit_side({f: v[k] for f, v in p_in[sd].items()}, past.realized[sd][k], offset)
            for sd in SIDES}
    full = frame.inputs(book)
    preds = {"combiner": preset.combine(full),
             "no_book": {sd: fits[sd].predict(without_book(full)[sd]) for sd in SIDES}}
    s = frame.scored
    sm = frame.is_scoring[s]
    out: dict = {sp: {sd: {} for sd in SIDES} for sp in SPANS}
    for name, pr in preds.items():
        for sd in SIDES:
            res = score_predictor(pr[sd][s], frame.realized[sd][s], ~sm, sm, usd=True)
            for sp in SPANS:
                out[sp][sd][name] = res[sp]
    return {"metrics": out, "no_book_fit": {sd: f.to_dict() for sd, f in fits.items()},
            "offset": offset}
