"""``liqmap calibrate``: fit the engine's parameters and the combined predictor on a window's
calibration span, write the fitted preset JSON; ``--walk-forward`` adds monthly re-fits.

Outputs in ``--out``: ``<preset name>.json`` (the same file the package ships in
``liqmap/data/presets/``), ``calibration-<W>.json`` (the preset plus the grid's top points)
and, with ``--walk-forward``, ``walk-forward-<W>.json`` (each month's fit and the pooled
out-of-sample scores against the baselines).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from liqmap.cli import _options as o
from liqmap.outputs import atomic_write_text

__all__ = ["register"]


def _mapper(scheduler: str | None):
    """``map`` (serial) or ``liqmap.scaleout.map_tasks`` bound to ``scheduler``."""
    if scheduler is None:
        return map
    from liqmap._exceptions import ConfigError

    try:
        from liqmap.scaleout import map_tasks
    except ImportError:
        raise ConfigError("--scheduler needs liqmap.scaleout (not available in this "
                          "installation); drop --scheduler to run the grid serially") from None
    return lambda fn, items: map_tasks(fn, items, scheduler=scheduler)


def _preset_name(data, kind: str) -> str:
    """``fitted-binance-btcusdt-2025-12`` for window A; ``fitted-<venue>-<symbol>-<day>``
    (the fit-until day) for other data."""
    from liqmap.scorecard.preset import DEFAULT_PRESET
    from liqmap.timeutil import iso_minute

    if kind == "window" and data.spec.name == "A":
        return DEFAULT_PRESET
    sym = data.bars.symbol.split(":")[0].replace("/", "").lower()
    day = iso_minute(int(data.spec.calibration_end_ms))[:10]
    return f"fitted-{data.bars.venue}-{sym}-{day}"


def _write(path: Path, obj: dict) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, allow_nan=False) + "\n")


def walk_forward_summary(data, wf, warmup_hours) -> dict:
    """Pooled out-of-sample metrics of the walk-forward series, model vs baselines."""
    import numpy as np

    from liqmap.scorecard.backtest import BASELINES, SIDES, baselines_of, score_all
    from liqmap.scorecard.frame import score_frame
    from liqmap.scorecard.metrics import compare

    fr = score_frame(data, warmup_hours)
    k = fr.scored & np.isfinite(wf.predicted["long"]) & np.isfinite(wf.predicted["short"])
    sel = lambda d: {sd: np.asarray(d[sd])[k] for sd in SIDES}  # noqa: E731
    preds = {"model": sel(wf.predicted),
             **{b: sel(v) for b, v in baselines_of(fr).items()}}
    sc = fr.is_scoring[k]
    m = score_all(preds, sel(fr.realized), ~sc, sc, usd={"model"})["scoring"]
    verdict = {sd: {b: compare(m[sd]["model"], m[sd][b]).statement(sd, b, "walk-forward")
                    for b in BASELINES} for sd in SIDES}
    return {"fits": list(wf.fits), "n_bars_scored": int(sc.sum()),
            "metrics": {sd: {p: v.to_dict() for p, v in m[sd].items()} for sd in SIDES},
            "verdict": verdict}


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command("calibrate")
    def calibrate(
        window: str | None = o.window(None, "Window to fit on (A, the default when no "
                                      "--input or --db)."),
        input_path: str | None = o.input_file(None, "Your bar file (documented layout); "
                                              "with --realized."),
        realized: str | None = o.REALIZED, db: str | None = o.SCORING_DB,
        venue: str | None = o.venue(None, "Series of --db, or the venue of --input "
                                    "(default binance)."),
        symbol: str | None = o.symbol(None, "Series of --db, or the symbol of --input "
                                      "(default BTC/USDT:USDT)."),
        start: str | None = o.start(None, "Only bars opening at or after this ISO time "
                                       "(UTC) or Unix ms."),
        end: str | None = o.end(None, "Only bars opening before this ISO time (UTC) or "
                                   "Unix ms."),
        fit_until: str | None = o.FIT_UNTIL, realized_format: str = o.REALIZED_FORMAT,
        score_bar: str | None = o.SCORE_BAR, oi_unit: str = o.OI_UNIT,
        contract_size: float | None = o.CONTRACT_SIZE,
        warmup_hours: float | None = o.warmup_hours("Leading hours not fitted while the "
                                                       "book fills (default: the window's; "
                                                       "your data 168 or a third of it)."),
        out: str = o.out("scorecard", "Folder for the preset JSON and calibration-<W>.json."),
        data_dir: str | None = o.DATA_DIR,
        name: str | None = typer.Option(None, "--name", help="Preset name (file stem); "
                                        "default fitted-binance-btcusdt-2025-12 for window A, "
                                        "fitted-<venue>-<symbol>-<fit-until day> otherwise."),
        walk_forward: bool = typer.Option(False, "--walk-forward", help="Also re-fit at each "
                                          "month start (past data only) and score each next "
                                          "month; reported separately."),
        scheduler: str | None = o.scheduler(None, "Evaluate the grid through "
                                               "liqmap.scaleout: 'local' (Dask LocalCluster) "
                                               "or a scheduler address."),
        as_json: bool = o.JSON,
    ) -> None:
        """Fit leverage weights, side model, decay, OI policy and the book+baselines
        combination on the calibration span only (window A: before 2026-02-01; your data:
        before --fit-until, or all of it)."""
        from liqmap.cli._dataset import ScoringInputs
        from liqmap.scorecard.calibrate import fit_calibration
        from liqmap.scorecard.calibrate import walk_forward as run_wf

        inputs = ScoringInputs(window=window, data_dir=data_dir, input_path=input_path,
                               realized=realized, db=db, venue=venue, symbol=symbol,
                               start=start, end=end, fit_until=fit_until,
                               realized_format=realized_format, score_bar=score_bar,
                               oi_unit=oi_unit, contract_size=contract_size,
                               warmup_hours=warmup_hours)
        data = inputs.load()
        name = name or _preset_name(data, inputs.kind)
        map_fn = _mapper(scheduler)
        cal = fit_calibration(data, map_fn=map_fn, name=name,
                              warmup_hours=None if inputs.kind != "window" else warmup_hours)
        folder = Path(out)
        files = {"preset": str(cal.preset.to_json(folder / f"{name}.json")),
                 "calibration": str(_write(folder / f"calibration-{data.spec.name}.json",
                                           cal.summary()))}
        result = {"preset": cal.preset.to_dict(), "files": files}
        if walk_forward:
            wf = run_wf(data, map_fn=map_fn)
            result["walk_forward"] = walk_forward_summary(data, wf, None)
            files["walk_forward"] = str(_write(folder / f"walk-forward-{data.spec.name}.json",
                                               result["walk_forward"]))
        if as_json:
            print(json.dumps(result, allow_nan=False))
            return
        best = cal.preset.selection["best"]
        print(f"best of {cal.preset.selection['grid_size']} grid points: {best['point']} "
              f"(offset {best['offset']}, CV log-R2 {best['cv_r2_log']:.3f})")
        for sd, f in cal.preset.to_dict()["combine"].items():
            print(f"{sd}: a={f['intercept']:.3f} " + " ".join(
                f"{k}={v:.3f}" for k, v in f.items() if k.startswith("c_"))
                + f" k={f['smear']:.3g}")
        for sd in result.get("walk_forward", {}).get("verdict", {}).values():
            for v in sd.values():
                print(v)
        print("wrote " + ", ".join(files.values()))
