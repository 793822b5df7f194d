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
from typing import Optional

import numpy as np
import typer

from liqmap._exceptions import ConfigError
from liqmap.cli import _options as o

__all__ = ["register"]

IMPACT = typer.Option("sqrt", "--impact", help="Impact model: sqrt (square-root law), book "
                      "(walk a real Hyperliquid L2 snapshot), depth (depth profile + MM withdrawal).")
RULES = typer.Option("auto", "--venue-rules", help="auto (each map's venue), binance, "
                     "hyperliquid or market.")


def _daily_volume_usd(bars) -> float | None:
    if bars.volume is None or len(bars) < 2:
        return None
    days = len(bars) * bars.bar_ms / 86_400_000
    return float(np.sum(bars.volume * bars.close) / days)


def _book_impact(book_file: Optional[str], beyond_beta: Optional[float], volume_usd):
    """First snapshot of an HL L2 file, sizes scaled by ``volume_usd / V_HL`` when given."""
    from liqmap.core.impact import BookImpact
    from liqmap.impact_fit import load_impact_preset
    from liqmap.io.hyperliquid import hl_files, read_l2

    path = book_file or next((p for p in hl_files("l2") if "20260621" in p.name), None)
    if path is None:
        raise ConfigError("no L2 file found; pass --book-file PATH (Hyperliquid l2 jsonl.gz)")
    books = read_l2(path, max_rows=1)
    preset = load_impact_preset()
    beta = preset["depth"]["beta"] if beyond_beta is None else beyond_beta
    book = BookImpact.from_snapshot(*books.snapshot(0), beyond_beta=beta, ts_ms=int(books.ts_ms[0]))
    if volume_usd is None:
        return book
    return book.scaled(volume_usd / preset["sqrt"]["volume_daily_usd"])


def _simulator(impact, volume_usd, withdrawal, half_life_s, book_file, beyond_beta,
               venue_rules, step_seconds):
    from liqmap.cascade import CascadeSimulator, default_impact
    from liqmap.core.impact import Resilience

    if impact == "book":
        model = _book_impact(book_file, beyond_beta, volume_usd)
    elif impact in ("sqrt", "depth"):
        model = default_impact(impact, volume_daily_usd=volume_usd, withdrawal=withdrawal)
    else:
        raise ConfigError(f"--impact {impact!r}: use sqrt, book or depth")
    res = None if half_life_s is None else Resilience(half_life_s)
    return CascadeSimulator(model, venue_rules, step_seconds=step_seconds, resilience=res)


def _shocks(shock: float, direction: str) -> list[float]:
    if not math.isfinite(shock):
        raise ConfigError("--shock must be a finite percent, e.g. 3")
    a = abs(shock)
    table = {"auto": [shock], "up": [a], "down": [-a], "both": [a, -a]}
    if direction not in table:
        raise ConfigError(f"--direction {direction!r}: use up, down, both or auto")
    return table[direction]


def _estimate(inputs, sample, lookback, at, venue, leverage):
    from liqmap.cli.cmd_engine import _load, parse_time_ms
    from liqmap.config import build_model

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
        impact: str = IMPACT, venue_rules: str = RULES,
        volume_usd: Optional[float] = typer.Option(None, "--volume-usd", help="Daily USD "
                                                   "volume for sqrt/depth (default: from the bars)."),
        withdrawal: float = typer.Option(0.0, "--withdrawal", help="Market-maker withdrawal "
                                         "factor of the depth model (0 = static book)."),
        half_life_s: Optional[float] = typer.Option(None, "--half-life-s", help="Book "
                                                    "resilience: impact half-life in seconds."),
        step_seconds: float = typer.Option(5.0, "--step-seconds", help="Seconds per step."),
        book_file: Optional[str] = typer.Option(None, "--book-file", help="L2 jsonl.gz for "
                                                "--impact book (first snapshot used)."),
        beyond_beta: Optional[float] = typer.Option(None, "--beyond-beta", help="Depth "
                                                    "exponent past the visible book (book impact)."),
        curve: bool = typer.Option(False, "--curve", help="Also the -30..+30 % curve."),
        plot: Optional[str] = typer.Option(None, "--plot", help="Folder for PNG charts."),
        inputs: Optional[str] = typer.Option(None, "--input", "-i", help="Bar file "
                                             "(default: the bundled sample)."),
        sample: str = o.SAMPLE, lookback: Optional[str] = o.LOOKBACK,
        at: Optional[str] = o.AT, venue: Optional[str] = o.VENUE,
        leverage: Optional[str] = o.LEVERAGE, as_json: bool = o.JSON,
    ) -> None:
        """Simulate the liquidation cascade a price shock sets off on the current map."""
        shocks = _shocks(shock, direction)
        est = _estimate(inputs, sample, lookback, at, venue, leverage)
        vol = volume_usd if volume_usd is not None else _daily_volume_usd(est.bars)
        sim = _simulator(impact, vol, withdrawal, half_life_s, book_file, beyond_beta,
                         venue_rules, step_seconds)
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
        start: str = typer.Option("2026-02-05T15:00", "--start", help="First hour of the move "
                                  "(UTC); the map is taken at the bar before."),
        hours: int = typer.Option(10, "--hours", help="Hours of the move."),
        impact: str = IMPACT, venue_rules: str = RULES,
        volume_usd: Optional[float] = typer.Option(None, "--volume-usd", help="Daily USD volume "
                                                   "(default: the bundled Dec-2025 sample's)."),
        as_json: bool = o.JSON,
    ) -> None:
        """Replay a real move (window A) from the map before it, against realized liquidations."""
        out = run_replay(start, hours, impact, venue_rules, volume_usd)
        _emit(out, as_json)

    @app.command("calibrate-impact")
    def calibrate_impact(
        n_boot: int = typer.Option(200, "--n-boot", help="Bootstrap resamples."),
        save: Optional[str] = typer.Option(None, "--save", help="Write the preset JSON here."),
        as_json: bool = o.JSON,
    ) -> None:
        """Fit Y of the square-root law and the depth profile on window C's Hyperliquid data."""
        from liqmap.impact_fit import calibrate, save_preset

        preset = calibrate(n_boot=n_boot)
        if save:
            preset["saved_to"] = str(save_preset(preset, save))
        if as_json:
            print(json.dumps(preset))
        else:
            _print_fit(preset)


def run_replay(start: str, hours: int, impact: str, venue_rules: str, volume_usd) -> dict:
    """Map at the bar before ``start``, then :func:`liqmap.cascade.replay` over ``hours``."""
    from liqmap.cascade import replay
    from liqmap.cli.cmd_engine import parse_time_ms
    from liqmap.io.coinglass import coinglass_files, read_realized, read_regime_bars
    from liqmap.io.sample import load_sample
    from liqmap.model import LiquidationModel

    f = coinglass_files("coinglass_BTC_regime_1h_*.csv.gz")
    if not f or hours < 1:
        raise ConfigError("no hourly Coinglass regime file found (or --hours < 1)")
    bars, real = read_regime_bars(f[0]), read_realized(f[0])
    t0 = parse_time_ms(start)
    t1 = t0 + hours * 3_600_000
    est = LiquidationModel(venue="binance").run(bars.window(None, t0))
    after = bars.window(t0, t1)
    vol = volume_usd if volume_usd is not None else _daily_volume_usd(load_sample())
    sim = _simulator(impact, vol, 0.0, None, None, None, venue_rules, 5.0)
    rl, rs = real.between(t0, t1)
    out = replay(sim, est.final_map, open_usd=after.open, high_usd=after.high,
                 low_usd=after.low, close_usd=after.close, realized_long_usd=rl,
                 realized_short_usd=rs)
    out.update(map_ts_ms=int(est.final_map.ts_ms), start_ms=t0, end_ms=t1, source=f[0].name,
               impact=impact, volume_daily_usd=vol)
    return out


def _print_fit(p: dict) -> None:
    s, d = p["sqrt"], p["depth"]
    print(f"impact preset {p['name']}  trades {p['span']['trades'][0]} -> {p['span']['trades'][1]}"
          f"  L2 {p['span']['l2'][0]} -> {p['span']['l2'][1]}")
    print(f"square-root law ({s['interval_s']:.0f} s intervals, n={s['n_intervals']}): "
          f"Y = {s['y']:.3f} +/- {s['y_se']:.3f} (95% CI {s['y_ci95'][0]:.3f}..{s['y_ci95'][1]:.3f}),"
          f" free exponent {s['exponent']:.2f} ({s['exponent_ci95'][0]:.2f}..{s['exponent_ci95'][1]:.2f}),"
          f" sigma_daily {s['sigma_daily']:.4f}, V_daily ${s['volume_daily_usd'] / 1e9:.2f}B, R2 {s['r2']:.2f}")
    for k, f in p["sqrt_by_interval"].items():
        print(f"  Y at {int(k):>5d} s: {f['y']:.3f} ({f['y_ci95'][0]:.3f}..{f['y_ci95'][1]:.3f})")
    print(f"depth profile (n={d['n_snapshots']} snapshots, visible to {d['x_max_bps']:.1f} bps): "
          f"beta = {d['beta']:.3f} ({d['beta_ci95'][0]:.3f}..{d['beta_ci95'][1]:.3f}), depth within "
          f"{d['x_ref_bps']:g} bps ${d['depth_ref_usd'] / 1e6:.2f}M ({d['depth_ref_ci95'][0] / 1e6:.2f}.."
          f"{d['depth_ref_ci95'][1] / 1e6:.2f}M), extrapolated 1% depth ${d['depth_1pct_usd'] / 1e6:.0f}M "
          f"({d['depth_1pct_ci95'][0] / 1e6:.0f}..{d['depth_1pct_ci95'][1] / 1e6:.0f}M, sampling only)")


def _emit(out: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(out, allow_nan=False))
        return
    for r in out.get("runs", []):
        amp = r["amplification"]
        print(f"shock {r['shock_pct']:+.2f}% -> move {r['move_pct']:+.2f}% "
              f"(amplification {'n/a' if amp is None else f'{amp:.2f}x'}), price "
              f"{r['reference_price_usd']:,.0f} -> {r['terminal_price_usd']:,.0f} in "
              f"{r['duration_s']:.0f} s; liquidated longs ${r['liquidated_long_usd'] / 1e6:,.1f}M "
              f"shorts ${r['liquidated_short_usd'] / 1e6:,.1f}M, vault ${r['vault_usd'] / 1e6:,.1f}M"
              + (" (truncated)" if r["truncated"] else ""))
    if "curve" in out:
        c = out["curve"]
        print(f"self-sustaining (>= {c['sustain_amplification']:g}x) from up {c['threshold_up_pct']}"
              f" / down {c['threshold_down_pct']} %; asymmetry {c['asymmetry']}")
    if "runs" not in out:
        print(json.dumps(out, indent=1))
    for f in out.get("files", []):
        print(f"wrote {f}")
