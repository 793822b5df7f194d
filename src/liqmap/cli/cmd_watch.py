"""``liqmap watch``: replay bars through the level watcher and print each alert as it fires."""

from __future__ import annotations

import json
import re
import sys

import typer

from liqmap._exceptions import ConfigError
from liqmap.cli import _options as o
from liqmap.fmt import fmt_usd
from liqmap.timeutil import UNIT_MS, parse_time_ms, utc_minute

__all__ = ["parse_period_ms", "record_approaches", "register", "report_approaches"]

_SAMPLE = o.sample(None, "Bundled sample name (default btcusdt-5m-2025-12 when no "
                   "--input/--db).")
_INPUT = o.input_file(None, "Bar file (CSV, CSV.gz, Parquet).")
_DB = o.db("DuckDB store file to read bars from (with --venue, --symbol).")
_VENUE = o.venue("binance", "Venue of the bars in --db.")
_SYMBOL = o.symbol("BTC/USDT:USDT", "Symbol of the bars in --db.")
_DIST = typer.Option(1.0, "--distance-pct", help="Alert when a cluster is within this "
                     "distance of price, percent.")
_MIN = typer.Option(0.0, "--min-notional", help="Ignore clusters below this notional (USD).")
_SIDE = o.side("both", "Clusters of: both, long, short.")
_HOOK = typer.Option(None, "--webhook", help="POST each alert as JSON to this URL.")
_TIMEOUT = typer.Option(5.0, "--webhook-timeout", help="Webhook timeout, seconds.")
_EVERY = typer.Option("1h", "--every", help="How often the map is refreshed: 15m, 1h, 4h, 1d.")
_START = o.start(None, "Alert only from this time (ISO UTC or Unix ms); earlier bars still "
                 "build the book.")
_JSON = o.as_json("One JSON object per alert (JSON lines); the summary goes to stderr. With "
                  "--report / --record: one JSON object.")
_REPORT = typer.Option(False, "--report", help="List the level approaches stored in --db "
                       "(what followed each) and a summary per side; --venue/--symbol narrow it.")
_RECORD = typer.Option(False, "--record", help="Compute every approach over the bars and "
                       "realized liquidations stored in --db and store it (pending ones are "
                       "resolved as later bars arrive).")
_SINCE = o.since(None, "--report: approaches from this time (ISO UTC or Unix ms).")
_HORIZON = typer.Option("1h", "--horizon", help="--record: what followed an approach is read "
                        "over this long: 15m, 1h, 4h.")


def parse_period_ms(text: str) -> int:
    """``"15m"``, ``"1h"``, ``"4h"``, ``"1d"`` -> milliseconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([mhd])\s*", text or "")
    if not m or float(m.group(1)) <= 0:
        raise ConfigError(f"--every {text!r}: give a period like 15m, 1h, 4h or 1d")
    return int(float(m.group(1)) * UNIT_MS[m.group(2)])


def _bars(sample, input_path, db, venue, symbol):
    if sum(x is not None for x in (sample, input_path, db)) > 1:
        raise ConfigError("give one of --sample, --input, --db")
    if db is not None:
        try:
            from liqmap.store import DuckDBStore
        except ImportError:
            raise ConfigError("--db needs liqmap.store.DuckDBStore, not available in this "
                              "install; use --input") from None
        store = DuckDBStore(db, read_only=True)
        try:
            return store.read_bars(venue, symbol)
        finally:
            store.close()
    if input_path is not None:
        from liqmap.io.generic import load_bars

        return load_bars(input_path)
    from liqmap.io.sample import load_sample

    return load_sample(sample) if sample else load_sample()


def _line(a) -> str:
    where = "below" if a.distance_pct < 0 else "above"
    return (f"{utc_minute(a.ts_ms)} UTC  price {a.price_usd:,.1f}  {a.side} cluster "
            f"{a.cluster_price_usd:,.1f} ({fmt_usd(a.notional_usd)}) {abs(a.distance_pct):.2f}% "
            f"{where}  [rule <= {a.rule.distance_pct:g}%, >= {fmt_usd(a.rule.min_notional_usd)}]")


def _explicit(ctx: typer.Context, name: str) -> bool:
    """True when option ``name`` was given (command line or environment), not defaulted.

    Compared by the source's name: typer may bundle its own click (``typer._click``), whose
    ``ParameterSource`` members never equal ``click.core.ParameterSource``'s."""
    src = ctx.get_parameter_source(name)
    return src is not None and getattr(src, "name", str(src)) not in ("DEFAULT", "DEFAULT_MAP")


def record_approaches(db: str, venue: str, symbol: str, rule, step_ms: int, horizon_ms: int,
                      start_ms: int | None) -> dict:
    """``--record``: approaches over the stored bars and realized liquidations, upserted
    (stored pending ones re-read too); return ``{"written", "approaches", "pending"}``."""
    from liqmap.model import LiquidationModel
    from liqmap.store import DuckDBStore
    from liqmap.watch.approaches import resolve_pending, watch_approaches
    from liqmap.watch.snapshots import every_bars

    with DuckDBStore(db) as store:
        bars = store.read_bars(venue, symbol)
        realized = store.read_realized(venue, symbol)
        found = watch_approaches(LiquidationModel(venue=bars.venue), bars, [rule], realized,
                                 every=every_bars(step_ms, bars.bar_ms), horizon_ms=horizon_ms,
                                 start_ms=start_ms)
        keys = {(a.ts_ms, a.side, a.cluster_price_usd) for a in found}
        stale = [a for a in store.read_level_approaches(bars.venue, bars.symbol,
                                                        outcome="pending")
                 if (a.ts_ms, a.side, a.cluster_price_usd) not in keys]
        items = found + resolve_pending(stale, bars, realized)
        written = store.write_level_approaches(items)
    return {"written": written, "approaches": len(found),
            "pending": sum(a.outcome == "pending" for a in items)}


def _report_table(items, summary) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console()
    series = sorted({f"{a.venue} {a.symbol}" for a in items})
    one = len(series) == 1
    t = Table(title="Level watch" + (f" {series[0]}" if one else "") + ": approaches of the "
              "map's clusters (beyond: furthest past the level; move, realized: next horizon)",
              show_header=True)
    cols = [("time (UTC)", "left"), ("side", "left"), ("level", "right"), ("notional", "right"),
            ("dist", "right"), ("outcome", "left"), ("beyond", "right"), ("move", "right"),
            ("realized L / S", "right")]
    if not one:
        cols.insert(1, ("series", "left"))
    for col, just in cols:
        t.add_column(col, justify="left" if just == "left" else "right",
                     no_wrap=col not in ("series", "realized L / S"))
    for a in items:
        row = [utc_minute(a.ts_ms), a.side, f"{a.cluster_price_usd:,.0f}",
               fmt_usd(a.notional_usd), f"{a.distance_pct:+.2f}%", a.outcome,
               f"{a.max_beyond_pct:.2f}%" if a.crossed_ts_ms is not None else "-",
               f"{a.move_pct:+.2f}%",
               f"{fmt_usd(a.realized_long_usd)} / {fmt_usd(a.realized_short_usd)}"]
        if not one:
            row.insert(1, f"{a.venue} {a.symbol}")
        t.add_row(*row)
    con.print(t)
    s = Table(title="Summary per side", show_header=True)
    for col in ("side", "approaches", "through", "rejected", "pending", "% through",
                "median realized: through", "rejected"):
        s.add_column(col, justify="left" if col == "side" else "right")

    def _usd(x):
        return "-" if x is None else fmt_usd(x)

    for side, v in summary.items():
        share = "-" if v["through_share"] is None else f"{v['through_share']:.0%}"
        s.add_row(side, str(v["approaches"]), str(v["through"]), str(v["rejected"]),
                  str(v["pending"]), share, _usd(v["median_realized_usd_through"]),
                  _usd(v["median_realized_usd_rejected"]))
    con.print(s)


def report_approaches(db: str, venue: str | None, symbol: str | None,
                      since_ms: int | None) -> tuple[list, dict]:
    """``--report``: the stored approaches (oldest first) and their summary per side."""
    from liqmap.store import DuckDBStore
    from liqmap.watch.approaches import summarize_approaches

    with DuckDBStore(db, read_only=True) as store:
        items = store.read_level_approaches(venue, symbol, start_ms=since_ms)
    return items, summarize_approaches(items)


def register(app: typer.Typer) -> None:
    """Add ``watch`` to ``app``."""

    @app.command("watch")
    def watch_cmd(
        ctx: typer.Context,
        sample: str | None = _SAMPLE, input_path: str | None = _INPUT,
        db: str | None = _DB, venue: str = _VENUE, symbol: str = _SYMBOL,
        distance_pct: float = _DIST, min_notional: float = _MIN, side: str = _SIDE,
        webhook: str | None = _HOOK, webhook_timeout: float = _TIMEOUT,
        every: str = _EVERY, start: str | None = _START, as_json: bool = _JSON,
        report: bool = _REPORT, record: bool = _RECORD, since: str | None = _SINCE,
        horizon: str = _HORIZON,
    ) -> None:
        """Replay the bars one by one, refresh the map every --every, and print an alert each
        time price comes within --distance-pct of a cluster (once per approach).

        With --db: --record stores every approach with what followed (through or rejected,
        realized liquidations in the next --horizon); --report lists the stored ones."""
        if report or record:
            if db is None:
                raise ConfigError("--report and --record work on a store: give --db FILE")
            if sample is not None or input_path is not None or webhook is not None:
                raise ConfigError("--report / --record read --db only; drop --sample, "
                                  "--input and --webhook")
            out: dict = {}
            if record:
                from liqmap.watch import AlertRule

                out["recorded"] = record_approaches(
                    db, venue, symbol, AlertRule(distance_pct, min_notional, side),
                    parse_period_ms(every), parse_period_ms(horizon), parse_time_ms(start))
                if not as_json:
                    r = out["recorded"]
                    print(f"stored {r['written']} level approaches ({r['approaches']} found, "
                          f"{r['pending']} pending) in {db}")
            if report:
                items, summary = report_approaches(
                    db, venue if record or _explicit(ctx, "venue") else None,
                    symbol if record or _explicit(ctx, "symbol") else None,
                    parse_time_ms(since))
                out.update(approaches=[a.to_dict() for a in items], summary=summary)
                if not as_json:
                    _report_table(items, summary)
            if as_json:
                print(json.dumps(out, allow_nan=False))
            return
        from liqmap.model import LiquidationModel
        from liqmap.watch import AlertRule, Watcher, WebhookNotifier
        from liqmap.watch.snapshots import every_bars, watch_bars

        rule = AlertRule(distance_pct, min_notional, side)
        hook = WebhookNotifier(webhook, webhook_timeout) if webhook else None
        watcher = Watcher([rule], callbacks=[hook] if hook else [])
        bars = _bars(sample, input_path, db, venue, symbol)
        step = every_bars(parse_period_ms(every), bars.bar_ms)
        for alert in watch_bars(LiquidationModel(venue=bars.venue), bars, watcher, step,
                                parse_time_ms(start)):
            print(json.dumps(alert.to_dict(), allow_nan=False) if as_json else _line(alert),
                  flush=True)
        summary = {"alerts": watcher.fired, "bars": len(bars), "map_every_bars": step,
                   "webhook_sent": hook.sent if hook else None,
                   "webhook_failures": hook.failures if hook else None,
                   "callback_errors": watcher.callback_errors}
        if as_json:
            print(json.dumps({"summary": summary}), file=sys.stderr)
        else:
            extra = f"; webhook sent {hook.sent}, failed {hook.failures}" if hook else ""
            print(f"{watcher.fired} alerts over {len(bars)} bars (map every {step} bars){extra}")
