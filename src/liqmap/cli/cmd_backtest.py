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
from typing import Optional

import typer

from liqmap.cli import _options as o
from liqmap.timeutil import parse_time_ms

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


def _levels(window: str, preset: str, data_dir, out: str, calibration_only: bool,
            as_json: bool) -> None:
    from liqmap.scorecard.levels_run import run_levels

    res = run_levels(window, data_dir, preset=preset, calibration_only=calibration_only)
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
        window: str = o.window("A", "Scorecard window: A (hourly) or C (5-minute bars, "
                               "30-minute realized)."),
        preset: str = o.preset(DEFAULT_PRESET, "Fitted preset (name or JSON path) whose engine "
                               "parameters and combined predictor are scored; 'none' scores "
                               "the raw level book of the model flags instead."),
        out: str = o.out("scorecard", "Folder for window-<W>.csv and metrics-<W>.json."),
        data_dir: Optional[str] = o.DATA_DIR,
        warmup_hours: Optional[float] = o.warmup_hours("Leading hours not scored while the "
                                                       "level book fills (default: A 168, C 72)."),
        start: Optional[str] = o.start(None, "Only bars opening at or after this ISO time (UTC) "
                                       "or Unix ms."),
        end: Optional[str] = o.end(None, "Only bars opening before this ISO time (UTC) or "
                                   "Unix ms."),
        as_json: bool = o.JSON, config: Optional[str] = o.CONFIG,
        leverage: Optional[str] = o.LEVERAGE, side_model: Optional[str] = o.SIDE_MODEL,
        oi_policy: Optional[str] = o.OI_POLICY, half_life: Optional[str] = o.HALF_LIFE,
        levels: bool = typer.Option(False, "--levels", help="Run the level test instead: "
                                    "the standing map against what then happened (1, 4, 24, "
                                    "168 h), with the shapeless and vendor-style maps; writes "
                                    "levels-<W>.csv and metrics-levels-<W>.json."),
        calibration_only: bool = typer.Option(False, "--calibration-only", help="With "
                                              "--levels: cut the window at 2026-02-01 first "
                                              "(develop a design without reading the scoring "
                                              "span); files get a -calibration suffix."),
    ) -> None:
        """Backtest the model bar by bar against realized liquidations (Binance+Bybit+OKX),
        with naive baselines; metrics on the calibration and out-of-sample spans."""
        from liqmap._exceptions import ConfigError
        from liqmap.cli.config import build_model
        from liqmap.scorecard.backtest import run_backtest

        flags = o.model_flags(None, leverage, side_model, None, oi_policy, half_life, None,
                              None, "none", None)
        if levels or calibration_only:
            if not levels:
                raise ConfigError("--calibration-only applies to the level test: add --levels")
            if (preset.lower() == "none" or config or start or end or warmup_hours is not None
                    or any(v is not None for v in flags.values() if v != "none")):
                raise ConfigError("--levels scores a fitted preset's map over the whole "
                                  "window: drop the model flags, --config, --start, --end and "
                                  "--warmup-hours, and give a preset name or JSON")
            _levels(window.upper(), preset, data_dir, out, calibration_only, as_json)
            return
        raw = preset.lower() == "none"
        if not raw and (config or any(v is not None for v in flags.values() if v != "none")):
            raise ConfigError("model flags and --config apply to the raw book only: add "
                              "--preset none, or drop them to score the fitted preset")
        model = build_model(flags, config_path=config) if raw else None
        res = run_backtest(window.upper(), model, data_dir, preset=None if raw else preset,
                           start_ms=parse_time_ms(start), end_ms=parse_time_ms(end),
                           warmup_hours=warmup_hours)
        window = res.window
        folder = Path(out)
        csv = res.to_csv(folder / f"window-{window}.csv")
        js = res.to_json(folder / f"metrics-{window}.json")
        summary = res.summary()
        summary["files"] = {"csv": str(csv), "metrics": str(js)}
        if as_json:
            print(json.dumps(summary, allow_nan=False))
        else:
            _table(summary)
            print(f"wrote {csv} and {js}")

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
