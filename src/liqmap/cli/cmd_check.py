"""``liqmap check-hyperliquid``: score the Hyperliquid rule against real liquidation prices."""

from __future__ import annotations

import json

import typer

from liqmap.cli import _options as o

__all__ = ["register"]

_TOL = typer.Option(0.05, "--isolated-tol", help="Tolerance on the implied isolated margin "
                    "for a position to count as isolated-looking.")


def _stats_line(name: str, st: dict) -> str:
    if not st["n"]:
        return f"  {name:<34} n=0"
    return (f"  {name:<34} n={st['n']:>6}  median {st['median_abs_rel_err_pct']:.3f}%  "
            f"p90 {st['p90_abs_rel_err_pct']:.3f}%  within 0.5% {st['share_within_0_5pct']:.1%}"
            f"  within 1% {st['share_within_1pct']:.1%}")


def _text(summary: dict) -> str:
    lines = [
        f"Hyperliquid {summary['coin']}: {summary['n_rows']} rows, {summary['n_with_liq']} with "
        f"a liquidation price, {summary['n_isolated']} isolated-looking "
        f"({summary['isolated_value_share']:.1%} of their value)",
        "abs. relative error of liqmap's rule vs the exchange's liquidation_px:",
        _stats_line("isolated rule, isolated-looking", summary["isolated"]),
        _stats_line("isolated rule, all rows", summary["all_rows"]),
        _stats_line("cross rule (account value), rest", summary["cross_rest"]),
        "share of position value by leverage: " + ", ".join(
            f"{k} {v:.1%}" for k, v in summary["leverage_share"].items()),
        f"isolated-looking: {summary['criterion']}",
    ]
    lines += _leverage_table(summary.get("leverage_vs_presets") or {})
    lines += _crossing_lines(summary.get("crossing") or {})
    return "\n".join(lines)


def _pct(v) -> str:
    return "-" if v is None else f"{v:.1%}"


def _leverage_table(rows: dict) -> list[str]:
    """Measured notional-weighted leverage shares next to each preset, one row per source."""
    if not rows:
        return []
    buckets = list(next(iter(rows.values()))["shares"])
    head = f"  {'':<14}" + "".join(f"{b:>8}" for b in buckets) + f"{'mean':>8}{'median':>8}"
    out = ["notional-weighted leverage, measured vs liqmap presets:", head]
    for name, r in rows.items():
        mean, med = r["mean_leverage"], r["median_leverage"]
        out.append(f"  {name:<14}" + "".join(f"{_pct(r['shares'][b]):>8}" for b in buckets)
                   + f"{'-' if mean is None else f'{mean:.1f}x':>8}"
                   + f"{'-' if med is None else f'{med:g}x':>8}")
    return out


def _crossing_lines(c: dict) -> list[str]:
    """Disappearance of crossed vs uncrossed positions between snapshots."""
    if not c:
        return []
    cr, un = c["crossed"], c["uncrossed"]

    def grp(g: dict) -> str:
        return (f"{g['disappeared']}/{g['n']} = {_pct(g['disappeared_share'])} "
                f"(95% CI {_pct(g['ci_low'])}-{_pct(g['ci_high'])})")

    diff, gap = c["difference"], c["median_gap_hours"]
    return [
        f"positions whose liquidation price the path crossed before the next snapshot "
        f"({c['snapshot_pairs']} snapshot pairs, median gap "
        f"{'-' if gap is None else f'{gap:.1f}'} h; "
        f"path: {c['price_path']}):",
        f"  crossed:   disappeared {grp(cr)}",
        f"  uncrossed: disappeared {grp(un)}",
        "  difference " + ("-" if diff is None else
                           f"{diff:+.1%} (95% CI {_pct(c['difference_ci_low'])} to "
                           f"{_pct(c['difference_ci_high'])})"),
    ]


def register(app: typer.Typer) -> None:
    """Add ``check-hyperliquid`` to ``app``."""

    @app.command("check-hyperliquid")
    def check_hyperliquid_cmd(
        data_dir: str | None = o.DATA_DIR,
        isolated_tol: float = _TOL,
        as_json: bool = o.JSON_OBJECT,
    ) -> None:
        """Error of liqmap's Hyperliquid rule on real whale positions, and their leverage mix."""
        from liqmap.checks.hyperliquid_positions import check_hyperliquid

        summary = check_hyperliquid(data_dir, isolated_tol=isolated_tol).summary()
        print(json.dumps(summary) if as_json else _text(summary))
