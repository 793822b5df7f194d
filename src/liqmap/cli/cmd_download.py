"""``liqmap download``: a symbol's public history (archive or ccxt venue), resumable."""

from __future__ import annotations

import json

import typer

from liqmap.cli import _options as o

__all__ = ["register"]

_VENUE = o.venue("binance", "binance (public archive data.binance.vision), or a ccxt venue: "
                 "bybit, okx, hyperliquid, binanceusdm.")
_SYMBOL = o.symbol("BTC/USDT:USDT", "ccxt unified symbol (BTC/USD:BTC for Binance COIN-M).")
_START = o.start(..., "First UTC day, YYYY-MM-DD.")
_END = o.end(..., "Last UTC day (included), YYYY-MM-DD.")
_DATASETS = typer.Option("klines-5m,metrics,fundingRate", "--datasets", "-d",
                         help="Comma list: klines-<tf>, metrics, fundingRate, "
                         "liquidationSnapshot, leverageTiers (ccxt spellings ohlcv-<tf>, "
                         "open_interest, funding, liquidations, leverage_tiers also work).")
_OUT = o.out("data", "Output folder (re-runs skip what is there).")
_DB = o.db("Also write each day to this DuckDB file.")
_BASE_URL = typer.Option(None, "--base-url", help="Archive root or API host to use instead "
                         "of the venue's (mirror, proxy).")


def _open_store(path: str | None):
    if not path:
        return None
    from liqmap._exceptions import ConfigError

    try:
        from liqmap.store import DuckDBStore
    except ImportError as exc:
        raise ConfigError(f"--db needs liqmap.store.DuckDBStore, which is not available "
                          f"({exc}); run without --db") from exc
    return DuckDBStore(path)


def _print_table(summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"{summary['venue']} {summary['symbol']}")
    for c in ("fetched", "skipped", "missing", "failed", "MB", "stored bars", "stored liq."):
        t.add_column(c, justify="right")
    t.add_row(*(str(summary[k]) for k in ("fetched", "skipped", "missing", "failed")),
              f"{summary['bytes'] / 1e6:.2f}", str(summary["stored_bars"]),
              str(summary["stored_realized"]))
    con = Console()
    con.print(t)
    for item in summary["files"]["failed"]:
        con.print(f"[red]failed[/] {item['file']}: {item['reason']}")


def _run_with_bar(kwargs: dict):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from liqmap.venues.download import download

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  transient=True) as bar:
        task = bar.add_task("download", total=None)

        def tick(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=label)

        return download(**kwargs, progress=tick)


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command("download")
    def download_cmd(venue: str = _VENUE, symbol: str = _SYMBOL, start: str = _START,
                     end: str = _END, datasets: str = _DATASETS, out: str = _OUT,
                     db: str | None = _DB, base_url: str | None = _BASE_URL,
                     as_json: bool = o.JSON) -> None:
        """Download public history for a symbol and days: Binance archive files (sha256
        checked) or a ccxt venue's REST history. Re-runs fetch only what is missing."""
        from liqmap.venues.download import download

        store = _open_store(db)
        kwargs = dict(venue=venue, symbol=symbol, start=start, end=end, datasets=datasets,
                      out_dir=out, base_url=base_url, store=store)
        try:
            report = download(**kwargs) if as_json else _run_with_bar(kwargs)
        finally:
            if store is not None:
                store.close()
        summary = report.summary()
        if as_json:
            print(json.dumps(summary))
        else:
            _print_table(summary)
        if not report.ok:
            raise typer.Exit(code=1)
