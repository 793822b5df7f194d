"""``run_levels``: the whole level test of one window, and its files.

Runs the shipped preset's engine once over the window with one map per bar
(:mod:`liqmap.scorecard.levels`), the ``vendor-style`` map on the same grid, fits the
shapeless kernel and every ``r2_log`` line on the calibration span only
(:func:`~liqmap.scorecard.levels.fit_levels`), scores both spans
(:mod:`liqmap.scorecard.levels_metrics`), tests the readers' claims
(:mod:`liqmap.scorecard.levels_claims`) and puts the hourly no-book combiner beside the
shipped one. ``calibration_only=True`` cuts the window at its calibration end first, so
that a design can be developed without reading the scoring span.

Files: ``levels-<W>.csv`` (:data:`~liqmap.scorecard.levels.CSV_HEAD_LEVELS`, then the map's
per-side totals) and ``metrics-levels-<W>.json`` (:meth:`LevelResult.summary`).

>>> res = run_levels("A")                        # doctest: +SKIP
>>> res.write("scorecard")                       # doctest: +SKIP
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from liqmap.core.mapstats import jsonable
from liqmap.core.vendor import VENDOR_LEVERAGE, VENDOR_STYLE
from liqmap.model import LiquidationModel
from liqmap.outputs import atomic_path, atomic_write_text
from liqmap.scorecard.data import WindowData, load_window
from liqmap.scorecard.levels import (
    CSV_HEAD_LEVELS,
    HORIZONS_H,
    LevelFit,
    LevelRows,
    fit_levels,
    level_rows,
    standing_maps,
    vendor_maps,
)
from liqmap.scorecard.levels_claims import imbalance_claims, wall_claims
from liqmap.scorecard.levels_metrics import (
    no_book_comparison,
    score_levels,
    vendor_report,
    verdicts,
    zeros_report,
)
from liqmap.scorecard.preset import FittedPreset, load_preset
from liqmap.timeutil import iso_minute

__all__ = ["LevelResult", "run_levels"]


def _metrics_dict(metrics: dict) -> dict:
    return {sp: {str(h): {sd: {p: m.to_dict() for p, m in preds.items()}
                          for sd, preds in by_side.items()} for h, by_side in by_h.items()}
            for sp, by_h in metrics.items()}


def _by_str_h(d: dict) -> dict:
    return {sp: {str(h): v for h, v in by_h.items()} for sp, by_h in d.items()}


@dataclass(frozen=True, slots=True)
class LevelResult:
    """Read-only result of :func:`run_levels` (see the module docstring)."""

    window: str
    model: LiquidationModel
    preset: str
    fit: LevelFit
    rows: LevelRows
    metrics: dict
    verdict: dict
    zeros: dict
    vendor: dict
    claims: dict
    no_book: dict
    seconds: dict
    calibration_only: bool
    notes: tuple[str, ...]
    venue: str = "binance"
    symbol: str = "BTC/USDT:USDT"

    def summary(self) -> dict:
        """JSON-ready: definitions, fit, metrics, verdicts, vendor overstatement, zeros,
        claims, the no-book combiner, run times."""
        c = self.rows.cols
        spans = {sp: {"rows": int((c["is_scoring"] == (sp == "scoring")).sum()),
                      "first_t": iso_minute(int(c["ts_ms"][c["is_scoring"] == (sp == "scoring")]
                                          .min())) if (c["is_scoring"] == (sp == "scoring"))
                      .any() else None} for sp in ("calibration", "scoring")}
        nb = self.no_book["metrics"]
        return jsonable({
            "window": self.window, "venue": self.venue, "symbol": self.symbol,
            "preset": self.preset, "model": self.model.to_dict(),
            "vendor_style": {"name": VENDOR_STYLE, "leverage": VENDOR_LEVERAGE,
                             "module": "liqmap.core.vendor"},
            "calibration_only": self.calibration_only,
            "horizons_h": sorted({int(h) for h in c["horizon_h"]}),
            "ts_ms_is": "t, the close of the bar after which the map stands",
            "calibration_end": iso_minute(self.fit.calibration_end_ms), "spans": spans,
            "dropped_rows": {str(h): v for h, v in self.rows.dropped.items()},
            "fit": self.fit.to_dict(), "metrics": _metrics_dict(self.metrics),
            "verdict": _by_str_h(self.verdict), "vendor_overstatement": _by_str_h(self.vendor),
            "zeros": _by_str_h(self.zeros), "claims": {
                "imbalance": self.claims["imbalance"],
                "walls": _by_str_h({sp: {h: {k: {kk: vv for kk, vv in r.items()
                                                 if kk != "decisions"}
                                             for k, r in by.items()}
                                         for h, by in v.items()}
                                    for sp, v in self.claims["walls"].items()})},
            "no_book_combiner": {
                "metrics": {sp: {sd: {k: m.to_dict() for k, m in v.items()}
                                 for sd, v in by.items()} for sp, by in nb.items()},
                "fit": self.no_book["no_book_fit"], "offset": self.no_book["offset"]},
            "run_seconds": self.seconds, "notes": list(self.notes)})

    def to_csv(self, path) -> Path:
        """One row per kept ``(t, H)``: :data:`CSV_HEAD_LEVELS`, then the map's totals."""
        import pandas as pd

        c = self.rows.cols
        cols = {k: c[k] for k in CSV_HEAD_LEVELS if k != "span"}
        cols["span"] = np.where(c["is_scoring"], "scoring", "calibration")
        cols["map_total_long_usd"] = c["map_total_long_usd"]
        cols["map_total_short_usd"] = c["map_total_short_usd"]
        with atomic_path(path) as tmp:
            pd.DataFrame(cols).to_csv(tmp, index=False)
        return Path(path)

    def to_json(self, path) -> Path:
        """Write :meth:`summary` as JSON."""
        return atomic_write_text(path, json.dumps(self.summary(), indent=1, allow_nan=False))

    def write(self, folder) -> dict:
        """``levels-<W>.csv`` and ``metrics-levels-<W>.json`` into ``folder`` (with a
        ``-calibration`` suffix when the scoring span was cut off)."""
        folder = Path(folder)
        tag = f"{self.window}-calibration" if self.calibration_only else self.window
        return {"csv": str(self.to_csv(folder / f"levels-{tag}.csv")),
                "metrics": str(self.to_json(folder / f"metrics-levels-{tag}.json"))}


def _notes(data: WindowData) -> tuple[str, ...]:
    return (*data.notes,
            "predicted: the standing map's notional between the price and the path's "
            "extreme; realized: summed over the same hours (all three venues, a lower "
            "bound; the map is built from Binance open interest only)",
            "rows overlap: the H-hour outcomes of neighbouring hours share H-1 hours, so "
            "intervals use block bootstraps of max(H, 24) hours")


def run_levels(window: str = "A", data_dir=None, *, preset: FittedPreset | str | None = None,
               data: WindowData | None = None, horizons=HORIZONS_H,
               warmup_hours: float | None = None, calibration_only: bool = False,
               claims: bool = True) -> LevelResult:
    """Run the level test (module docstring).

    Parameters
    ----------
    window, data_dir
        Scorecard window and shared data folder (ignored with ``data``).
    preset : FittedPreset or str, optional
        Whose engine draws the map and whose combiner is set beside the no-book one;
        default the shipped preset.
    data : WindowData, optional
        An already loaded window.
    horizons : sequence of int
        Horizons in bars (hours for window A).
    warmup_hours : float, optional
        Leading hours not scored; default the window's.
    calibration_only : bool
        Cut the window at its calibration end first (develop without the scoring span).
    claims : bool
        Run the readers' claims too.
    """
    from liqmap.scorecard.calibrate import slice_before

    t0 = time.perf_counter()
    preset = load_preset() if preset is None else (
        load_preset(preset) if isinstance(preset, str) else preset)
    data = data or load_window(window, data_dir)
    if calibration_only:
        data = slice_before(data, data.spec.calibration_end_ms)
    model = preset.model
    fit = fit_levels(data, model, horizons=horizons, warmup_hours=warmup_hours)
    t_fit = time.perf_counter()
    maps, est = standing_maps(model, data.bars)
    vendor = vendor_maps(data.bars, maps, venue=model.venue)
    rows = level_rows(data, maps, vendor, horizons=horizons, warmup_hours=warmup_hours,
                      kernel_scale=fit.kernel_scale)
    t_rows = time.perf_counter()
    metrics = score_levels(rows, fit)
    ver = verdicts(rows, metrics)
    t_score = time.perf_counter()
    cl: dict = {"imbalance": [], "walls": {}}
    if claims:
        cl = {"imbalance": imbalance_claims(rows, maps, vendor, data.bars.close),
              "walls": wall_claims(rows, maps, data.bars, data.realized_long_usd,
                                   data.realized_short_usd)}
    t_claims = time.perf_counter()
    nb = no_book_comparison(data, preset, {"long": est.predicted_long_usd,
                                           "short": est.predicted_short_usd})
    seconds = {"fit_calibration": t_fit - t0, "engine_map": maps.seconds,
               "engine_vendor": vendor.seconds, "maps_and_rows": t_rows - t_fit,
               "metrics_and_bootstrap": t_score - t_rows, "claims": t_claims - t_score,
               "no_book": time.perf_counter() - t_claims, "total": time.perf_counter() - t0,
               "standing_maps": int(maps.long_usd.shape[0])}
    return LevelResult(window=data.spec.name, model=model, preset=preset.name, fit=fit,
                       rows=rows, metrics=metrics, verdict=ver, zeros=zeros_report(rows),
                       vendor=vendor_report(metrics), claims=cl, no_book=nb, seconds=seconds,
                       calibration_only=calibration_only, notes=_notes(data),
                       venue=data.bars.venue, symbol=data.bars.symbol)
