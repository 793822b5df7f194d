"""``liqmap backtest`` (score a window) and ``liqmap report-scorecard`` (the HTML report).

``backtest`` writes ``<out>/window-<W>.csv`` and ``<out>/metrics-<W>.json`` (one metrics
file per window); ``backtest --levels`` runs the level test instead
(:mod:`liqmap.scorecard.levels_run`: ``levels-<W>.csv``, ``metrics-levels-<W>.json``);
``report-scorecard`` reads every ``metrics-*.json``/``window-*.csv`` pair of the folder
(plus ``studies.json``, ``walk-forward-*.json`` and ``metrics-levels-*.json`` when present)
and writes ``<out>/report.html``.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from liqmap.cli import _options as o

DEFAULT_PRESET = "fitted-binance-btcusdt-2025-12"  # = liqmap.scorecard.preset.DEFAULT_PRESET

__all__ = ["register"]


def _table(summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for span in ("calibration", "scoring"):
        sp = summary["spans"][span]
        if not sp["n_bars"]:
            continue
        t = Table(title=f"window {summary['window']} - {span} span "
                  f"({sp['start']} -> {sp['end']}, {sp['n_bars']} bars)")
        for c in ("side", "predictor", "spearman", "pearson_log", "r2_log", "top10%_share",
                  "pred/real", "r2_direct"):
            t.add_column(c, no_wrap=True)
        for side, preds in summary["metrics"][span].items():
            for name, m in preds.items():
                t.add_row(side, name, *(_fmt(m[k]) for k in (
                    "spearman", "pearson_log", "r2_log", "top_decile_share", "total_ratio",
                    "r2_log_direct")))
        console.print(t)
    for side in summary["verdict"].values():
        for v in side.values():
            console.print(v["statement"])
    tg = summary["targets"]
    console.print(f"targets (issue, window A out of sample) all met: {tg['all_met']}")


def _fmt(v) -> str:
    return "-" if v is None else f"{v:.3f}"


def _levels_table(summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    names = ("map", "shapeless", "vendor-style")
    for span, by_h in summary["metrics"].items():
        t = Table(title=f"level test, window {summary['window']} - {span} span")
        for c in ("H", "side", "predictor", "spearman", "pearson_log", "r2_log",
                  "top10%_share", "pred/real"):
            t.add_column(c, no_wrap=True)
        for h, by_side in by_h.items():
            for side, preds in by_side.items():
                for name in names:
                    m = preds[name]
                    t.add_row(h, side, name, *(_fmt(m[k]) for k in (
                        "spearman", "pearson_log", "r2_log", "top_decile_share",
                        "total_ratio")))
        console.print(t)
        for by_side in summary["verdict"].get(span, {}).values():
            for v in by_side.values():
                console.print(v["statement"])


def _export(inputs, folder: str, as_json: bool) -> None:
    from liqmap.scorecard.dataset import export_inputs

    data = inputs.load()
    files = export_inputs(data, folder)
    info = {"dataset": data.spec.name, "bars": len(data.bars),
            "realized_bars": int(len(data.realized_long_usd)), "files": files}
    if as_json:
        print(json.dumps(info, allow_nan=False))
    else:
        print(f"wrote {files['bars']} ({info['bars']:,} bars) and {files['realized']} "
              f"({info['realized_bars']:,} realized bars)")


def _default_map(data, preset: str, calibration_only: bool, as_json: bool) -> None:
    from liqmap._exceptions import ConfigError
    from liqmap.scorecard.default_map import choose_default_map

    if not calibration_only:
        raise ConfigError("--choose-default-map reads the calibration span only: add "
                          "--calibration-only")
    out = choose_default_map(data, preset)
    if as_json:
        print(json.dumps(out, allow_nan=False))
        return
    for name, f in out["candidates"].items():
        m = f["model"]
        print(f"{name:7s} ({m['leverage']}, {m['side_model']}, half-life "
              f"{m['half_life_hours']}): mean r2_log {f['mean_r2_log']:.3f}, mean Spearman "
              f"{f['mean_spearman']:.3f}")
    print(f"default map: {out['chosen']} ({out['criterion']})")


def _write_backtest(res, folder: Path, *, named: bool) -> dict:
    """Windows: ``window-<W>.csv``, ``metrics-<W>.json``; other data: ``backtest.csv``,
    ``metrics.json`` and ``report.html``."""
    if named:
        return {"csv": str(res.to_csv(folder / f"window-{res.window}.csv")),
                "metrics": str(res.to_json(folder / f"metrics-{res.window}.json"))}
    from liqmap.scorecard.report import write_report

    files = {"csv": str(res.to_csv(folder / "backtest.csv")),
             "metrics": str(res.to_json(folder / "metrics.json"))}
    files["report"] = write_report(folder)["report"]
    return files


def _levels(data, preset: str, out: str, calibration_only: bool, as_json: bool) -> None:
    from liqmap.scorecard.levels_run import run_levels

    res = run_levels(data.spec.name, preset=preset, data=data,
                     calibration_only=calibration_only)
    files = res.write(out)
    summary = res.summary()
    summary["files"] = files
    if as_json:
        print(json.dumps(summary, allow_nan=False))
    else:
        _levels_table(summary)
        print(f"{summary['run_seconds']['standing_maps']} standing maps, "
              f"{summary['run_seconds']['total']:.1f} s; wrote {files['csv']} and "
              f"{files['metrics']}")


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command("backtest")
    def backtest(
        window: str | None = o.window(None, "Scorecard window: A (hourly, the default when "
                                      "no --input or --db) or C (5-minute bars, 30-minute "
                                      "realized)."),
        input_path: str | None = o.input_file(None, "Your bar file (documented layout); "
                                              "with --realized."),
        realized: str | None = o.REALIZED, db: str | None = o.SCORING_DB,
        venue: str | None = o.venue(None, "Series of --db, or the venue of --input "
                                    "(default binance)."),
        symbol: str | None = o.symbol(None, "Series of --db, or the symbol of --input "
                                      "(default BTC/USDT:USDT)."),
        fit_until: str | None = o.FIT_UNTIL, score_from: str | None = o.SCORE_FROM,
        realized_format: str = o.REALIZED_FORMAT, score_bar: str | None = o.SCORE_BAR,
        oi_unit: str = o.OI_UNIT, contract_size: float | None = o.CONTRACT_SIZE,
        preset: str = o.preset(DEFAULT_PRESET, "Fitted preset (name or JSON path) whose engine "
                               "parameters and combined predictor are scored; 'none' scores "
                               "the raw level book of the model flags instead."),
        out: str = o.out("scorecard", "Folder for window-<W>.csv and metrics-<W>.json "
                         "(windows) or backtest.csv, metrics.json and report.html (your "
                         "data)."),
        data_dir: str | None = o.DATA_DIR,
        warmup_hours: float | None = o.warmup_hours("Leading hours not scored while the "
                                                       "level book fills (default: A 168, C 72, "
                                                       "your data 168 or a third of it)."),
        start: str | None = o.start(None, "Only bars opening at or after this ISO time (UTC) "
                                       "or Unix ms."),
        end: str | None = o.end(None, "Only bars opening before this ISO time (UTC) or "
                                   "Unix ms."),
        as_json: bool = o.JSON, config: str | None = o.CONFIG,
        leverage: str | None = o.LEVERAGE, side_model: str | None = o.SIDE_MODEL,
        oi_policy: str | None = o.OI_POLICY, half_life: str | None = o.HALF_LIFE,
        levels: bool = typer.Option(False, "--levels", help="Run the level test instead: "
                                    "the standing map against what then happened (1, 4, 24, "
                                    "168 h), with the shapeless and vendor-style maps; writes "
                                    "levels-<W>.csv and metrics-levels-<W>.json."),
        calibration_only: bool = typer.Option(False, "--calibration-only", help="With "
                                              "--levels: cut the data at --fit-until first "
                                              "(develop a design without reading the scoring "
                                              "span); files get a -calibration suffix."),
        default_map: bool = typer.Option(False, "--choose-default-map", help="With --levels "
                                          "--calibration-only: run the level test for the "
                                          "prior and the fitted engine and say which map to "
                                          "show by default (calibration span only)."),
        export_inputs: str | None = typer.Option(None, "--export-inputs", help="Write the "
                                                  "inputs as DIR/bars.csv (documented bar "
                                                  "layout) and DIR/realized.csv (ts_ms,"
                                                  "long_usd,short_usd) and stop."),
    ) -> None:
        """Backtest the model bar by bar against realized liquidations, with naive
        baselines; metrics on the calibration and out-of-sample spans. Runs on window A or C
        of the shared data, on your files (--input, --realized) or on a store (--db)."""
        from liqmap._exceptions import ConfigError
        from liqmap.cli._dataset import ScoringInputs
        from liqmap.cli.config import build_model
        from liqmap.scorecard.backtest import run_backtest

        inputs = ScoringInputs(window=window, data_dir=data_dir, input_path=input_path,
                               realized=realized, db=db, venue=venue, symbol=symbol,
                               start=start, end=end, fit_until=fit_until,
                               score_from=score_from, realized_format=realized_format,
                               score_bar=score_bar, oi_unit=oi_unit,
                               contract_size=contract_size,
                               warmup_hours=None if levels else warmup_hours)
        if export_inputs is not None:
            _export(inputs, export_inputs, as_json)
            return
        flags = o.model_flags(None, leverage, side_model, None, oi_policy, half_life, None,
                              None, "none", None)
        if levels or calibration_only:
            if not levels:
                raise ConfigError("--calibration-only applies to the level test: add --levels")
            if (preset.lower() == "none" or config or start or end or warmup_hours is not None
                    or any(v is not None for v in flags.values() if v != "none")):
                raise ConfigError("--levels scores a fitted preset's map over the whole "
                                  "data: drop the model flags, --config, --start, --end and "
                                  "--warmup-hours, and give a preset name or JSON")
            if default_map:
                _default_map(inputs.load(), preset, calibration_only, as_json)
                return
            _levels(inputs.load(), preset, out, calibration_only, as_json)
            return
        raw = preset.lower() == "none"
        if not raw and (config or any(v is not None for v in flags.values() if v != "none")):
            raise ConfigError("model flags and --config apply to the raw book only: add "
                              "--preset none, or drop them to score the fitted preset")
        model = build_model(flags, config_path=config) if raw else None
        res = run_backtest(model=model, preset=None if raw else preset,
                           warmup_hours=warmup_hours, data=inputs.load())
        files = _write_backtest(res, Path(out), named=inputs.kind == "window")
        summary = res.summary()
        summary["files"] = files
        if as_json:
            print(json.dumps(summary, allow_nan=False))
        else:
            _table(summary)
            print("wrote " + ", ".join(files.values()))

    @app.command("report-scorecard")
    def report_scorecard(
        out: str = o.out("scorecard", "Folder holding metrics-<W>.json and window-<W>.csv; "
                         "report.html goes there."),
        as_json: bool = o.JSON,
    ) -> None:
        """Write the self-contained HTML scorecard report (tables, verdicts, targets, plots,
        fitted preset, reaction study) from the backtest outputs in --out."""
        from liqmap.scorecard.report import write_report

        info = write_report(out)
        if as_json:
            print(json.dumps(info, allow_nan=False))
        else:
            print(f"wrote {info['report']} ({len(info['windows'])} windows, "
                  f"{len(info['plots'])} plots)")
