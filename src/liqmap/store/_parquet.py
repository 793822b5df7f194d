"""Parquet export and import of a store, in hive partitions other engines read.

Layout under the export folder::

    bars/venue=binance/symbol=BTC%2FUSDT%3AUSDT/date=2025-12-01/part-0.parquet
    realized/venue=.../symbol=.../date=.../part-0.parquet
    snapshots/venue=.../symbol=.../date=.../part-0.parquet
    runs/date=2025-12-01/part-0.parquet
    predictions/venue=.../symbol=.../date=.../part-0.parquet
    level_approaches/venue=.../symbol=.../date=.../part-0.parquet
    tier_tables/venue=bybit/symbol=BTCUSDT/version=2026-12-01/part-0.parquet

``date`` is the UTC day of ``ts_ms``; tier tables are partitioned by their key (the
venue-native symbol and the version, a fetch date), each keeping its ``fetched_ms``. The
symbol is made path-safe with hive's own escape (percent-encoding of ``/``, ``:`` and other
reserved characters, as Hive and Spark write it); pyarrow, DuckDB
(``read_parquet(..., hive_partitioning = true)``), Dask and Spark decode it back to
``BTC/USDT:USDT``. Bars keep NULL (column not given) apart from NaN.
Snapshot arrays are ``list<double>`` columns; params, run summaries and tiers JSON strings.
An approach's ``crossed_ts_ms`` / ``map_ts_ms`` are NULL where the store has none.

Both functions work through the :class:`~liqmap.store.Store` interface, so any store can
be exported or filled; importing is idempotent because every store write is an upsert.
An import first reads and checks every file (:func:`read_parquet_export`: Parquet, the
table's columns and types, no empty values, times in Unix ms, the store's own checks per
series or record), so a bad folder raises :class:`~liqmap.DataError` naming the file
before any store is opened or written. A table whose folder is absent (an export from a
store made before predictions, level approaches or tier tables) is simply not imported.

An export is written whole or not at all: every table goes first into a hidden staging
folder on the export's file system (``.<name>.tmp-XXXXXXXX`` next to it), each file is
flushed to disk and then moved into place with :func:`os.replace` (atomic per file); the
files a re-export replaces and the stale files of every partition written are moved aside
into the staging folder, which is removed at the end. On any failure (full disk, read-only
folder, a file in the way, Ctrl-C) every move is undone, the staging folder is removed and
the previous export is left as it was; an ``OSError`` becomes :class:`~liqmap.InputError`
naming the path and the fix (through :mod:`liqmap.outputs`).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from liqmap._exceptions import DataError, InputError
from liqmap.core.bars import Bars
from liqmap.core.realized import RealizedLiquidations
from liqmap.core.tiers import TierTable
from liqmap.outputs import ensure_out_dir, output_error
from liqmap.store import _records as rec
from liqmap.store._approaches import APPROACH_COLUMNS, LevelApproach, approach_row
from liqmap.store._base import MapSnapshot, Store
from liqmap.store._predictions import PREDICTION_COLUMNS, BarPrediction, prediction_row
from liqmap.store._tier_tables import TIER_TABLE_COLUMNS, tier_table_from_row, tier_table_row

__all__ = ["TABLES", "ParquetExport", "export_parquet", "import_parquet", "read_parquet_export"]

TABLES = ("bars", "realized", "snapshots", "runs", "predictions", "level_approaches",
          "tier_tables")
#: Tables listed per venue and symbol by ``Store.series()``.
_SERIES_TABLES = ("bars", "realized", "snapshots", "predictions")
_SERIES_PART = pa.schema([("venue", pa.string()), ("symbol", pa.string()),
                          ("date", pa.string())])
_RUNS_PART = pa.schema([("date", pa.string())])
_TIER_PART = pa.schema([("venue", pa.string()), ("symbol", pa.string()),
                        ("version", pa.string())])


def _part(name: str) -> pa.Schema:
    """The hive partitioning of table ``name``."""
    return {"runs": _RUNS_PART, "tier_tables": _TIER_PART}.get(name, _SERIES_PART)


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


def _rows_table(name: str, columns: tuple[str, ...], rows: list[tuple]) -> pa.Table:
    """Validated store rows (in ``columns`` order) as the export table ``name``, its
    partition columns included (``date``: the UTC day of ``ts_ms``)."""
    part = _part(name)
    types = {**_SCHEMAS[name], **_OPTIONAL.get(name, {}), **{k.name: k.type for k in part}}
    cols = {c: pa.array([r[i] for r in rows], types[c]) for i, c in enumerate(columns)}
    if "date" in part.names:
        cols["date"] = _utc_dates([r[columns.index("ts_ms")] for r in rows])
    return pa.table(cols)


def _write(table: pa.Table, folder: Path, part: pa.Schema) -> None:
    ds.write_dataset(table, folder, format="parquet", basename_template="part-{i}.parquet",
                     partitioning=ds.partitioning(part, flavor="hive"),
                     existing_data_behavior="delete_matching")


def _staging(out: Path) -> Path:
    """A new empty folder for a whole export, on the same file system as ``out``.

    A hidden sibling of ``out`` (``.<name>.tmp-XXXXXXXX`` in its parent), so a run killed
    before the commit leaves nothing inside the export; inside ``out`` (hidden, skipped by
    every reader of the export) only when the parent is on another file system (``out`` is
    a mount point) or cannot be written.
    """
    real = out.resolve()
    prefix = f".{real.name or 'export'}.tmp-"
    error: OSError | None = None
    try:
        device = os.stat(real).st_dev
        for folder in dict.fromkeys((real.parent, real)):
            try:
                if os.stat(folder).st_dev == device:
                    return Path(tempfile.mkdtemp(prefix=prefix, dir=folder))
            except OSError as exc:
                error = exc
    except OSError as exc:
        error = exc
    raise output_error(out, error or OSError(f"no writable folder for {out}"))


def _fsync(path: Path, *, folder: bool = False) -> None:
    """Flush ``path`` to disk (best effort for a folder: Windows cannot open one)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        if folder:
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not folder:
            raise
    finally:
        os.close(fd)


class _Commit:
    """Moves a staged export into ``out``, file by file; :meth:`undo` reverses every move.

    Each new file replaces its target with one :func:`os.replace`; the file it replaces is
    kept as a hard link (or, where the file system has none, moved) under
    ``<staging>/.replaced``, and so is every stale entry of a partition folder written
    (``delete_matching``), so that a failure half-way can put the previous export back.
    """

    def __init__(self, staging: Path, out: Path):
        self.staging, self.out, self.old = staging, out, staging / ".replaced"
        self.done: list[tuple[str, Path, Path | None]] = []  # (kind, path, backup)
        self.path = out  # what is being written, for the error message

    def _makedirs(self, folder: Path) -> None:
        missing = []
        while not folder.is_dir():
            missing.append(folder)
            folder = folder.parent
        for d in reversed(missing):
            self.path = d
            os.mkdir(d)
            self.done.append(("made", d, None))

    def _backup(self, path: Path) -> Path:
        backup = self.old / path.relative_to(self.out)
        backup.parent.mkdir(parents=True, exist_ok=True)
        return backup

    def _link_aside(self, path: Path) -> Path | None:
        """A hard link to ``path`` under ``.replaced`` (``path`` stays in place), or None
        where the file system has no hard links (FAT, some network shares)."""
        backup = self._backup(path)
        try:
            os.link(path, backup, follow_symlinks=False)
        except OSError:
            return None
        return backup

    def _move_aside(self, path: Path) -> None:
        """Move ``path`` under ``.replaced``; :meth:`undo` moves it back."""
        backup = self._backup(path)
        os.replace(path, backup)
        self.done.append(("moved", path, backup))

    def run(self, tables) -> None:
        """Move every staged file of ``tables`` into place; an OSError becomes InputError."""
        try:
            self._run(tables)
        except OSError as exc:
            raise output_error(self.path, exc) from None

    def _run(self, tables) -> None:
        new = [p for t in tables for p in sorted((self.staging / t).rglob("*"))
               if not p.is_dir()]
        rels = {p.relative_to(self.staging) for p in new}
        parts = {self.out / r.parent for r in rels}
        stale = sorted(e for d in parts if d.is_dir() for e in d.iterdir()
                       if e.relative_to(self.out) not in rels)
        for src in new:  # on disk before any rename makes it visible
            self.path = self.out / src.relative_to(self.staging)
            _fsync(src)
        for src in new:
            dst = self.out / src.relative_to(self.staging)
            self._makedirs(dst.parent)
            self.path = dst
            if dst.is_dir() and not dst.is_symlink():
                raise IsADirectoryError(errno.EISDIR, "Is a directory", str(dst))
            exists = os.path.lexists(dst)
            backup = self._link_aside(dst) if exists else None
            if exists and backup is None:  # undo moves it back over the new file
                self._move_aside(dst)
            os.replace(src, dst)
            if not exists or backup is not None:
                self.done.append(("placed", dst, backup))
        for entry in stale:  # delete_matching: a written partition holds the new files only
            self.path = entry
            self._move_aside(entry)
        for d in sorted(parts | {self.out}):
            _fsync(d, folder=True)

    def undo(self) -> bool:
        """Put the previous export back; False when some step failed (backups kept)."""
        ok = True
        for kind, path, backup in reversed(self.done):
            try:
                if kind == "made":
                    os.rmdir(path)
                elif backup is not None:
                    os.replace(backup, path)
                elif kind == "placed":
                    path.unlink(missing_ok=True)
            except OSError:
                ok = False
        return ok


def export_parquet(store: Store, out_dir: str | PathLike,
                   tables=TABLES) -> dict[str, int]:
    """Write the store's tables as hive-partitioned Parquet under ``out_dir``.

    The export is whole or absent: it is written into a staging folder first and moved
    into place file by file (:func:`os.replace`); on any failure the previous export is
    left as it was and no temporary folder stays behind.

    Parameters
    ----------
    store : Store
        Any store (read through the interface).
    out_dir : str or path-like
        Export folder (created if missing); partitions already there for the same
        venue/symbol/day are replaced (each then holds exactly the new files), others are
        left alone.
    tables : iterable of str
        Some of :data:`TABLES`: ``"bars", "realized", "snapshots", "runs", "predictions",
        "level_approaches", "tier_tables"`` (default all). A table with no rows gets no
        folder; a store without level approaches or tier tables (no such ``read_*``
        method) has none.

    Returns
    -------
    dict
        Rows written per table.

    Raises
    ------
    InputError
        ``out_dir`` is a file, or cannot be written (read-only file system, permission,
        full disk, a file where a folder should be); the message names the path and fix.

    Examples
    --------
    >>> export_parquet(store, "export", tables=["bars"])  # doctest: +SKIP
    {'bars': 8928}
    """
    chosen, out = _check_tables(tables), Path(out_dir)
    existed = out.is_dir()
    ensure_out_dir(out)
    staging = commit = None
    try:
        staging = _staging(out)
        counts = _export_to(store, chosen, staging, out)
        commit = _Commit(staging, out)
        commit.run(chosen)
    except BaseException as exc:
        if commit is not None and not commit.undo():
            # the staging folder still holds previous files that could not be put back
            note = (f"the export in {out} is incomplete; its previous files are kept in "
                    f"{staging}")
            if isinstance(exc, InputError):
                raise InputError(f"{exc}; {note}") from None
            exc.add_note(note)
            raise
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if not existed:
            with contextlib.suppress(OSError):
                out.rmdir()  # made by this run and still empty
        if isinstance(exc, OSError):
            raise output_error(out, exc) from None
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return counts


def _export_to(store: Store, chosen: tuple[str, ...], staging: Path, out: Path
               ) -> dict[str, int]:
    """Write the chosen tables of ``store`` under ``staging``; rows per table."""
    counts = dict.fromkeys(chosen, 0)

    def write(name: str, table: pa.Table) -> None:
        if table.num_rows:
            try:
                _write(table, staging / name, _part(name))
            except OSError as exc:
                raise output_error(out / name, exc) from None
        counts[name] += table.num_rows

    for info in store.series():
        if info.table not in chosen or info.table not in _SERIES_TABLES:
            continue
        if info.table == "bars":
            table = _bars_table(store.read_bars(info.venue, info.symbol))
        elif info.table == "realized":
            table = _realized_table(store.read_realized(info.venue, info.symbol))
        elif info.table == "snapshots":
            table = _snapshots_table(store.read_snapshots(info.venue, info.symbol),
                                     info.venue, info.symbol)
        else:
            preds = store.read_predictions(info.venue, info.symbol)
            table = _rows_table("predictions", PREDICTION_COLUMNS,
                                [prediction_row(p) for p in preds])
        write(info.table, table)
    if "runs" in chosen:
        runs = store.list_runs()
        if runs:
            write("runs", _runs_table(runs))
    if "level_approaches" in chosen:
        read = getattr(store, "read_level_approaches", None)
        approaches = read() if read is not None else []
        write("level_approaches", _rows_table("level_approaches", APPROACH_COLUMNS,
                                              [approach_row(a) for a in approaches]))
    if "tier_tables" in chosen:
        read = getattr(store, "read_tier_tables", None)
        fetched = read(with_fetched_ms=True) if read is not None else []
        write("tier_tables", _rows_table("tier_tables", TIER_TABLE_COLUMNS,
                                         [tier_table_row(t, ms) for t, ms in fetched]))
    return counts


#: What each table's files must hold (extra columns are ignored), by export-parquet's types.
_F64, _LIST = pa.float64(), pa.list_(pa.float64())
_SCHEMAS = {
    "bars": {"ts_ms": pa.int64(), **{c: _F64 for c in rec.BAR_REQUIRED}},
    "realized": {"ts_ms": pa.int64(), "side": pa.int8(), "price": _F64, "qty_coin": _F64,
                 "notional_usd": _F64},
    "snapshots": {"ts_ms": pa.int64(), "price_usd": _F64, "price_bins_usd": _LIST,
                  "long_usd": _LIST, "short_usd": _LIST, "params": pa.string()},
    "runs": {"run_id": pa.string(), "kind": pa.string(), "ts_ms": pa.int64(),
             "seq": pa.int64(), "params": pa.string(), "summary": pa.string()},
    "predictions": {"ts_ms": pa.int64(), "bar_ms": pa.int64(), "predicted_long_usd": _F64,
                    "predicted_short_usd": _F64, "params": pa.string()},
    "level_approaches": {
        "ts_ms": pa.int64(), "side": pa.string(), "cluster_price_usd": _F64,
        "notional_usd": _F64, "price_usd": _F64, "distance_pct": _F64,
        "horizon_start_ms": pa.int64(), "horizon_ms": pa.int64(), "outcome": pa.string(),
        "max_beyond_pct": _F64, "move_pct": _F64, "realized_long_usd": _F64,
        "realized_short_usd": _F64},
    "tier_tables": {"source": pa.string(), "verified": pa.bool_(), "contract_size": _F64,
                    "inverse": pa.bool_(), "notional_unit": pa.string(), "tiers": pa.string(),
                    "fetched_ms": pa.int64()},
}
#: Columns a file may lack or leave empty (NULL: not given / not known).
_OPTIONAL = {"bars": {c: _F64 for c in rec.BAR_OPTIONAL},
             "level_approaches": {"crossed_ts_ms": pa.int64(), "map_ts_ms": pa.int64()}}
_JSON_COLUMNS = {"snapshots": ("params",), "runs": ("params", "summary"),
                 "predictions": ("params",), "tier_tables": ("tiers",)}
_FIX = "give a folder written by liqmap export-parquet, or remove the file"


@dataclass(frozen=True, slots=True)
class ParquetExport:
    """An export-parquet folder, read and checked: what :func:`import_parquet` writes.

    Made by :func:`read_parquet_export` before any store is opened, so a bad folder leaves
    no store file behind and changes no existing one.
    """

    folder: str
    counts: dict
    bars: tuple[Bars, ...] = ()
    realized: tuple[RealizedLiquidations, ...] = ()
    snapshots: tuple[MapSnapshot, ...] = ()
    runs: tuple[dict, ...] = ()
    predictions: tuple[BarPrediction, ...] = ()
    level_approaches: tuple[LevelApproach, ...] = ()
    tier_tables: tuple[tuple[TierTable, int], ...] = ()  # (table, fetched_ms)


def _files(folder: Path) -> list[Path]:
    """Data files under ``folder`` as pyarrow finds them (names starting . or _ skipped)."""
    return sorted(p for p in folder.rglob("*") if p.is_file()
                  and not any(part.startswith((".", "_")) for part in p.relative_to(folder).parts))


def _first_null(col: pa.ChunkedArray) -> int | None:
    if col.null_count == 0:
        return None
    return int(np.flatnonzero(np.asarray(col.is_null()))[0])


def _read_file(path: Path, folder: Path, name: str, part: pa.Schema) -> pa.Table:
    """One Parquet file of table ``name``, checked: columns, types, nulls, times, JSON."""
    try:
        data = ds.dataset([str(path)], format="parquet", partition_base_dir=str(folder),
                          partitioning=ds.partitioning(part, flavor="hive")).to_table()
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"not a readable Parquet file ({exc}); {_FIX}", source=str(path)) from None
    want = {**_SCHEMAS[name], **{c: t for c, t in _OPTIONAL.get(name, {}).items()
                                 if c in data.column_names}}
    missing = [c for c in _SCHEMAS[name] if c not in data.column_names]
    if missing:
        raise DataError(f"missing column(s) {missing} of a liqmap {name} export; {_FIX}",
                        source=str(path))
    keys = [k.name for k in part if k.name != "date"]  # partition columns a row must have
    layout = "/".join([name, *(f"{k.name}=..." for k in part)])
    cols = {}
    for col, typ in {**want, **{k.name: k.type for k in part}}.items():
        try:
            cols[col] = data[col].cast(typ)
        except (pa.ArrowException, ValueError) as exc:
            raise DataError(f"column {col!r} cannot be read as {typ} ({exc}); {_FIX}",
                            source=str(path)) from None
        needed = col in _SCHEMAS[name] or col in keys
        row = _first_null(cols[col]) if needed else None
        if row is not None:
            where = "the value is empty" if col in _SCHEMAS[name] else \
                f"its folder is not {layout}"
            raise DataError(f"column {col!r}: {where}; {_FIX}", source=str(path), row=row)
    rows = np.arange(data.num_rows)
    if "ts_ms" in cols:
        rec.check_ts_ms(cols["ts_ms"].to_numpy(), str(path), full_range=True, rows=rows)
    for col in _JSON_COLUMNS.get(name, ()):
        for i, text in enumerate(cols[col].to_pylist()):
            try:
                json.loads(text)
            except ValueError as exc:
                raise DataError(f"column {col!r} is not JSON ({exc}); {_FIX}",
                                source=str(path), row=i) from None
    return pa.table(cols)


def _read(folder: Path, name: str, part: pa.Schema) -> pa.Table:
    files = _files(folder)
    tables = [_read_file(f, folder, name, part) for f in files]
    if not tables:
        return pa.table({c: pa.array([], t) for c, t in
                         {**_SCHEMAS[name], **{k.name: k.type for k in part}}.items()})
    try:
        return pa.concat_tables(tables, promote_options="default")
    except pa.ArrowException as exc:
        raise DataError(f"the files of {name} do not share one layout ({exc}); {_FIX}",
                        source=str(folder)) from None


def _series(table: pa.Table):
    keys = table.select(["venue", "symbol"]).group_by(["venue", "symbol"]).aggregate([])
    for venue, symbol in zip(keys["venue"].to_pylist(), keys["symbol"].to_pylist()):
        mask = pc.and_(pc.equal(table["venue"], venue), pc.equal(table["symbol"], symbol))
        yield venue, symbol, table.filter(mask).sort_by("ts_ms")


def _column(table: pa.Table, name: str) -> np.ndarray | None:
    if name not in table.column_names:
        return None
    col = table[name]
    if col.null_count == len(col) and len(col):
        return None
    return np.asarray(col.to_numpy(), dtype=np.float64)


def _bars_of(sub: pa.Table, venue: str, symbol: str, source: str) -> Bars:
    # each column an array, or None where absent or all null (Bars checks them)
    cols: dict[str, Any] = {c: _column(sub, c) for c in rec.BAR_REQUIRED + rec.BAR_OPTIONAL}
    bars = Bars(ts_ms=sub["ts_ms"].to_numpy(), **cols, venue=venue, symbol=symbol, source=source)
    rec.bars_batch(bars)  # the store's own checks, now rather than half-way through
    return bars


def _realized_of(sub: pa.Table, venue: str, symbol: str, source: str) -> RealizedLiquidations:
    cols = {c: sub[c].to_numpy() for c in rec.REALIZED_KEY + ("notional_usd",)}
    liq = RealizedLiquidations(**cols, venue=venue, symbol=symbol, source=source)
    rec.realized_batch(liq)
    return liq


def _snapshots_of(sub: pa.Table, venue: str, symbol: str) -> list[MapSnapshot]:
    out = []
    for row in sub.to_pylist():
        snap = MapSnapshot(
            venue=venue, symbol=symbol, ts_ms=row["ts_ms"], price_usd=row["price_usd"],
            price_bins_usd=np.asarray(row["price_bins_usd"], dtype=np.float64),
            long_usd=np.asarray(row["long_usd"], dtype=np.float64),
            short_usd=np.asarray(row["short_usd"], dtype=np.float64),
            params=json.loads(row["params"]))
        rec.snapshot_row(snap)
        out.append(snap)
    return out


def _runs_of(table: pa.Table, source: str) -> list[dict]:
    out = []
    for row in table.sort_by([("ts_ms", "ascending"), ("seq", "ascending")]).to_pylist():
        if not row["kind"].strip() or not row["run_id"].strip():
            raise DataError(f"run {row['run_id']!r} has an empty run_id or kind; {_FIX}",
                            source=source)
        out.append({"run_id": row["run_id"], "kind": row["kind"], "ts_ms": row["ts_ms"],
                    "params": json.loads(row["params"]), "summary": json.loads(row["summary"])})
    return out


def _prediction_of(row: dict) -> BarPrediction:
    pred = BarPrediction(**{c: row[c] for c in PREDICTION_COLUMNS if c != "params"},
                         params=json.loads(row["params"]))
    prediction_row(pred)  # the store's own checks
    return pred


def _approach_of(row: dict) -> LevelApproach:
    fields: dict[str, Any] = {c: row.get(c) for c in APPROACH_COLUMNS}  # optional: None
    approach = LevelApproach(**fields)
    approach_row(approach)
    return approach


def _tier_table_of(row: dict) -> tuple[TierTable, int]:
    table = tier_table_from_row(tuple(row[c] for c in TIER_TABLE_COLUMNS))
    tier_table_row(table, row["fetched_ms"])
    return table, row["fetched_ms"]


#: Record tables read file by file: each row becomes a record the store's write takes.
_RECORDS = {"predictions": _prediction_of, "level_approaches": _approach_of,
            "tier_tables": _tier_table_of}


def _records(folder: Path, name: str) -> tuple[list, int]:
    """The records of table ``name`` under ``folder``, each put through the store's checks
    (a failure names the file and row); and the rows read."""
    make, out, n = _RECORDS[name], [], 0
    for path in _files(folder):
        table = _read_file(path, folder, name, _part(name))
        n += table.num_rows
        for i, row in enumerate(table.to_pylist()):
            try:
                out.append(make(row))
            except (InputError, ValueError, TypeError) as exc:  # InputError: the store's check
                raise DataError(f"not a valid {name} row: {exc}; {_FIX}", source=str(path),
                                row=i) from None
    return out, n


def _by_series(records) -> list[list]:
    """``records`` grouped by (venue, symbol), in order: one store write each."""
    groups: dict[tuple[str, str], list] = {}
    for r in records:
        groups.setdefault((r.venue, r.symbol), []).append(r)
    return list(groups.values())


def read_parquet_export(in_dir: str | PathLike, tables=TABLES) -> ParquetExport:
    """Read and check a folder written by :func:`export_parquet`; write nothing.

    Every file is opened and checked (a Parquet file, the table's columns and types, no
    empty values, times in Unix ms between 2000 and 2100, JSON columns that parse), then
    every series goes through the store's own checks (known venue, symbol, increasing
    times, plausible liquidations), and so does every prediction, level approach and tier
    table (the checks of ``write_predictions``, ``write_level_approaches`` and
    ``write_tier_table``). A table whose folder is absent is skipped (an older export).
    :func:`import_parquet` then only writes.

    Raises
    ------
    DataError
        Naming the file (and row) and what to do, on the first problem.
    InputError
        When ``in_dir`` holds none of the requested tables, or a series fails the store's
        checks.

    Examples
    --------
    >>> export = read_parquet_export("export")  # doctest: +SKIP
    >>> export.counts  # doctest: +SKIP
    {'bars': 8928, 'runs': 0}
    """
    chosen, folder = _check_tables(tables), Path(in_dir)
    found = [t for t in chosen if (folder / t).is_dir()]
    if not found:
        raise InputError(f"no liqmap Parquet export in {folder} (expected folders "
                         f"{list(chosen)}); give the folder export-parquet wrote")
    counts: dict[str, int] = {}
    out: dict[str, list] = {t: [] for t in TABLES}
    for name in found:
        if name in _RECORDS:
            out[name], counts[name] = _records(folder / name, name)
            continue
        table = _read(folder / name, name, _part(name))
        counts[name] = table.num_rows
        source = f"parquet {folder / name}"
        if name == "runs":
            out["runs"] = _runs_of(table, source)
            continue
        for venue, symbol, sub in _series(table):
            if name == "bars":
                out["bars"].append(_bars_of(sub, venue, symbol, source))
            elif name == "realized":
                out["realized"].append(_realized_of(sub, venue, symbol, source))
            else:
                out["snapshots"] += _snapshots_of(sub, venue, symbol)
    return ParquetExport(folder=str(folder), counts=counts,
                         **{k: tuple(v) for k, v in out.items()})


def import_parquet(store: Store, in_dir: str | PathLike | ParquetExport,
                   tables=TABLES) -> dict[str, int]:
    """Fill ``store`` from an export made by :func:`export_parquet` (idempotent).

    The whole folder is read and checked first (:func:`read_parquet_export`; pass its
    result as ``in_dir`` to check before the store is even opened), so a bad file raises
    before anything is written. Each series is then written in one transaction (its
    predictions and its level approaches too; each tier table on its own, the latest fetch
    last); importing the same folder again stores nothing twice (bars, snapshots,
    predictions, level approaches and tier tables are upserts, liquidations de-duplicated,
    runs keyed by their id). Runs need a store whose ``record_run`` accepts ``run_id`` and
    ``ts_ms``, level approaches and tier tables one with ``write_level_approaches`` and
    ``write_tier_table`` (``DuckDBStore`` has them).

    Returns
    -------
    dict
        Rows read per table found in ``in_dir``.

    Raises
    ------
    DataError
        When a file is not Parquet, lacks the table's columns or holds implausible rows
        (the message names the file and row).
    InputError
        When ``in_dir`` holds none of the requested tables, or ``store`` cannot hold one
        the export has rows of (before anything is written).
    """
    export = in_dir if isinstance(in_dir, ParquetExport) else read_parquet_export(in_dir, tables)
    writers: dict[str, Any] = {}
    for name, method in (("level_approaches", "write_level_approaches"),
                         ("tier_tables", "write_tier_table")):
        writers[name] = getattr(store, method, None)
        if getattr(export, name) and writers[name] is None:
            raise InputError(f"{type(store).__name__} has no {method}, so it cannot hold the "
                             f"export's {name}; import into a DuckDBStore")
    for bars in export.bars:
        store.write_bars(bars)
    for liq in export.realized:
        store.write_realized(liq)
    for snap in export.snapshots:
        store.write_snapshot(snap)
    for run in export.runs:
        store.record_run(run["kind"], run["params"], run["summary"], run_id=run["run_id"],
                         ts_ms=run["ts_ms"])
    for preds in _by_series(export.predictions):
        store.write_predictions(preds)
    for approaches in _by_series(export.level_approaches):
        writers["level_approaches"](approaches)
    for table, fetched_ms in sorted(export.tier_tables, key=lambda pair: pair[1]):
        writers["tier_tables"](table, fetched_ms)
    return dict(export.counts)
