"""Parquet export and import of a store, in hive partitions other engines read.

Layout under the export folder::

    bars/venue=binance/symbol=BTC%2FUSDT%3AUSDT/date=2025-12-01/part-0.parquet
    realized/venue=.../symbol=.../date=.../part-0.parquet
    snapshots/venue=.../symbol=.../date=.../part-0.parquet
    runs/date=2025-12-01/part-0.parquet

``date`` is the UTC day of ``ts_ms``. The symbol is made path-safe with hive's own escape
(percent-encoding of ``/``, ``:`` and other reserved characters, as Hive and Spark write
it); pyarrow, DuckDB (``read_parquet(..., hive_partitioning = true)``), Dask and Spark
decode it back to ``BTC/USDT:USDT``. Bars keep NULL (column not given) apart from NaN.
Snapshot arrays are ``list<double>`` columns and params / run summaries JSON strings.

Both functions work through the :class:`~liqmap.store.Store` interface, so any store can
be exported or filled; importing is idempotent because every store write is an upsert.
"""

from __future__ import annotations

import json
from os import PathLike
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from liqmap._exceptions import InputError
from liqmap.bars import Bars
from liqmap.realized import RealizedLiquidations
from liqmap.store import _records as rec
from liqmap.store._base import MapSnapshot, Store

__all__ = ["TABLES", "export_parquet", "import_parquet"]

TABLES = ("bars", "realized", "snapshots", "runs")
_SERIES_PART = pa.schema([("venue", pa.string()), ("symbol", pa.string()),
                          ("date", pa.string())])
_RUNS_PART = pa.schema([("date", pa.string())])


def _check_tables(tables) -> tuple[str, ...]:
    chosen = (tables,) if isinstance(tables, str) else tuple(tables)
    unknown = sorted(set(chosen) - set(TABLES))
    if unknown:
        raise InputError(f"unknown table(s) {unknown}; choose from {list(TABLES)}")
    return chosen


def _utc_dates(ts_ms) -> pa.Array:
    days = np.asarray(ts_ms, dtype=np.int64).astype("datetime64[ms]").astype("datetime64[D]")
    return pa.array(days.astype(str), type=pa.string())


def _with_keys(cols: dict, venue: str, symbol: str, ts_ms) -> pa.Table:
    n = len(ts_ms)
    cols.update(venue=pa.array([venue] * n, pa.string()),
                symbol=pa.array([symbol] * n, pa.string()), date=_utc_dates(ts_ms))
    return pa.table(cols)


def _bars_table(bars: Bars) -> pa.Table:
    batch = rec.bars_batch(bars)
    return _with_keys(dict(zip(batch.column_names, batch.columns)), bars.venue, bars.symbol,
                      bars.ts_ms)


def _realized_table(liq: RealizedLiquidations) -> pa.Table:
    cols = {n: np.asarray(getattr(liq, n)) for n in rec.REALIZED_KEY + ("notional_usd",)}
    return _with_keys(cols, liq.venue, liq.symbol, liq.ts_ms)


def _snapshots_table(snaps: list[MapSnapshot], venue: str, symbol: str) -> pa.Table:
    rows = [rec.snapshot_row(s) for s in snaps]
    names = ("ts_ms", "price_usd", "price_bins_usd", "long_usd", "short_usd", "params")
    types = (pa.int64(), pa.float64(), *([pa.list_(pa.float64())] * 3), pa.string())
    cols = {n: pa.array([r[i + 2] for r in rows], t) for i, (n, t) in enumerate(zip(names, types))}
    return _with_keys(cols, venue, symbol, [s.ts_ms for s in snaps])


def _runs_table(runs: list[dict]) -> pa.Table:
    oldest_first = runs[::-1]
    return pa.table({
        "run_id": pa.array([r["run_id"] for r in oldest_first], pa.string()),
        "kind": pa.array([r["kind"] for r in oldest_first], pa.string()),
        "ts_ms": pa.array([r["ts_ms"] for r in oldest_first], pa.int64()),
        "seq": pa.array(np.arange(len(runs), dtype=np.int64)),
        "params": pa.array([rec.to_json(r["params"], "run params") for r in oldest_first]),
        "summary": pa.array([rec.to_json(r["summary"], "run summary") for r in oldest_first]),
        "date": _utc_dates([r["ts_ms"] for r in oldest_first]),
    })


def _write(table: pa.Table, folder: Path, part: pa.Schema) -> None:
    ds.write_dataset(table, folder, format="parquet", basename_template="part-{i}.parquet",
                     partitioning=ds.partitioning(part, flavor="hive"),
                     existing_data_behavior="delete_matching")


def export_parquet(store: Store, out_dir: str | PathLike,
                   tables=TABLES) -> dict[str, int]:
    """Write the store's tables as hive-partitioned Parquet under ``out_dir``.

    Parameters
    ----------
    store : Store
        Any store (read through the interface).
    out_dir : str or path-like
        Export folder; partitions already there for the same venue/symbol/day are
        replaced, others are left alone.
    tables : iterable of str
        Some of ``"bars", "realized", "snapshots", "runs"`` (default all).

    Returns
    -------
    dict
        Rows written per table.

    Examples
    --------
    >>> export_parquet(store, "export", tables=["bars"])  # doctest: +SKIP
    {'bars': 8928}
    """
    chosen, out = _check_tables(tables), Path(out_dir)
    counts = dict.fromkeys(chosen, 0)
    for info in store.series():
        if info.table not in chosen:
            continue
        if info.table == "bars":
            table = _bars_table(store.read_bars(info.venue, info.symbol))
        elif info.table == "realized":
            table = _realized_table(store.read_realized(info.venue, info.symbol))
        else:
            table = _snapshots_table(store.read_snapshots(info.venue, info.symbol),
                                     info.venue, info.symbol)
        _write(table, out / info.table, _SERIES_PART)
        counts[info.table] += table.num_rows
    if "runs" in chosen:
        runs = store.list_runs()
        if runs:
            _write(_runs_table(runs), out / "runs", _RUNS_PART)
        counts["runs"] = len(runs)
    return counts


def _read(folder: Path, part: pa.Schema) -> pa.Table:
    data = ds.dataset(folder, format="parquet", partitioning=ds.partitioning(part, flavor="hive"))
    return data.to_table()


def _series(table: pa.Table):
    keys = table.select(["venue", "symbol"]).group_by(["venue", "symbol"]).aggregate([])
    for venue, symbol in zip(keys["venue"].to_pylist(), keys["symbol"].to_pylist()):
        mask = pc.and_(pc.equal(table["venue"], venue), pc.equal(table["symbol"], symbol))
        yield venue, symbol, table.filter(mask).sort_by("ts_ms")


def _column(table: pa.Table, name: str) -> np.ndarray | None:
    col = table[name]
    if col.null_count == len(col) and len(col):
        return None
    return np.asarray(col.to_numpy(), dtype=np.float64)


def _import_series(store: Store, name: str, table: pa.Table, source: str) -> None:
    for venue, symbol, sub in _series(table):
        if name == "bars":
            cols = {c: _column(sub, c) for c in rec.BAR_REQUIRED + rec.BAR_OPTIONAL}
            store.write_bars(Bars(ts_ms=sub["ts_ms"].to_numpy(), **cols, venue=venue,
                                  symbol=symbol, source=source))
        elif name == "realized":
            cols = {c: sub[c].to_numpy() for c in rec.REALIZED_KEY + ("notional_usd",)}
            store.write_realized(RealizedLiquidations(**cols, venue=venue, symbol=symbol,
                                                      source=source))
        else:
            for row in sub.to_pylist():
                store.write_snapshot(MapSnapshot(
                    venue=venue, symbol=symbol, ts_ms=row["ts_ms"], price_usd=row["price_usd"],
                    price_bins_usd=np.asarray(row["price_bins_usd"], dtype=np.float64),
                    long_usd=np.asarray(row["long_usd"], dtype=np.float64),
                    short_usd=np.asarray(row["short_usd"], dtype=np.float64),
                    params=json.loads(row["params"])))


def import_parquet(store: Store, in_dir: str | PathLike, tables=TABLES) -> dict[str, int]:
    """Fill ``store`` from an export made by :func:`export_parquet` (idempotent).

    Each series is written in one transaction; importing the same folder again stores
    nothing twice (bars and snapshots are upserts, liquidations de-duplicated, runs keyed
    by their id). Runs need a store whose ``record_run`` accepts ``run_id`` and ``ts_ms``
    (``DuckDBStore`` does).

    Returns
    -------
    dict
        Rows read per table found in ``in_dir``.

    Raises
    ------
    InputError
        When ``in_dir`` holds none of the requested tables.
    """
    chosen, folder = _check_tables(tables), Path(in_dir)
    found = [t for t in chosen if (folder / t).is_dir()]
    if not found:
        raise InputError(f"no liqmap Parquet export in {folder} (expected folders "
                         f"{list(chosen)}); give the folder export-parquet wrote")
    counts = {}
    for name in found:
        table = _read(folder / name, _RUNS_PART if name == "runs" else _SERIES_PART)
        counts[name] = table.num_rows
        if name == "runs":
            for row in table.sort_by([("ts_ms", "ascending"), ("seq", "ascending")]).to_pylist():
                store.record_run(row["kind"], json.loads(row["params"]),
                                 json.loads(row["summary"]), run_id=row["run_id"],
                                 ts_ms=row["ts_ms"])
        elif table.num_rows:
            _import_series(store, name, table, f"parquet {folder / name}")
    return counts
