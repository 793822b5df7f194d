"""``liqmap backtest``: score the model against realized liquidations on a window."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from liqmap.cli import _options as o

__all__ = ["register"]


def _table(summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for span in ("calibration", "scoring"):
        sp = summary["spans"][span]
        t = Table(title=f"window {summary['window']} - {span} span "
                  f"({sp['start']} -> {sp['end']}, {sp['n_bars']} bars)")
        for c in ("side", "predictor", "spearman", "pearson_log", "r2_log", "top10%_share",
                  "pred/real"):
            t.add_column(c, no_wrap=True)
        for side, preds in summary["metrics"][span].items():
            for name, m in preds.items():
                t.add_row(side, name, *(_fmt(m[k]) for k in (
                    "spearman", "pearson_log", "r2_log", "top_decile_share", "total_ratio")))
        console.print(t)
    for side in summary["verdict"].values():
        for v in side.values():
            console.print(v["statement"])


def _fmt(v) -> str:
    return "-" if v is None else f"{v:.3f}"


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command("backtest")
    def backtest(
        window: str = typer.Option("A", "--window", "-w", help="Scorecard window (A)."),
        out: str = typer.Option("scorecard", "--out", "-o", help="Folder for window-<W>.csv "
                                "and metrics-<W>.json."),
        data_dir: Optional[str] = typer.Option(None, "--data-dir", help="Shared data folder "
                                               "holding raw/ (default: $LIQMAP_SHARED_DATA, "
                                               "else ../shared/data)."),
        warmup_hours: float = typer.Option(168.0, "--warmup-hours", help="Leading hours "
                                           "not scored while the level book fills."),
        start: Optional[str] = typer.Option(None, "--start", help="Only bars opening at or "
                                            "after this ISO time (UTC) or Unix ms."),
        end: Optional[str] = typer.Option(None, "--end", help="Only bars opening before "
                                          "this ISO time (UTC) or Unix ms."),
        as_json: bool = o.JSON, config: Optional[str] = o.CONFIG,
        leverage: Optional[str] = o.LEVERAGE, side_model: Optional[str] = o.SIDE_MODEL,
        oi_policy: Optional[str] = o.OI_POLICY, half_life: Optional[str] = o.HALF_LIFE,
    ) -> None:
        """Backtest the model hour by hour against realized liquidations (Binance+Bybit+OKX),
        with naive baselines; metrics on the calibration and out-of-sample spans."""
        from liqmap.cli.cmd_engine import parse_time_ms
        from liqmap.config import build_model
        from liqmap.scorecard.backtest import run_backtest

        flags = o.model_flags(None, leverage, side_model, None, oi_policy, half_life, None,
                              None, "none", None)
        model = build_model(flags, config_path=config)
        res = run_backtest(window, model, data_dir, start_ms=parse_time_ms(start),
                           end_ms=parse_time_ms(end), warmup_hours=warmup_hours)
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
