"""Store commands: ingest bars and liquidations, export/import Parquet, show the store.

``--db`` defaults to ``$LIQMAP_DB``, else ``./liqmap.duckdb``. ``--venue`` and ``--symbol``
are checked (and spelled the way the store keeps them) first, then every input file is
read and checked, all before the store is opened: a bad name or file leaves the store as
it was (and creates none); each file is then written in one transaction.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from liqmap._exceptions import InputError
from liqmap.cli import _options as o
from liqmap.timeutil import utc_label

__all__ = ["register"]

DB = o.db("DuckDB store file (default: $LIQMAP_DB, else ./liqmap.duckdb).")
VENUE = o.venue(None, "Venue recorded with the data: binance, binance-inverse, bybit, okx, "
                "hyperliquid (ccxt ids such as binanceusdm accepted; default binance).")
EXPORT_OUT = o.out(..., "Export folder (hive partitions <table>/venue=/symbol=/date=).")
SYMBOL = o.symbol(None, "ccxt unified symbol (BTC/USDT:USDT) or the venue's id (BTCUSDT) "
                  "recorded with the data (default BTC/USDT:USDT).")


def _names(venue: str | None, symbol: str | None) -> dict:
    """Checked, canonical ``--venue``/``--symbol``; not given -> binance BTC/USDT:USDT."""
    from liqmap.store import canonical_series

    name, sym = canonical_series("binance" if venue is None else venue,
                                 "BTC/USDT:USDT" if symbol is None else symbol)
    return {"venue": name, "symbol": sym}


def _series(store) -> list[dict]:
    return [{"table": s.table, "venue": s.venue, "symbol": s.symbol, "rows": s.rows,
             "first_ts_ms": s.first_ts_ms, "last_ts_ms": s.last_ts_ms} for s in store.series()]


def _suspects(store) -> list[dict]:
    return [{"table": x.table, "venue": x.venue, "symbol": x.symbol, "rows": x.rows,
             "examples_ts_ms": list(x.examples_ts_ms), "reason": x.reason}
            for x in store.suspect_rows()]


def _print_suspects(rows: list[dict], db: str) -> None:
    if not rows:
        return
    print(f"warning: {db} holds rows that liqmap's input checks now refuse (stored by an "
          "older liqmap); maps of these series may be wrong:")
    for r in rows:
        ex = f", e.g. ts_ms {r['examples_ts_ms']}" if r["examples_ts_ms"] else ""
        print(f"  {r['table']} {r['venue']} {r['symbol']}: {r['rows']:,} row(s), "
              f"{r['reason']}{ex}")
    print("  to drop them: re-create the store from the source files, or delete them with the "
          "duckdb CLI, e.g. DELETE FROM realized WHERE ts_ms NOT BETWEEN 946684800000 AND "
          "4102444800000 (and for names: UPDATE <table> SET venue = ..., symbol = ...)")


def _print_series(rows: list[dict], db: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"liqmap store {db}")
    for col in ("table", "venue", "symbol", "rows", "first", "last"):
        table.add_column(col, justify="right" if col == "rows" else "left")
    for r in rows:
        table.add_row(r["table"], r["venue"], r["symbol"], f"{r['rows']:,}",
                      utc_label(r["first_ts_ms"]), utc_label(r["last_ts_ms"]))
    Console().print(table if rows else f"liqmap store {db} is empty")


def _report(result: dict, as_json: bool, lines: list[str]) -> None:
    if as_json:
        print(json.dumps(result, allow_nan=False))
        return
    for line in lines:
        print(line)
    _print_series(result["series"], result["db"])


def _load_bars(files: list[Path], sample: str | None, metrics: list[str] | None,
               funding: list[str] | None, names: dict, oi_unit: str,
               contract_size: float | None, repair: bool) -> list:
    from liqmap.io import load_bars, load_sample
    from liqmap.venues.binance import load_binance_bars

    if sample is not None:
        if files or metrics:
            raise InputError("give either --sample or bar files, not both")
        return [load_sample(sample)]
    if not files:
        raise InputError("give one or more bar files (or --sample NAME)")
    if metrics:
        return [load_binance_bars([str(f) for f in files], metrics, funding or None,
                                  repair=repair, **names)]
    if funding:
        raise InputError("--funding goes with Binance klines files and --metrics")
    return [load_bars(f, oi_unit=oi_unit, contract_size=contract_size, repair=repair, **names)
            for f in files]


def _load_liquidations(path: Path, fmt: str, names: dict, symbol_stripped: str,
                       contract_value_usd: float | None):
    from liqmap.venues.binance import (
        liquidation_file_format,
        load_forceorder_csv,
        load_liquidation_snapshot,
    )

    kind = liquidation_file_format(path) if fmt == "auto" else fmt
    if kind == "snapshot":
        return load_liquidation_snapshot(path, contract_value_usd=contract_value_usd, **names)
    if kind == "forceorder":
        return load_forceorder_csv(path, symbol_stripped=symbol_stripped, **names)
    raise InputError(f"--format must be auto, snapshot or forceorder, got {fmt!r}")


def _register_ingest(app: typer.Typer) -> None:
    @app.command("ingest-bars")
    def ingest_bars(
        files: list[Path] | None = typer.Argument(None, help="Bar files (CSV, CSV.gz, "
                                                     "Parquet; Binance klines with --metrics)."),
        venue: str | None = VENUE, symbol: str | None = SYMBOL, db: str | None = DB,
        sample: str | None = o.sample(None, "Ingest a bundled sample instead of files "
                                         "(e.g. btcusdt-5m-2025-12)."),
        metrics: list[str] | None = typer.Option(None, "--metrics", help="Binance metrics "
                                                    "CSV(s): FILEs are then archive klines."),
        funding: list[str] | None = typer.Option(None, "--funding", help="Binance "
                                                    "fundingRate CSV(s), with --metrics."),
        oi_unit: str = o.OI_UNIT, contract_size: float | None = o.CONTRACT_SIZE,
        repair: bool = o.REPAIR, as_json: bool = o.JSON,
    ) -> None:
        """Load bar files (or a bundled sample) and upsert them into the store."""
        from liqmap.store import open_store

        loaded = _load_bars(files or [], sample, metrics, funding, _names(venue, symbol),
                            oi_unit, contract_size, repair)
        with open_store(db) as store:
            inputs = [{"source": b.source, "venue": b.venue, "symbol": b.symbol,
                       "rows": store.write_bars(b)} for b in loaded]
            result = {"db": store.path, "inputs": inputs, "series": _series(store)}
        _report(result, as_json, [f"{i['rows']:,} bars of {i['venue']} {i['symbol']} from "
                                  f"{i['source']}" for i in inputs])

    @app.command("ingest-liquidations")
    def ingest_liquidations(
        files: list[Path] = typer.Argument(..., help="Binance liquidationSnapshot or "
                                           "forceOrder recording CSVs."),
        venue: str | None = VENUE, symbol: str | None = SYMBOL, db: str | None = DB,
        fmt: str = typer.Option("auto", "--format", help="auto, snapshot or forceorder."),
        symbol_stripped: str = typer.Option("BTC", "--symbol-stripped", help="forceOrder "
                                            "recordings: symbol as written, USDT removed."),
        contract_value_usd: float | None = typer.Option(
            None, "--contract-value-usd", help="COIN-M snapshot files: USD per contract."),
        as_json: bool = o.JSON,
    ) -> None:
        """Store realized liquidations, de-duplicated (repeated rows are stored once)."""
        from liqmap.store import open_store

        names = _names(venue, symbol)
        loaded = [_load_liquidations(f, fmt, names, symbol_stripped, contract_value_usd)
                  for f in files]
        with open_store(db) as store:
            inputs = [{"source": liq.source, "rows_read": len(liq),
                       "rows_new": store.write_realized(liq)} for liq in loaded]
            result = {"db": store.path, "inputs": inputs, "series": _series(store)}
        _report(result, as_json, [f"{i['rows_new']:,} new of {i['rows_read']:,} liquidations "
                                  f"from {i['source']}" for i in inputs])


def _register_parquet(app: typer.Typer) -> None:
    @app.command("export-parquet")
    def export_cmd(
        out: Path = EXPORT_OUT,
        db: str | None = DB,
        table: list[str] | None = typer.Option(None, "--table", help="bars, realized, "
                                                  "snapshots, runs, predictions, "
                                                  "level_approaches, tier_tables (repeatable;"
                                                  " default all)."),
        as_json: bool = o.JSON,
    ) -> None:
        """Export the store as Parquet that DuckDB, pyarrow, Dask or Spark read."""
        from liqmap.store import TABLES, export_parquet, open_store

        with open_store(db, read_only=True) as store:
            counts = export_parquet(store, out, tables=table or TABLES)
            result = {"db": store.path, "out": str(out), "rows": counts,
                      "series": _series(store)}
        _report(result, as_json, [f"exported {n:,} {t} rows to {out}" for t, n in counts.items()])

    @app.command("import-parquet")
    def import_cmd(
        folder: Path = typer.Argument(..., help="A folder written by export-parquet."),
        db: str | None = DB, as_json: bool = o.JSON,
    ) -> None:
        """Import an export-parquet folder (idempotent: nothing is stored twice)."""
        from liqmap.store import import_parquet, open_store, read_parquet_export

        export = read_parquet_export(folder)  # every file checked before the store is opened
        with open_store(db) as store:
            counts = import_parquet(store, export)
            result = {"db": store.path, "in": str(folder), "rows": counts,
                      "series": _series(store)}
        _report(result, as_json, [f"read {n:,} {t} rows from {folder}" for t, n in counts.items()])

    @app.command("show-store")
    def show_store(db: str | None = DB, as_json: bool = o.JSON) -> None:
        """What the store holds: rows and time span per table, venue and symbol."""
        from liqmap.store import open_store

        with open_store(db, read_only=True) as store:
            path, series, runs, suspect = (store.path, _series(store), len(store.list_runs()),
                                           _suspects(store))
            result = {"db": path, "series": series, "runs": runs, "suspect": suspect}
        _report(result, as_json, [])
        if not as_json:
            _print_suspects(suspect, path)


def register(app: typer.Typer) -> None:
    """Add the store commands to ``app``."""
    _register_ingest(app)
    _register_parquet(app)
