"""Which map the product shows by default: the one that scores best on the level test of the
calibration span (issue "Read the map as traders do").

Candidates are the engine settings a user could be shown: the ``prior`` (``LiquidationModel``
defaults: all leverage, candle side model, no decay) and the ``fitted`` preset's engine (fitted
for the hourly predictor, issue "Scorecard"). Each runs the level test
(:func:`liqmap.scorecard.levels_run.run_levels`) with ``calibration_only=True``: the data are
cut at the calibration end first, so the scoring span is never read. The criterion is the mean
``r2_log`` of the map over horizons and sides (ties: mean Spearman), the level test's own
figures with lines fitted on the calibration span.

>>> out = choose_default_map(load_window("A"))     # doctest: +SKIP
>>> out["chosen"]                                  # doctest: +SKIP
'prior'
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from liqmap.model import LiquidationModel
from liqmap.scorecard.preset import FittedPreset, load_preset
from liqmap.scorecard.windows import WindowData

__all__ = ["CRITERION", "choose_default_map", "pick"]

CRITERION = ("mean r2_log of the map over the level test's horizons and both sides, "
             "calibration span only (ties: mean Spearman)")


def _figures(metrics: dict) -> dict:
    """Mean and per-horizon figures of the ``map`` predictor from ``score_levels`` output."""
    per_h = {str(h): {sd: {"spearman": m["map"].spearman, "r2_log": m["map"].r2_log}
                      for sd, m in by_side.items()}
             for h, by_side in metrics.get("calibration", {}).items()}
    vals = [v for by in per_h.values() for v in by.values()]
    return {"mean_r2_log": float(np.nanmean([v["r2_log"] for v in vals])) if vals else np.nan,
            "mean_spearman": float(np.nanmean([v["spearman"] for v in vals])) if vals
            else np.nan, "per_horizon": per_h}


def pick(figures: dict) -> str:
    """The candidate with the highest mean ``r2_log`` (then mean Spearman, then name order).

    >>> pick({"a": {"mean_r2_log": 0.4, "mean_spearman": 0.7},
    ...       "b": {"mean_r2_log": 0.5, "mean_spearman": 0.6}})
    'b'
    """
    def key(name: str):
        f = figures[name]
        r2 = f["mean_r2_log"] if np.isfinite(f["mean_r2_log"]) else -np.inf
        rho = f["mean_spearman"] if np.isfinite(f["mean_spearman"]) else -np.inf
        return (-r2, -rho, name)

    return sorted(figures, key=key)[0]


def candidates(preset: FittedPreset) -> dict[str, FittedPreset]:
    """``prior`` and ``fitted`` engines, on the fitted preset's price bins."""
    prior = LiquidationModel(band="none", bin_usd=preset.model.bin_usd)
    return {"prior": replace(preset, model=prior), "fitted": preset}


def choose_default_map(data: WindowData, preset: FittedPreset | str | None = None) -> dict:
    """Run the calibration-span level test for each candidate and pick one (module docstring).

    Returns
    -------
    dict
        ``criterion``, ``calibration_end``, ``candidates`` (``{name: {model, mean_r2_log,
        mean_spearman, per_horizon}}``) and ``chosen``.
    """
    from liqmap.scorecard.levels_run import run_levels

    preset = load_preset() if preset is None else (
        load_preset(preset) if isinstance(preset, str) else preset)
    figures = {}
    for name, cand in candidates(preset).items():
        res = run_levels(data.spec.name, preset=cand, data=data, calibration_only=True,
                         claims=False)
        figures[name] = {"model": cand.model.to_dict(), **_figures(res.metrics)}
    return {"criterion": CRITERION, "dataset": data.spec.name,
            "calibration_end_ms": int(data.spec.calibration_end_ms),
            "candidates": figures, "chosen": pick(figures)}
