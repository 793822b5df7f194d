"""The default store: one embedded DuckDB file (or ``:memory:``).

Tables: ``bars``, ``realized``, ``snapshots``, ``runs`` and ``liqmap_schema`` (the schema
version). Every ``write_*`` is one transaction (``BEGIN`` ... ``COMMIT``, ``ROLLBACK`` on
any error) and an idempotent upsert on the natural key:

- ``bars``: ``(venue, symbol, ts_ms)``; the last write wins for every column the batch
  carries; an optional column the batch does not carry (``None``) keeps its stored value.
- ``realized``: ``(venue, symbol, ts_ms, side, price, qty_coin)``; the first write wins
  (repeats within a batch and rows already stored are skipped).
- ``snapshots``: ``(venue, symbol, ts_ms)``; the last write wins.
- ``runs``: ``run_id``.
- ``level_approaches``: ``(venue, symbol, ts_ms, side, cluster_price_usd)``; the last write
  wins (a pending approach becomes resolved), except that a resolved approach (``through``,
  ``rejected``) is never replaced by a ``pending`` one (an older export re-imported).
  Created on older store files when they are opened writable; read-only, such a file
  simply has none.
- ``predictions``: ``(venue, symbol, ts_ms)``; the last write wins. The map's predicted
  liquidations per closed bar (``liqmap live --db``), read by the running scorecard; created
  on older store files like ``level_approaches``.
- ``tier_tables``: ``(venue, symbol, version)``; the latest fetch wins: a row is replaced
  only by one whose ``fetched_ms`` is not older. Tier tables fetched by
  ``liqmap tiers --refresh`` (venue-native symbol, version = fetch date, tiers as JSON);
  created on older store files like ``level_approaches``.

A process killed during a write loses nothing committed before and leaves no half batch:
DuckDB replays its write-ahead log on the next open and drops the uncommitted transaction.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb
import pyarrow as pa

from liqmap._exceptions import InputError, RetryLaterError
from liqmap.core.bars import Bars
from liqmap.core.realized import MAX_EVENT_NOTIONAL_USD, RealizedLiquidations
from liqmap.store import _records as rec
from liqmap.store._approaches import (
    APPROACH_COLUMNS,
    LevelApproach,
    approach_from_row,
    approach_row,
)
from liqmap.store._base import MapSnapshot, SeriesInfo, SuspectRows
from liqmap.store._errors import DEFAULT_DB, classify_store_error, store_fault
from liqmap.store._predictions import (
    PREDICTION_COLUMNS,
    BarPrediction,
    prediction_from_row,
    prediction_row,
)
from liqmap.store._tier_tables import TIER_TABLE_COLUMNS, tier_table_from_row, tier_table_row

__all__ = ["DEFAULT_DB", "SCHEMA_VERSION", "DuckDBStore", "classify_store_error",
           "open_store"]

SCHEMA_VERSION = 1
SERIES_TABLES = ("bars", "realized", "snapshots")

_KEY = "venue VARCHAR NOT NULL, symbol VARCHAR NOT NULL, ts_ms BIGINT NOT NULL"
_DDL = (
    "CREATE TABLE IF NOT EXISTS liqmap_schema (version INTEGER NOT NULL, "
    "created_ms BIGINT NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS bars ({_KEY}, open DOUBLE NOT NULL, high DOUBLE NOT NULL, "
    "low DOUBLE NOT NULL, close DOUBLE NOT NULL, open_interest DOUBLE NOT NULL, volume DOUBLE, "
    "taker_buy_volume DOUBLE, taker_delta DOUBLE, funding_rate DOUBLE, "
    "PRIMARY KEY (venue, symbol, ts_ms))",
    f"CREATE TABLE IF NOT EXISTS realized ({_KEY}, side TINYINT NOT NULL, price DOUBLE NOT NULL,"
    " qty_coin DOUBLE NOT NULL, notional_usd DOUBLE NOT NULL, "
    "PRIMARY KEY (venue, symbol, ts_ms, side, price, qty_coin))",
    f"CREATE TABLE IF NOT EXISTS snapshots ({_KEY}, price_usd DOUBLE NOT NULL, "
    "price_bins_usd DOUBLE[] NOT NULL, long_usd DOUBLE[] NOT NULL, short_usd DOUBLE[] NOT NULL, "
    "params VARCHAR NOT NULL, PRIMARY KEY (venue, symbol, ts_ms))",
    "CREATE SEQUENCE IF NOT EXISTS runs_seq",
    "CREATE TABLE IF NOT EXISTS runs (run_id VARCHAR PRIMARY KEY, "
    "seq BIGINT NOT NULL DEFAULT nextval('runs_seq'), kind VARCHAR NOT NULL, "
    "ts_ms BIGINT NOT NULL, params VARCHAR NOT NULL, summary VARCHAR NOT NULL)",
)
#: Level watch (liqmap.watch.approaches): created on older store files when opened writable.
_APPROACH_DDL = (
    f"CREATE TABLE IF NOT EXISTS level_approaches ({_KEY}, side VARCHAR NOT NULL, "
    "cluster_price_usd DOUBLE NOT NULL, notional_usd DOUBLE NOT NULL, price_usd DOUBLE NOT NULL, "
    "distance_pct DOUBLE NOT NULL, horizon_start_ms BIGINT NOT NULL, horizon_ms BIGINT NOT NULL, "
    "outcome VARCHAR NOT NULL, crossed_ts_ms BIGINT, max_beyond_pct DOUBLE NOT NULL, "
    "move_pct DOUBLE NOT NULL, realized_long_usd DOUBLE NOT NULL, "
    "realized_short_usd DOUBLE NOT NULL, map_ts_ms BIGINT, "
    "PRIMARY KEY (venue, symbol, ts_ms, side, cluster_price_usd))"
)
_APPROACH_COLS = ", ".join(APPROACH_COLUMNS)
_APPROACH_SET = ", ".join(f"{c} = excluded.{c}" for c in APPROACH_COLUMNS
                          if c not in ("venue", "symbol", "ts_ms", "side", "cluster_price_usd"))
#: A resolved approach is final: a pending one (an older export, a stale re-run) keeps off it.
_APPROACH_KEEP_RESOLVED = ("WHERE excluded.outcome <> 'pending' "
                           "OR level_approaches.outcome = 'pending'")
#: The running scorecard's per-bar predictions: created on older store files like the above.
_PREDICTION_DDL = (
    f"CREATE TABLE IF NOT EXISTS predictions ({_KEY}, bar_ms BIGINT NOT NULL, "
    "predicted_long_usd DOUBLE NOT NULL, predicted_short_usd DOUBLE NOT NULL, "
    "params VARCHAR NOT NULL, PRIMARY KEY (venue, symbol, ts_ms))"
)
_PREDICTION_COLS = ", ".join(PREDICTION_COLUMNS)
#: Tier tables fetched by ``liqmap tiers --refresh``: created on older store files likewise.
_TIER_DDL = (
    "CREATE TABLE IF NOT EXISTS tier_tables (venue VARCHAR NOT NULL, symbol VARCHAR NOT NULL, "
    "version VARCHAR NOT NULL, source VARCHAR NOT NULL, verified BOOLEAN NOT NULL, "
    "contract_size DOUBLE NOT NULL, inverse BOOLEAN NOT NULL, notional_unit VARCHAR NOT NULL, "
    "tiers VARCHAR NOT NULL, fetched_ms BIGINT NOT NULL, PRIMARY KEY (venue, symbol, version))"
)
_TIER_COLS = ", ".join(TIER_TABLE_COLUMNS)
_BAR_COLS = ("ts_ms",) + rec.BAR_REQUIRED + rec.BAR_OPTIONAL
_BAR_SET = ", ".join([f"{c} = excluded.{c}" for c in rec.BAR_REQUIRED]
                     + [f"{c} = COALESCE(excluded.{c}, bars.{c})" for c in rec.BAR_OPTIONAL])
_REALIZED_COLS = rec.REALIZED_KEY + ("notional_usd",)
_SNAP_COLS = "venue, symbol, ts_ms, price_usd, price_bins_usd, long_usd, short_usd, params"


class DuckDBStore:
    """liqmap's default :class:`~liqmap.store.Store`: an embedded DuckDB database.

    Parameters
    ----------
    path : str or Path
        Database file (created with its folder's files when absent) or ``":memory:"``.
    read_only : bool
        Open without write access (several readers may share a file); writes raise
        :class:`~liqmap.InputError`.

    Raises
    ------
    RetryLaterError
        When another process holds the file's lock, or on another transient I/O failure.
    InputError
        When the file is not a liqmap store, is newer than this liqmap, is damaged or not
        a DuckDB file, is a directory, cannot be written (permission denied), or
        (read-only) does not exist. See :func:`classify_store_error`.

    Examples
    --------
    >>> from liqmap.io import load_sample
    >>> bars = load_sample()
    >>> with DuckDBStore() as store:
    ...     written = store.write_bars(bars)
    ...     back = store.read_bars("binance", "BTC/USDT:USDT")
    >>> written == len(back) == len(bars)
    True
    """

    def __init__(self, path: str | Path = ":memory:", *, read_only: bool = False):
        self._path = str(path)
        self._read_only = bool(read_only)
        self._lock = threading.RLock()
        self._con: duckdb.DuckDBPyConnection | None = None
        if self._path != ":memory:":
            self._check_path(Path(self._path))
        try:
            self._con = duckdb.connect(self._path, read_only=self._read_only)
        except duckdb.Error as exc:
            raise classify_store_error(self._path, exc) from None
        try:
            self._prepare_schema()
        except duckdb.Error as exc:  # damage found when the catalog is first read
            self.close()
            raise classify_store_error(self._path, exc) from None
        except BaseException:
            self.close()
            raise

    def _check_path(self, path: Path) -> None:
        if path.is_dir():
            raise InputError(f"cannot open store {path}: it is a directory, not a DuckDB file; "
                             f"give a file path such as {path / DEFAULT_DB}")
        if self._read_only and not path.is_file():
            raise InputError(f"no store at {path}; ingest data first (liqmap ingest-bars) "
                             "or give --db / LIQMAP_DB")
        if not path.parent.is_dir():
            raise InputError(f"folder {path.parent} does not exist; create it or give another "
                             "path for the store")

    def _prepare_schema(self) -> None:
        con = self._conn()
        have = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables").fetchall()}
        if "liqmap_schema" not in have:
            if self._read_only or have:
                raise InputError(f"{self._path} is not a liqmap store (no liqmap_schema table)"
                                 "; give the file liqmap created")
            with self._transaction() as tx:
                for ddl in _DDL:
                    tx.execute(ddl)
                tx.execute("INSERT INTO liqmap_schema VALUES (?, ?)",
                           [SCHEMA_VERSION, time.time_ns() // 1_000_000])
        version = con.execute("SELECT max(version) FROM liqmap_schema").fetchall()[0][0]
        if version is None or version > SCHEMA_VERSION:
            raise InputError(f"{self._path} has schema version {version}; this liqmap reads "
                             f"version {SCHEMA_VERSION}; upgrade liqmap")
        if "level_approaches" not in have and not self._read_only:
            with self._transaction() as tx:  # a store made before the level watch
                tx.execute(_APPROACH_DDL)
        if "predictions" not in have and not self._read_only:
            with self._transaction() as tx:  # a store made before the running scorecard
                tx.execute(_PREDICTION_DDL)
        if "tier_tables" not in have and not self._read_only:
            with self._transaction() as tx:  # a store made before stored tier tables
                tx.execute(_TIER_DDL)

    # -- plumbing ---------------------------------------------------------------------

    @property
    def path(self) -> str:
        """The database file (or ``":memory:"``)."""
        return self._path

    def _conn(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise InputError(f"store {self._path} is closed; open it again")
        return self._con

    @contextmanager
    def _reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The connection for a read; a damaged, unreadable or locked file is classified."""
        with self._lock:
            con = self._conn()
            try:
                yield con
            except duckdb.Error as exc:
                if not store_fault(exc):
                    raise
                raise classify_store_error(self._path, exc, action="read") from None

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One transaction: COMMIT when the block ends, ROLLBACK on any error.

        A write conflict, a lock or another I/O error becomes :class:`RetryLaterError`;
        a damaged or unwritable file :class:`InputError` (see :func:`classify_store_error`).
        """
        with self._lock:
            con = self._conn()
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
                con.execute("COMMIT")
            except BaseException as exc:
                with suppress(duckdb.Error):  # a failed COMMIT has already rolled back
                    con.execute("ROLLBACK")
                if isinstance(exc, duckdb.TransactionException):
                    raise RetryLaterError(f"store {self._path}: write failed, nothing of this "
                                          f"batch was stored ({exc}); retry") from exc
                if isinstance(exc, duckdb.Error) and store_fault(exc):
                    kind = classify_store_error(self._path, exc, action="write to")
                    if isinstance(kind, RetryLaterError):
                        raise RetryLaterError(f"store {self._path}: write failed, nothing of "
                                              f"this batch was stored ({exc}); retry") from exc
                    raise type(kind)(f"nothing of this batch was stored: {kind}") from exc
                raise

    def _writable(self) -> None:
        if self._read_only:
            raise InputError(f"store {self._path} is open read-only; open it without "
                             "read_only to write")

    def _insert(self, con: duckdb.DuckDBPyConnection, batch, sql: str, params: list) -> None:
        name = f"liqmap_batch_{uuid.uuid4().hex}"
        con.register(name, batch)
        try:
            con.execute(sql.format(batch=name), params).fetchall()
        finally:
            con.unregister(name)

    def _select(self, table: str, cols: tuple[str, ...], venue: str, symbol: str,
                start_ms: int | None, end_ms: int | None, order: str) -> dict:
        sql = f"SELECT {', '.join(cols)} FROM {table} WHERE venue = ? AND symbol = ?"
        params: list = [venue, symbol]
        if start_ms is not None:
            sql += " AND ts_ms >= ?"
            params.append(int(start_ms))
        if end_ms is not None:
            sql += " AND ts_ms < ?"
            params.append(int(end_ms))
        with self._reading() as con:
            return con.execute(f"{sql} ORDER BY {order}", params).fetchnumpy()

    def _source(self, table: str, venue: str, symbol: str) -> str:
        return f"liqmap store {self._path} ({table} {venue} {symbol})"

    # -- bars -------------------------------------------------------------------------

    def write_bars(self, bars: Bars) -> int:
        """Upsert ``bars`` in one transaction; return the number of rows written.

        The last write wins per ``(venue, symbol, ts_ms)``; optional columns that are
        ``None`` on ``bars`` keep the values already stored. Venue and symbol are stored
        in their canonical spelling (``binanceusdm`` -> ``binance``, ``BTCUSDT`` ->
        ``BTC/USDT:USDT``; see :func:`liqmap.store.canonical_series`); an unknown venue
        raises :class:`~liqmap.ConfigError` before anything is written.
        """
        self._writable()
        batch = rec.bars_batch(bars)
        if batch.num_rows == 0:
            return 0
        key = list(rec.check_names(bars.venue, bars.symbol, "bars"))
        sql = (f"INSERT INTO bars (venue, symbol, {', '.join(_BAR_COLS)}) SELECT ?, ?, "
               f"{', '.join(_BAR_COLS)} FROM {{batch}} ON CONFLICT DO UPDATE SET {_BAR_SET}")
        with self._transaction() as con:
            self._insert(con, batch, sql, key)
        return batch.num_rows

    def read_bars(self, venue: str, symbol: str, start_ms: int | None = None,
                  end_ms: int | None = None) -> Bars:
        """Bars with ``start_ms <= ts_ms < end_ms``, sorted by time, carrying the venue's
        stored tier tables (``Bars.tier_tables``: a map made from them applies a table
        fetched by ``liqmap tiers --refresh`` on or before its time).

        Raises :class:`~liqmap.InputError` when no bars of ``venue``/``symbol`` are stored
        at all (an empty window of a stored series gives empty ``Bars``).
        """
        cols = self._select("bars", _BAR_COLS, venue, symbol, start_ms, end_ms, "ts_ms")
        if len(cols["ts_ms"]) == 0 and not self._has("bars", venue, symbol):
            stored = [f"{s.venue} {s.symbol}" for s in self.series() if s.table == "bars"]
            raise InputError(f"no bars stored for {venue} {symbol} in {self._path}; stored: "
                             f"{stored or 'none'}; ingest them first (liqmap ingest-bars)")
        return rec.bars_from_columns(cols, venue, symbol, self._source("bars", venue, symbol),
                                     tuple(self.read_tier_tables(venue)))

    def _has(self, table: str, venue: str, symbol: str) -> bool:
        with self._reading() as con:
            return con.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE venue = ? AND symbol = ? "
                "LIMIT 1)", [venue, symbol]).fetchall()[0][0] > 0

    # -- realized liquidations --------------------------------------------------------

    def write_realized(self, liq: RealizedLiquidations) -> int:
        """Insert liquidations not stored yet (one transaction); return how many were new."""
        self._writable()
        batch = rec.realized_batch(liq)
        if batch.num_rows == 0:
            return 0
        cols = ", ".join(_REALIZED_COLS)
        sql = (f"INSERT INTO realized (venue, symbol, {cols}) SELECT ?, ?, {cols} FROM {{batch}}"
               " ON CONFLICT DO NOTHING")
        count = "SELECT count(*) FROM realized WHERE venue = ? AND symbol = ?"
        key = list(rec.check_names(liq.venue, liq.symbol, "realized liquidations"))
        with self._transaction() as con:
            before = con.execute(count, key).fetchall()[0][0]
            self._insert(con, batch, sql, key)
            after = con.execute(count, key).fetchall()[0][0]
        return int(after - before)

    def read_realized(self, venue: str, symbol: str, start_ms: int | None = None,
                      end_ms: int | None = None) -> RealizedLiquidations:
        """Liquidations with ``start_ms <= ts_ms < end_ms`` (may be empty), by time."""
        cols = self._select("realized", _REALIZED_COLS, venue, symbol, start_ms, end_ms,
                            ", ".join(rec.REALIZED_KEY))
        return rec.realized_from_columns(cols, venue, symbol,
                                         self._source("realized", venue, symbol))

    # -- map snapshots ----------------------------------------------------------------

    def write_snapshot(self, snap: MapSnapshot) -> int:
        """Upsert one map snapshot (last write wins per venue, symbol, ts_ms); return 1."""
        self._writable()
        row = rec.snapshot_row(snap)
        with self._transaction() as con:
            con.execute(f"INSERT INTO snapshots ({_SNAP_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT DO UPDATE SET price_usd = excluded.price_usd, "
                        "price_bins_usd = excluded.price_bins_usd, long_usd = excluded.long_usd,"
                        " short_usd = excluded.short_usd, params = excluded.params", list(row))
        return 1

    def read_snapshots(self, venue: str, symbol: str, start_ms: int | None = None,
                       end_ms: int | None = None) -> list[MapSnapshot]:
        """Snapshots with ``start_ms <= ts_ms < end_ms``, oldest first."""
        sql = f"SELECT {_SNAP_COLS} FROM snapshots WHERE venue = ? AND symbol = ?"
        params: list = [venue, symbol]
        for bound, op in ((start_ms, ">="), (end_ms, "<")):
            if bound is not None:
                sql += f" AND ts_ms {op} ?"
                params.append(int(bound))
        with self._reading() as con:
            rows = con.execute(sql + " ORDER BY ts_ms", params).fetchall()
        return [rec.snapshot_from_row(r) for r in rows]

    # -- level watch ------------------------------------------------------------------

    def write_level_approaches(self, approaches) -> int:
        """Upsert level approaches (:class:`~liqmap.store.LevelApproach`) in one
        transaction; return rows written.

        The key is ``(venue, symbol, ts_ms, side, cluster_price_usd)``; the last write wins,
        so a ``pending`` record is replaced by its resolved one, but a resolved record
        (``through`` / ``rejected``) is never replaced by a ``pending`` one (importing an
        older export keeps the outcome). Returns the records given. Every record is checked
        (canonical names, finite numbers, a known outcome) before the transaction begins.
        """
        self._writable()
        rows = [approach_row(a) for a in approaches]
        if not rows:
            return 0
        marks = ", ".join("?" * len(APPROACH_COLUMNS))
        with self._transaction() as con:
            con.executemany(f"INSERT INTO level_approaches ({_APPROACH_COLS}) VALUES ({marks}) "
                            f"ON CONFLICT DO UPDATE SET {_APPROACH_SET} "
                            f"{_APPROACH_KEEP_RESOLVED}", rows)
        return len(rows)

    def read_level_approaches(self, venue: str | None = None, symbol: str | None = None,
                              start_ms: int | None = None, end_ms: int | None = None,
                              outcome: str | None = None) -> list[LevelApproach]:
        """Stored approaches with ``start_ms <= ts_ms < end_ms``, oldest first.

        ``venue`` / ``symbol`` / ``outcome`` narrow the selection when given (venue and
        symbol in any spelling :func:`~liqmap.store.canonical_series` accepts). A store
        made before the level watch, opened read-only, has none: an empty list.
        """
        where: list[str] = []
        params: list = []
        if venue is not None:
            venue = rec.check_names(venue, symbol or "BTC/USDT:USDT", "level approaches")[0]
            where.append("venue = ?")
            params.append(venue)
        if symbol is not None:
            symbol = rec.check_names(venue or "binance", symbol, "level approaches")[1]
            where.append("symbol = ?")
            params.append(symbol)
        for bound, op in ((start_ms, ">="), (end_ms, "<")):
            if bound is not None:
                where.append(f"ts_ms {op} ?")
                params.append(int(bound))
        if outcome is not None:
            where.append("outcome = ?")
            params.append(outcome)
        sql = f"SELECT {_APPROACH_COLS} FROM level_approaches"
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._reading() as con:
            if not con.execute("SELECT count(*) FROM information_schema.tables WHERE "
                               "table_name = 'level_approaches'").fetchall()[0][0]:
                return []
            rows = con.execute(sql + " ORDER BY ts_ms, venue, symbol, side, cluster_price_usd",
                               params).fetchall()
        return [approach_from_row(r) for r in rows]

    # -- predictions (the running scorecard) -----------------------------------------

    def write_predictions(self, rows) -> int:
        """Upsert per-bar predictions (:class:`~liqmap.store.BarPrediction`) in one
        transaction; return rows written.

        The key is ``(venue, symbol, ts_ms)``; the last write wins. Every record is checked
        (canonical names, whole ms, finite USD >= 0, bar_ms > 0, JSON params) before the
        transaction begins.
        """
        self._writable()
        last = {r[:3]: r for r in (prediction_row(p) for p in rows)}  # a repeat: last wins
        if not last:
            return 0
        batch = pa.table(dict(zip(PREDICTION_COLUMNS, zip(*last.values(), strict=True),
                                  strict=True)))
        sql = (f"INSERT INTO predictions ({_PREDICTION_COLS}) SELECT {_PREDICTION_COLS} FROM "
               "{batch} ON CONFLICT DO UPDATE SET bar_ms = excluded.bar_ms, "
               "predicted_long_usd = excluded.predicted_long_usd, "
               "predicted_short_usd = excluded.predicted_short_usd, params = excluded.params")
        with self._transaction() as con:
            self._insert(con, batch, sql, [])
        return batch.num_rows

    def read_predictions(self, venue: str, symbol: str, start_ms: int | None = None,
                         end_ms: int | None = None) -> list[BarPrediction]:
        """Predictions with ``start_ms <= ts_ms < end_ms``, oldest first (may be empty).

        ``venue`` / ``symbol`` in any spelling :func:`~liqmap.store.canonical_series`
        accepts. A store made before the running scorecard, opened read-only, has none.
        """
        venue, symbol = rec.check_names(venue, symbol, "predictions")
        sql = f"SELECT {_PREDICTION_COLS} FROM predictions WHERE venue = ? AND symbol = ?"
        params: list = [venue, symbol]
        for bound, op in ((start_ms, ">="), (end_ms, "<")):
            if bound is not None:
                sql += f" AND ts_ms {op} ?"
                params.append(int(bound))
        with self._reading() as con:
            if not self._table_exists(con, "predictions"):
                return []
            rows = con.execute(sql + " ORDER BY ts_ms", params).fetchall()
        parsed: dict = {}
        return [prediction_from_row(r, parsed) for r in rows]

    # -- tier tables (liqmap tiers --refresh) -----------------------------------------

    def write_tier_table(self, table, fetched_ms: int) -> int:
        """Store a fetched :class:`~liqmap.core.tiers.TierTable`; return rows written (1,
        or 0 when a later fetch of the same table is already stored).

        The key is ``(venue, symbol, version)``; a second fetch on the same day replaces
        the first, but only when its ``fetched_ms`` is not older than the stored one's (so
        importing an older export keeps the later fetch).
        """
        self._writable()
        row = tier_table_row(table, fetched_ms)
        marks = ", ".join("?" for _ in TIER_TABLE_COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in TIER_TABLE_COLUMNS[3:])
        with self._transaction() as con:
            done = con.execute(f"INSERT INTO tier_tables ({_TIER_COLS}) VALUES ({marks}) "
                               f"ON CONFLICT DO UPDATE SET {updates} "
                               "WHERE excluded.fetched_ms >= tier_tables.fetched_ms",
                               list(row)).fetchall()
        return int(done[0][0]) if done else 1

    def read_tier_tables(self, venue: str | None = None, symbol: str | None = None, *,
                         with_fetched_ms: bool = False) -> list:
        """Stored tier tables (:class:`~liqmap.core.tiers.TierTable`), by venue, symbol and
        version (may be empty; a store made before them, opened read-only, has none).

        ``with_fetched_ms``: ``(table, fetched_ms)`` pairs instead (Parquet export keeps
        the fetch time)."""
        sql, params = f"SELECT {_TIER_COLS} FROM tier_tables WHERE true", []
        for col, val in (("venue", venue), ("symbol", symbol)):
            if val is not None:
                sql += f" AND {col} = ?"
                params.append(val)
        with self._reading() as con:
            if not self._table_exists(con, "tier_tables"):
                return []
            rows = con.execute(sql + " ORDER BY venue, symbol, version", params).fetchall()
        if with_fetched_ms:
            return [(tier_table_from_row(r), int(r[-1])) for r in rows]
        return [tier_table_from_row(r) for r in rows]

    @staticmethod
    def _table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
        return con.execute("SELECT count(*) FROM information_schema.tables WHERE "
                           "table_name = ?", [table]).fetchall()[0][0] > 0

    # -- runs -------------------------------------------------------------------------

    def record_run(self, kind: str, params: dict, summary: dict, *, run_id: str | None = None,
                   ts_ms: int | None = None) -> str:
        """Record a model/backtest run; return its id.

        ``run_id`` and ``ts_ms`` are normally left out (a new id, now); Parquet import
        passes them so that importing twice stores a run once.
        """
        self._writable()
        if not isinstance(kind, str) or not kind.strip():
            raise InputError(f"run kind must be a non-empty string such as 'backtest', got "
                             f"{kind!r}")
        run = run_id or uuid.uuid4().hex
        row = [run, kind,
               time.time_ns() // 1_000_000 if ts_ms is None else int(ts_ms),
               rec.to_json(params, "run params"), rec.to_json(summary, "run summary")]
        with self._transaction() as con:
            con.execute("INSERT INTO runs (run_id, kind, ts_ms, params, summary) VALUES "
                        "(?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET kind = excluded.kind, "
                        "ts_ms = excluded.ts_ms, params = excluded.params, "
                        "summary = excluded.summary", row)
        return run

    def list_runs(self, kind: str | None = None) -> list[dict]:
        """Recorded runs, newest first: ``{"run_id", "kind", "ts_ms", "params", "summary"}``."""
        sql = "SELECT run_id, kind, ts_ms, params, summary FROM runs"
        params = [] if kind is None else [kind]
        if kind is not None:
            sql += " WHERE kind = ?"
        with self._reading() as con:
            rows = con.execute(sql + " ORDER BY ts_ms DESC, seq DESC", params).fetchall()
        return [{"run_id": r[0], "kind": r[1], "ts_ms": int(r[2]), "params": json.loads(r[3]),
                 "summary": json.loads(r[4])} for r in rows]

    # -- inventory --------------------------------------------------------------------

    def series(self) -> list[SeriesInfo]:
        """What is stored, per table (bars, realized, snapshots, predictions), venue and
        symbol."""
        with self._reading() as con:
            tables = SERIES_TABLES + (("predictions",)
                                      if self._table_exists(con, "predictions") else ())
            sql = " UNION ALL ".join(
                f"SELECT '{t}', venue, symbol, count(*), min(ts_ms), max(ts_ms) FROM {t} "
                "GROUP BY venue, symbol" for t in tables)
            rows = con.execute(sql + " ORDER BY 1, 2, 3").fetchall()
        return [SeriesInfo(table=r[0], venue=r[1], symbol=r[2], rows=int(r[3]),
                           first_ts_ms=int(r[4]), last_ts_ms=int(r[5])) for r in rows]

    def suspect_rows(self, examples: int = 3) -> list[SuspectRows]:
        """Rows an older liqmap stored that today's checks refuse, per table and series.

        Times outside 2000..2100 (seconds or microseconds taken for ms), liquidations
        above :data:`~liqmap.core.realized.MAX_EVENT_NOTIONAL_USD`, and venue or symbol names
        that are not canonical (the map API cannot serve them). Reading never fails on
        them; this says which they are.
        """
        lo, hi = rec.TS_MS_RANGE
        checks = [(t, f"ts_ms < {lo} OR ts_ms > {hi}", "ts_ms outside 2000..2100 (seconds or "
                   "microseconds stored as ms)") for t in SERIES_TABLES]
        checks.append(("realized", f"abs(notional_usd) > {MAX_EVENT_NOTIONAL_USD!r}",
                       f"notional_usd above {MAX_EVENT_NOTIONAL_USD:.0e} USD"))
        out = []
        with self._reading() as con:
            for table, where, reason in checks:
                rows = con.execute(
                    f"SELECT venue, symbol, count(*), list(ts_ms ORDER BY ts_ms)[1:{int(examples)}]"
                    f" FROM {table} WHERE {where} GROUP BY ALL ORDER BY ALL").fetchall()
                out += [SuspectRows(table, r[0], r[1], int(r[2]), tuple(int(t) for t in r[3]),
                                    reason) for r in rows]
        for info in self.series():
            why = rec.name_problem(info.venue, info.symbol)
            if why:
                out.append(SuspectRows(info.table, info.venue, info.symbol, info.rows, (), why))
        return out

    def close(self) -> None:
        """Release the database (idempotent)."""
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def __enter__(self) -> DuckDBStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self._read_only else "read-write"
        state = "closed" if self._con is None else mode
        return f"DuckDBStore({self._path!r}, {state})"


def open_store(path: str | Path | None = None, *, read_only: bool = False) -> DuckDBStore:
    """Open the store at ``path``, else ``$LIQMAP_DB``, else ``./liqmap.duckdb``.

    Examples
    --------
    >>> store = open_store(":memory:")
    >>> store.series()
    []
    """
    if path is None:
        path = os.environ.get("LIQMAP_DB") or DEFAULT_DB
    return DuckDBStore(path, read_only=read_only)
