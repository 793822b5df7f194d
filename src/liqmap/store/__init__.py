"""Storage behind a small interface; DuckDB (embedded) is the default store.

=============================  ============================================================
``Store``                      the interface (``liqmap.store._base``): bars, realized
                               liquidations, map snapshots, runs, ``series()``
``DuckDBStore``                the default implementation, one DuckDB file or ``:memory:``
``open_store``                 open ``path``, else ``$LIQMAP_DB``, else ``./liqmap.duckdb``
``export_parquet``             hive-partitioned Parquet (venue / symbol / date) for other
                               engines; ``import_parquet`` reads it back, idempotently
``read_parquet_export``        read and check an export before any store is opened
``normalise_liquidation_side`` venue order side / position side -> +1 long, -1 short
``canonical_series``           ``(venue, symbol)`` as stored: known venue ids (ccxt ids as
                               aliases, :data:`liqmap.venues.VENUE_ALIASES`) and ccxt
                               symbols (venue ids converted by the venue's folder)
``classify_store_error``       a DuckDB open/write error as liqmap's: lock held -> retry
                               later; permission, directory, damaged file -> fix your input
``BarPrediction``              the map's predicted liquidations of one closed bar (the
                               ``predictions`` table; the running scorecard reads it)
``LevelApproach``              one approach of a map cluster and what followed (the
                               ``level_approaches`` table, ``liqmap.watch.approaches``)
``SuspectRows``                rows an older liqmap stored that today's checks refuse
                               (``DuckDBStore.suspect_rows()``; ``show-store`` lists them)
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

from liqmap.store._approaches import LevelApproach
from liqmap.store._base import MapSnapshot, SeriesInfo, Store, SuspectRows
from liqmap.store._duckdb import (
    DEFAULT_DB,
    SCHEMA_VERSION,
    DuckDBStore,
    classify_store_error,
    open_store,
)
from liqmap.store._names import canonical_series
from liqmap.store._parquet import (
    TABLES,
    ParquetExport,
    export_parquet,
    import_parquet,
    read_parquet_export,
)
from liqmap.store._predictions import BarPrediction
from liqmap.store._records import normalise_liquidation_side

__all__ = [
    "BarPrediction",
    "DEFAULT_DB",
    "DuckDBStore",
    "LevelApproach",
    "MapSnapshot",
    "ParquetExport",
    "SCHEMA_VERSION",
    "SeriesInfo",
    "Store",
    "SuspectRows",
    "TABLES",
    "canonical_series",
    "classify_store_error",
    "export_parquet",
    "import_parquet",
    "normalise_liquidation_side",
    "open_store",
    "read_parquet_export",
]
