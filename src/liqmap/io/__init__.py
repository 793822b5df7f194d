"""Loaders: files and ccxt records into validated ``Bars`` and ``RealizedLiquidations``.

Every bar loader ends in :func:`liqmap.io.validate.bars_from_frame`, so all inputs get the
same checks and the same error messages (file, row, fix). Open interest always comes out
in base units, at bar close.

============================  ==========================================================
``load_bars``                 your own CSV / CSV.gz / Parquet in the documented layout
``load_binance_bars``         Binance archive klines + metrics (+ fundingRate) CSVs
``bars_from_ccxt``            ccxt ``fetch_ohlcv`` + ``fetch_open_interest_history`` (+ funding)
``load_sample``               the real Binance samples bundled with liqmap
``load_liquidation_snapshot`` Binance archive ``liquidationSnapshot`` CSV
``load_forceorder_csv``       recorded ``!forceOrder@arr`` events (stripped-symbol layout)
``liquidations_from_ccxt``    ccxt ``Liquidation`` records
============================  ==========================================================
"""

from __future__ import annotations

from liqmap.io._align import OI_STAMP_JITTER_MS, asof_at_close
from liqmap.io.binance import load_binance_bars, read_funding, read_klines, read_metrics
from liqmap.io.binance_liquidations import load_forceorder_csv, load_liquidation_snapshot
from liqmap.io.ccxt_records import bars_from_ccxt, liquidations_from_ccxt
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
    "bars_from_ccxt",
    "bars_from_frame",
    "convert_oi_to_base",
    "liquidations_from_ccxt",
    "list_samples",
    "load_bars",
    "load_binance_bars",
    "load_forceorder_csv",
    "load_liquidation_snapshot",
    "load_sample",
    "read_funding",
    "read_klines",
    "read_metrics",
    "read_table",
    "sample_info",
    "validate_frame",
]
