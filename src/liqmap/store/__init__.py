"""Storage behind a small interface; DuckDB (embedded) is the default store.

=============================  ============================================================
``Store``                      the interface (``liqmap.store._base``): bars, realized
                               liquidations, map snapshots, runs, ``series()``
``DuckDBStore``                the default implementation, one DuckDB file or ``:memory:``
``open_store``                 open ``path``, else ``$LIQMAP_DB``, else ``./liqmap.duckdb``
``export_parquet``             hive-partitioned Parquet (venue / symbol / date) for other
                               engines; ``import_parquet`` reads it back, idempotently
``normalise_liquidation_side`` venue order side / position side -> +1 long, -1 short
=============================  ============================================================

SQL stays inside this package.

Examples
--------
>>> from liqmap.store import open_store
>>> store = open_store(":memory:")
>>> store.series()
[]
"""

from __future__ import annotations

from liqmap.store._base import MapSnapshot, SeriesInfo, Store
from liqmap.store._duckdb import DEFAULT_DB, SCHEMA_VERSION, DuckDBStore, open_store
from liqmap.store._parquet import TABLES, export_parquet, import_parquet
from liqmap.store._records import normalise_liquidation_side

__all__ = [
    "DEFAULT_DB",
    "DuckDBStore",
    "MapSnapshot",
    "SCHEMA_VERSION",
    "SeriesInfo",
    "Store",
    "TABLES",
    "export_parquet",
    "import_parquet",
    "normalise_liquidation_side",
    "open_store",
]
