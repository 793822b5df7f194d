"""Loaders: bar files into validated ``Bars``, and the checks every loader ends in.

Every bar loader ends in :func:`liqmap.io.validate.bars_from_frame`, so all inputs get the
same checks and the same error messages (file, row, fix). Open interest always comes out
in base units, at bar close.

============================  ==========================================================
``load_bars``                 your own CSV / CSV.gz / Parquet in the documented layout
``load_sample``               the real Binance samples bundled with liqmap
``bars_from_frame``           a frame in the documented layout, checked (every loader's end)
``asof_at_close``,            point-in-time alignment of snapshots and settlements onto
``funding_to_8h``             bar closes (:mod:`liqmap.io._align`)
``read_csv_file``             a CSV read with errors that name the file and the fix
============================  ==========================================================

A venue's own file formats are read in its folder: Binance archive CSVs and liquidation
files in :mod:`liqmap.venues.binance`, Hyperliquid recordings in
:mod:`liqmap.venues.hyperliquid`; ccxt records in :mod:`liqmap.venues`
(``bars_from_ccxt``, ``liquidations_from_ccxt``).
"""

from __future__ import annotations

from liqmap.io._align import OI_STAMP_JITTER_MS, asof_at_close, funding_to_8h
from liqmap.io._frame import read_csv_file
from liqmap.io.generic import load_bars, read_table
from liqmap.io.sample import DEFAULT_SAMPLE, list_samples, load_sample, sample_info
from liqmap.io.validate import (
    Gap,
    GapWarning,
    ValidationReport,
    bars_from_frame,
    convert_oi_to_base,
    validate_frame,
)

__all__ = [
    "DEFAULT_SAMPLE",
    "Gap",
    "GapWarning",
    "OI_STAMP_JITTER_MS",
    "ValidationReport",
    "asof_at_close",
    "bars_from_frame",
    "convert_oi_to_base",
    "funding_to_8h",
    "list_samples",
    "load_bars",
    "load_sample",
    "read_csv_file",
    "read_table",
    "sample_info",
    "validate_frame",
]
