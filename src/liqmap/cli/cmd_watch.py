"""``liqmap watch``: replay bars through the level watcher and print each alert as it fires."""

from __future__ import annotations

import json
import re
import sys
from typing import Optional

import typer

from liqmap._exceptions import ConfigError
from liqmap.cli import _options as o
from liqmap.fmt import fmt_usd
from liqmap.timeutil import UNIT_MS, parse_time_ms, utc_minute

__all__ = ["parse_period_ms", "register"]

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
_JSON = o.as_json("One JSON object per alert (JSON lines); the summary goes to stderr.")


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


def register(app: typer.Typer) -> None:
    """Add ``watch`` to ``app``."""

    @app.command("watch")
    def watch_cmd(
        sample: Optional[str] = _SAMPLE, input_path: Optional[str] = _INPUT,
        db: Optional[str] = _DB, venue: str = _VENUE, symbol: str = _SYMBOL,
        distance_pct: float = _DIST, min_notional: float = _MIN, side: str = _SIDE,
        webhook: Optional[str] = _HOOK, webhook_timeout: float = _TIMEOUT,
        every: str = _EVERY, start: Optional[str] = _START, as_json: bool = _JSON,
    ) -> None:
        """Replay the bars one by one, refresh the map every --every, and print an alert each
        time price comes within --distance-pct of a cluster (once per approach)."""
        from liqmap.model import LiquidationModel
        from liqmap.watch import AlertRule, Watcher, WebhookNotifier
        from liqmap.watch.snapshots import every_bars, watch_bars

        rule = AlertRule(distance_pct, min_notional, side)
        hook = WebhookNotifier(webhook, webhook_timeout) if webhook else None
        watcher = Watcher([rule], callbacks=[hook] if hook else [])
        bars = _bars(sample, input_path, db, venue, symbol)
        step = every_bars(parse_period_ms(every), bars.bar_ms)
        for alert in watch_bars(LiquidationModel(), bars, watcher, step, parse_time_ms(start)):
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
