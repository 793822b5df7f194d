"""``liqmap sweep``: backtests and model runs over windows, samples, venues and a parameter grid,
on a local Dask cluster (default), a scheduler address, or in-process."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import typer

from liqmap.cli import _options as o
from liqmap.fmt import fmt_usd
from liqmap.outputs import atomic_path, atomic_write_text
from liqmap.timeutil import parse_time_ms

__all__ = ["register", "write_outputs"]

_WINDOWS = o.window([], "Scorecard window to backtest (repeat for several).")
_SAMPLES = o.sample([], "Bundled sample for model runs (repeat).")
_INPUTS = o.input_file([], "Bar file for model runs (repeat).")
_VENUES = o.venue([], "Liquidation rules for model runs (repeat: binance, bybit, okx, "
                  "hyperliquid).")

_BT_COLS = (("calibration_long_spearman", "calib.\nspearman\nlong"),
            ("calibration_short_spearman", "calib.\nspearman\nshort"),
            ("scoring_long_spearman", "scoring\nspearman\nlong"),
            ("scoring_short_spearman", "scoring\nspearman\nshort"),
            ("scoring_long_total_ratio", "scoring\npred/real\nlong"),
            ("scoring_short_total_ratio", "scoring\npred/real\nshort"))
_MODEL_COLS = (("bars", "bars"), ("predicted_long_usd", "predicted\nlong"),
               ("predicted_short_usd", "predicted\nshort"), ("map_long_usd", "map\nlong"),
               ("map_short_usd", "map\nshort"), ("imbalance_20pct_ratio", "imbalance\n+-20%"))


def write_outputs(folder: Path, payload: dict) -> dict:
    """Write ``sweep.csv`` (one row per task) and ``sweep.json`` (``payload``) atomically."""
    import pandas as pd

    with atomic_path(folder / "sweep.csv") as tmp:
        pd.DataFrame(payload["rows"]).to_csv(tmp, index=False)
    js = atomic_write_text(folder / "sweep.json", json.dumps(payload, indent=2, allow_nan=False))
    return {"csv": str(folder / "sweep.csv"), "json": str(js)}


def _nondefault(model, drop: tuple[str, ...] = ()) -> dict:
    d = model.to_dict()
    defaults: dict[str, Any] = {f.name: f.default for f in fields(type(model))}
    defaults["band_presets"] = list(defaults["band_presets"])
    return {k: v for k, v in d.items() if v != defaults[k] and k not in drop}


def _build_tasks(windows, samples, inputs, venues, grid_specs, lookback, base_bt, base_model,
                 data_dir, start_ms, end_ms, warmup_hours) -> list:
    from liqmap._exceptions import ConfigError
    from liqmap.scaleout import grid_tasks, model_grid_tasks, parse_grid
    from liqmap.scorecard.data import WINDOWS

    grid = parse_grid(grid_specs)
    if not windows and not samples and not inputs:
        raise ConfigError("nothing to sweep: give --window (backtests) and/or --sample / "
                          "--input (model runs)")
    unknown = [w for w in windows if w not in WINDOWS]
    if unknown:
        raise ConfigError(f"unknown window(s) {unknown}: use one of {tuple(WINDOWS)}")
    tasks: list = []  # BacktestTask and ModelTask
    if windows:
        tasks += grid_tasks(windows, grid, base_params=base_bt, data_dir=data_dir,
                            start_ms=start_ms, end_ms=end_ms, warmup_hours=warmup_hours)
    if samples or inputs:
        if "venue" in grid:
            raise ConfigError("for model runs give venues with --venue, not --grid venue=...")
        tasks += model_grid_tasks(samples=samples, bars_paths=inputs,
                                  venues=venues or ["binance"], grid=grid, lookback=lookback,
                                  base_params=base_model)
    return tasks


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return fmt_usd(v) if abs(v) >= 1e4 else f"{v:.3f}"
    return str(v)


def _table(payload: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for kind, cols, title in (("backtest", _BT_COLS, "backtests (model scores per span)"),
                              ("model", _MODEL_COLS, "model runs")):
        rows = [r for r in payload["rows"] if r["kind"] == kind]
        if not rows:
            continue
        t = Table(title=f"sweep: {title} - scheduler {payload['scheduler']}")
        t.add_column("label", overflow="fold", min_width=24)
        for _, head in cols:
            t.add_column(head, justify="right")
        for r in rows:
            t.add_row(r["label"], *(_fmt(r.get(c)) for c, _ in cols))
        console.print(t)
    for w, sel in payload["selected_on_calibration"].items():
        if sel is None:
            console.print(f"window {w}: no calibration-span scores, nothing selected")
            continue
        r = sel["row"]
        console.print(f"window {w}, chosen on the calibration span only (mean "
                      f"{sel['metric']} {sel['calibration_mean']:.3f}): {sel['label']}; its "
                      f"out-of-sample scoring-span spearman long "
                      f"{_fmt(r['scoring_long_spearman'])}, short "
                      f"{_fmt(r['scoring_short_spearman'])}")


def _run(tasks, scheduler, n_workers, timeout_s, as_json):
    from liqmap.scaleout import sweep

    if as_json:
        return sweep(tasks, scheduler=scheduler, n_workers=n_workers,
                     connect_timeout_s=timeout_s)
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        job = bar.add_task("sweep", total=len(tasks))
        return sweep(tasks, scheduler=scheduler, n_workers=n_workers,
                     connect_timeout_s=timeout_s,
                     progress=lambda done, total, label: bar.update(job, completed=done))


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command("sweep")
    def sweep_cmd(
        window: list[str] = _WINDOWS,
        grid: list[str] = typer.Option([], "--grid", "-g", help="Parameter grid NAME=V1,V2 "
                                       "(repeat; e.g. leverage=all-leverage,high-leverage, "
                                       "half_life_hours=0,168 where 0 = no decay; items "
                                       "inside one value joined by +, e.g. band_presets="
                                       "all-leverage+low-leverage). Values are read as "
                                       "LIQMAP_* variables and [model] keys are."),
        sample: list[str] = _SAMPLES, inputs: list[str] = _INPUTS, venue: list[str] = _VENUES,
        lookback: str | None = o.lookback(None, "Model runs: the last 12h, 24h, 3d, 7d, 30d, "
                                             "90d, 180d or 1y of the bars (default: all bars)."),
        scheduler: str = o.scheduler("local", "local (a LocalCluster of worker processes), none "
                                     "(in-process), or a Dask scheduler address "
                                     "tcp://HOST:PORT."),
        n_workers: int | None = typer.Option(None, "--n-workers", help="Workers of the "
                                                "local cluster (default min(2, CPUs))."),
        connect_timeout: float = typer.Option(10.0, "--connect-timeout", help="Seconds to "
                                              "reach a scheduler address before giving up."),
        out: str = o.out("sweep", "Folder for sweep.csv and sweep.json."),
        data_dir: str | None = o.DATA_DIR,
        warmup_hours: float | None = o.warmup_hours("Leading hours not scored in backtests "
                                                       "(default: the window's own)."),
        start: str | None = o.start(None, "Backtests: only bars opening at or after this "
                                       "time."),
        end: str | None = o.end(None, "Backtests: only bars opening before this time."),
        as_json: bool = o.JSON, config: str | None = o.CONFIG,
        leverage: str | None = o.LEVERAGE, side_model: str | None = o.SIDE_MODEL,
        oi_policy: str | None = o.OI_POLICY, half_life: str | None = o.HALF_LIFE,
        band: str | None = o.BAND,
    ) -> None:
        """Sweep backtests (per window) and model runs (per sample/file and venue) over a
        parameter grid on Dask; scores on the calibration and scoring spans, both labelled."""
        from liqmap.cli.config import build_model
        from liqmap.scaleout import select_on_calibration

        def base(band_default):
            flags = o.model_flags(None, leverage, side_model, None, oi_policy, half_life,
                                  None, None, band or band_default, None)
            return _nondefault(build_model(flags, config_path=config), drop=("venue",))

        tasks = _build_tasks(window, sample, inputs, venue, grid, lookback, base("none"),
                             base(None), data_dir, parse_time_ms(start), parse_time_ms(end),
                             warmup_hours)
        sched = None if scheduler.strip().lower() in ("none", "serial") else scheduler
        rows = _run(tasks, sched, n_workers, connect_timeout, as_json)
        payload = {"scheduler": scheduler, "n_tasks": len(tasks), "rows": rows,
                   "selected_on_calibration": {
                       w: select_on_calibration([r for r in rows if r.get("window") == w])
                       for w in window},
                   "tasks": sorted((t.to_dict() for t in tasks), key=lambda d: d["label"])}
        payload["files"] = write_outputs(Path(out), payload)
        if as_json:
            print(json.dumps(payload, allow_nan=False))
        else:
            _table(payload)
            print(f"wrote {payload['files']['csv']} and {payload['files']['json']}")
