"""Cascade commands: ``cascade``, ``cascade-replay`` and ``calibrate-impact``.

``liqmap cascade --shock 3 --direction both --impact sqrt --json`` builds the map from the
bars (default: the bundled Binance sample), runs the cascade simulator and prints the terminal
move, the amplification and the liquidated notional; ``--curve`` adds the amplification
curve from -30 % to +30 %; ``--plot DIR`` writes the charts.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import typer

from liqmap._exceptions import ConfigError
from liqmap.cli import _options as o
from liqmap.fmt import fmt_usd
from liqmap.timeutil import parse_time_ms

__all__ = ["register"]


def _shocks(shock: float, direction: str) -> list[float]:
    if not math.isfinite(shock):
        raise ConfigError("--shock must be a finite percent, e.g. 3")
    a = abs(shock)
    table = {"auto": [shock], "up": [a], "down": [-a], "both": [a, -a]}
    if direction not in table:
        raise ConfigError(f"--direction {direction!r}: use up, down, both or auto")
    return table[direction]


def _estimate(inputs, sample, lookback, at, venue, leverage):
    from liqmap.cli.cmd_engine import _load
    from liqmap.cli.config import build_model

    flags = {k: v for k, v in (("venue", venue), ("leverage", leverage)) if v is not None}
    model = build_model(flags)
    bars = _load(inputs, sample, "base", None, False, venue or model.venue)
    return model.run(bars, lookback=lookback, at_ms=parse_time_ms(at))


def register(app: typer.Typer) -> None:
    """Add the cascade commands to ``app``."""

    @app.command("cascade")
    def cascade(
        shock: float = typer.Option(3.0, "--shock", help="Initial shock in percent."),
        direction: str = typer.Option("auto", "--direction", help="up, down, both, or auto "
                                      "(the sign of --shock)."),
        impact: str = o.IMPACT, venue_rules: str = o.VENUE_RULES,
        volume_usd: float | None = o.volume_usd("Daily USD volume for sqrt/depth (default: "
                                                   "from the bars)."),
        withdrawal: float = typer.Option(0.0, "--withdrawal", help="Market-maker withdrawal "
                                         "factor of the depth model (0 = static book)."),
        half_life_s: float | None = typer.Option(None, "--half-life-s", help="Book "
                                                    "resilience: impact half-life in seconds."),
        step_seconds: float = typer.Option(5.0, "--step-seconds", help="Seconds per step."),
        book_file: str | None = typer.Option(None, "--book-file", help="L2 jsonl.gz for "
                                                "--impact book (first snapshot used)."),
        beyond_beta: float | None = typer.Option(None, "--beyond-beta", help="Depth "
                                                    "exponent past the visible book (book impact)."),
        curve: bool = typer.Option(False, "--curve", help="Also the -30..+30 % curve."),
        plot: str | None = typer.Option(None, "--plot", help="Folder for PNG charts."),
        inputs: str | None = o.input_file(None, "Bar file (default: the bundled sample)."),
        sample: str = o.SAMPLE, lookback: str | None = o.LOOKBACK,
        at: str | None = o.AT, venue: str | None = o.VENUE,
        leverage: str | None = o.LEVERAGE, as_json: bool = o.JSON,
    ) -> None:
        """Simulate the liquidation cascade a price shock sets off on the current map."""
        from liqmap.cascade.run import simulator_for  # the set-up the API uses too

        shocks = _shocks(shock, direction)
        est = _estimate(inputs, sample, lookback, at, venue, leverage)
        sim = simulator_for(est.drawn_bars, impact=impact, volume_daily_usd=volume_usd,
                            withdrawal=withdrawal, half_life_s=half_life_s, book_file=book_file,
                            beyond_beta=beyond_beta, venue_rules=venue_rules,
                            step_seconds=step_seconds)
        m = est.final_map
        out = {"map_ts_ms": int(m.ts_ms), "venue": m.venue, "runs": []}
        for s in shocks:
            res = sim.run(m, s)
            out["runs"].append(res.summary(path=as_json))
            if plot:
                out.setdefault("files", []).append(str(res.plot(Path(plot) / f"cascade_{s:+g}.png")))
        if curve:
            c = sim.amplification_curve(m)
            out["curve"] = c.summary()
            if plot:
                out.setdefault("files", []).append(str(c.plot(Path(plot) / "amplification.png")))
        _emit(out, as_json)

    @app.command("cascade-replay")
    def cascade_replay(
        start: str = o.start("2026-02-05T15:00", "First hour of the move (UTC); the map is "
                             "taken at the bar before."),
        hours: int = typer.Option(10, "--hours", help="Hours of the move."),
        impact: str = o.IMPACT, venue_rules: str = o.VENUE_RULES,
        volume_usd: float | None = o.volume_usd("Daily USD volume (default: the bundled "
                                                   "Dec-2025 sample's)."),
        input_path: str | None = o.input_file(None, "Your bar file (with --realized) "
                                              "instead of window A."),
        realized: str | None = o.REALIZED, db: str | None = o.SCORING_DB,
        venue: str | None = o.venue(None, "Series of --db, or the venue of --input "
                                    "(default binance)."),
        symbol: str | None = o.symbol(None, "Series of --db, or the symbol of --input "
                                      "(default BTC/USDT:USDT)."),
        as_json: bool = o.JSON,
    ) -> None:
        """Replay a real move from the map before it, against realized liquidations (window
        A, your files or a store)."""
        from liqmap.cascade.run import replay_window

        bars = real = None
        if input_path is not None or db is not None or realized is not None:
            from liqmap.cli._dataset import ScoringInputs
            from liqmap.io.coinglass import RealizedSeries

            w = ScoringInputs(input_path=input_path, realized=realized, db=db, venue=venue,
                              symbol=symbol).load()
            bars = w.bars
            real = RealizedSeries(w.score_ts, w.realized_long_usd, w.realized_short_usd,
                                  int(w.spec.score_ms), w.notes[1])
        out = replay_window(parse_time_ms(start), hours, impact=impact,
                            venue_rules=venue_rules, volume_daily_usd=volume_usd, bars=bars,
                            realized=real)
        _emit(out, as_json)

    @app.command("calibrate-impact")
    def calibrate_impact(
        n_boot: int = typer.Option(200, "--n-boot", help="Bootstrap resamples."),
        save: str | None = typer.Option(None, "--save", help="Write the preset JSON here."),
        as_json: bool = o.JSON,
    ) -> None:
        """Fit Y of the square-root law and the depth profile on window C's Hyperliquid data."""
        from liqmap.cascade.impact_fit import calibrate, save_preset

        preset = calibrate(n_boot=n_boot)
        if save:
            preset["saved_to"] = str(save_preset(preset, save))
        if as_json:
            print(json.dumps(preset))
        else:
            _print_fit(preset)


def _print_fit(p: dict) -> None:
    s, d = p["sqrt"], p["depth"]
    print(f"impact preset {p['name']}  trades {p['span']['trades'][0]} -> {p['span']['trades'][1]}"
          f"  L2 {p['span']['l2'][0]} -> {p['span']['l2'][1]}")
    print(f"square-root law ({s['interval_s']:.0f} s intervals, n={s['n_intervals']}): "
          f"Y = {s['y']:.3f} +/- {s['y_se']:.3f} (95% CI {s['y_ci95'][0]:.3f}..{s['y_ci95'][1]:.3f}),"
          f" free exponent {s['exponent']:.2f} ({s['exponent_ci95'][0]:.2f}..{s['exponent_ci95'][1]:.2f}),"
          f" sigma_daily {s['sigma_daily']:.4f}, V_daily {fmt_usd(s['volume_daily_usd'])}, R2 {s['r2']:.2f}")
    for k, f in p["sqrt_by_interval"].items():
        print(f"  Y at {int(k):>5d} s: {f['y']:.3f} ({f['y_ci95'][0]:.3f}..{f['y_ci95'][1]:.3f})")
    print(f"depth profile (n={d['n_snapshots']} snapshots, visible to {d['x_max_bps']:.1f} bps): "
          f"beta = {d['beta']:.3f} ({d['beta_ci95'][0]:.3f}..{d['beta_ci95'][1]:.3f}), depth within "
          f"{d['x_ref_bps']:g} bps {fmt_usd(d['depth_ref_usd'])} ({fmt_usd(d['depth_ref_ci95'][0])}.."
          f"{fmt_usd(d['depth_ref_ci95'][1])}), extrapolated 1% depth {fmt_usd(d['depth_1pct_usd'])} "
          f"({fmt_usd(d['depth_1pct_ci95'][0])}..{fmt_usd(d['depth_1pct_ci95'][1])}, sampling only)")


def _emit(out: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(out, allow_nan=False))
        return
    for r in out.get("runs", []):
        amp = r["amplification"]
        print(f"shock {r['shock_pct']:+.2f}% -> move {r['move_pct']:+.2f}% "
              f"(amplification {'n/a' if amp is None else f'{amp:.2f}x'}), price "
              f"{r['reference_price_usd']:,.0f} -> {r['terminal_price_usd']:,.0f} in "
              f"{r['duration_s']:.0f} s; liquidated longs {fmt_usd(r['liquidated_long_usd'])} "
              f"shorts {fmt_usd(r['liquidated_short_usd'])}, vault {fmt_usd(r['vault_usd'])}"
              + (" (truncated)" if r["truncated"] else ""))
    if "curve" in out:
        c = out["curve"]
        print(f"self-sustaining (>= {c['sustain_amplification']:g}x) from up {c['threshold_up_pct']}"
              f" / down {c['threshold_down_pct']} %; asymmetry {c['asymmetry']}")
    if "runs" not in out:
        print(json.dumps(out, indent=1))
    for f in out.get("files", []):
        print(f"wrote {f}")
