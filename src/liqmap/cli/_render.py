"""Human-readable output of the engine commands (rich tables)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from liqmap.fmt import fmt_usd
from liqmap.timeutil import utc_label


def _usd_band(rec: dict) -> str:
    """``$1.2B ($0.8B..$1.9B)`` when the record carries a notional band, else the value."""
    lo, hi = rec.get("notional_low_usd"), rec.get("notional_high_usd")
    band = "" if lo is None or hi is None else f" ({fmt_usd(lo)}..{fmt_usd(hi)})"
    return fmt_usd(rec["notional_usd"]) + band


def _level_label(name: str, sides: str, lv: dict) -> str:
    """``squeeze ceiling @ 104,000 (+4.0%, band 103,000..106,000): 90% of the shorts within
    +50%`` (the value column holds the shorts within reach)."""
    lo, hi = lv.get("price_low_usd"), lv.get("price_high_usd")
    band = "" if lo is None or hi is None else f", band {lo:,.0f}..{hi:,.0f}"
    sign = "+" if sides == "shorts" else "-"
    return (f"{name} @ {lv['price_usd']:,.0f} ({lv['distance_pct']:+.1f}%{band}): "
            f"{lv['share']:.0%} of the {sides} within {sign}{lv['reach_pct']:g}%")


def print_summary(s: dict) -> None:
    """Print an engine summary (the dict of ``Estimate.summary`` plus extras)."""
    con = Console()
    m = s.get("aggregate_map") or s["map"]
    warm = f", after {s['warmup_bars']:,} warm-up bars" if s.get("warmup_bars") else ""
    con.print(f"[bold]{s['symbol']}[/] {s.get('venues') or s['venue']}  "
              f"{utc_label(s['start_ms'])} -> {utc_label(s['end_ms'])}  ({s['bars']:,} bars"
              f"{warm})  price {m['price_usd']:,.2f}")
    p = s["params"]
    con.print(f"leverage={p['leverage']} side_model={p['side_model']} oi_policy={p['oi_policy']}"
              f" engine {s['engine_seconds']:.3f} s (+ load {s.get('load_seconds', 0.0):.3f} s)")
    t = Table(title="Liquidation map", show_header=True)
    t.add_column("figure")
    t.add_column("value", justify="right")
    imb = s["imbalance"]
    t.add_row(f"shorts {imb['short_from_usd']:,.0f}..{imb['short_to_usd']:,.0f}",
              fmt_usd(imb["short_usd"]))
    t.add_row(f"longs {imb['long_from_usd']:,.0f}..{imb['long_to_usd']:,.0f}",
              fmt_usd(imb["long_usd"]))
    ratio = imb["ratio"]
    band = ""
    if imb.get("ratio_low") is not None:
        band = f"  (band {imb['ratio_low']:.2f}..{imb['ratio_high']:.2f})"
    t.add_row("imbalance shorts:longs", ("n/a" if ratio is None else f"{ratio:.2f}:1") + band)
    clusters = [c for side in ("short", "long") for c in m["clusters"].get(side, [])[:3]]
    for c in clusters:
        t.add_row(f"cluster {c['side']} @ {c['price_usd']:,.0f} ({c['distance_pct']:+.1f}%)",
                  _usd_band(c))
    for side, z in m["densest_zone"].items():
        if z:
            t.add_row(f"densest {side} zone {z['from_usd']:,.0f}..{z['to_usd']:,.0f} "
                      f"({z['distance_pct']:+.1f}%)", _usd_band(z))
    mp = m.get("harvest_level") or m.get("max_pain")  # max_pain: the same, older summaries
    if mp and mp.get("price_usd") is not None:
        t.add_row(f"harvest level (most notional per unit of push), {mp['side']} @ "
                  f"{mp['price_usd']:,.0f} ({mp['distance_pct']:+.1f}%)", _usd_band(mp))
    for key, sides in (("squeeze_ceiling", "shorts"), ("flush_floor", "longs")):
        lv = m.get(key)
        if lv and lv.get("price_usd") is not None:
            t.add_row(_level_label(key.replace("_", " "), sides, lv),
                      fmt_usd(lv[f"{sides}_total_usd"]))
    t.add_row("predicted liquidations long / short",
              f"{fmt_usd(s['predicted_long_usd'])} / {fmt_usd(s['predicted_short_usd'])}")
    con.print(t)
    for name, path in (s.get("files") or {}).items():
        con.print(f"wrote {name}: {path}")
    if s.get("repairs"):
        con.print(f"[yellow]repairs applied:[/] {'; '.join(s['repairs'])}")
