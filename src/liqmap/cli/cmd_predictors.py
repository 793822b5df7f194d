"""``liqmap study-predictors``: other combiners and market data, scored by the calibration
CV on the calibration span only (:mod:`liqmap.scorecard.predictor_study`).

Writes ``predictors-<W>.json`` in ``--out``; ``liqmap report-scorecard`` shows it.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from liqmap.cli import _options as o

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command("study-predictors")
    def study_predictors(
        window: str = o.window("A", "Window with a calibration span (A)."),
        out: str = o.out("scorecard", "Folder for predictors-<W>.json."),
        data_dir: str | None = o.DATA_DIR,
        preset: str | None = o.preset(None, "Preset name or JSON path (default: the "
                                         "shipped fitted preset)."),
        as_json: bool = o.JSON,
    ) -> None:
        """Would richer combiners or other inputs have scored better? Out-of-fold CV on the
        calibration span (before 2026-02-01) only; the scoring span is never read."""
        from liqmap.cli.cmd_calibrate import _write
        from liqmap.scorecard.data import load_window
        from liqmap.scorecard.predictor_study import predictor_study
        from liqmap.scorecard.preset import load_preset

        data = load_window(window.upper(), data_dir)
        res = predictor_study(data, load_preset() if preset is None else load_preset(preset),
                              data_dir=data_dir)
        d = res.to_dict()
        path = _write(Path(out) / f"predictors-{data.spec.name}.json", d)
        if as_json:
            print(json.dumps({**d, "file": str(path)}, allow_nan=False))
            return
        print(f"calibration-span CV ({res.n_bars} bars before {res.calibration_end}), "
              "out-of-fold r2_log / spearman:")
        for v in res.variants:
            print(f"  {v.name:30s} long {v.r2_log['long']:.3f} / {v.spearman['long']:.3f}"
                  f"   short {v.r2_log['short']:.3f} / {v.spearman['short']:.3f}")
        share = res.small_bar_error_share
        n = res.small_bar_count
        print(f"bars under $1k realized ({n['long']} long, {n['short']} short of {res.n_bars}) "
              f"carry {share['long']:.0%} (long) and {share['short']:.0%} (short) of the "
              "shipped fit's out-of-fold squared log error")
        print(f"wrote {path}")
