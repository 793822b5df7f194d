"""Binance futures: USDⓈ-M (``binance``, ccxt ``binanceusdm``) and COIN-M (``binance-inverse``,
ccxt ``binancecoinm``), in one folder.

==============  ===========================================================================
``spec``        names, ccxt ids, symbols (``BTCUSDT``, ``BTCUSD_PERP``), contract units
``files``       archive CSVs (klines, metrics, fundingRate) into ``Bars``;
                ``liquidationSnapshot`` and recorded ``!forceOrder@arr`` into
                ``RealizedLiquidations``
``history``     the public archive (data.binance.vision), sha256-checked, resumable, into a
                store day by day; ccxt config of ``binanceusdm``
``live``        USDⓈ-M websocket (klines, force orders, funding) and REST backfill
``loopback``    a local server speaking that wire format (tests, demos)
==============  ===========================================================================

The liquidation rules (formulas, tier tables) are in :mod:`liqmap.core`.
"""

from __future__ import annotations

from liqmap.venues.binance.files import (
    FORCEORDER_COLUMNS,
    FUNDING_COLUMNS,
    KLINE_COLUMNS,
    METRICS_COLUMNS,
    SNAPSHOT_COLUMNS,
    liquidation_file_format,
    load_binance_bars,
    load_forceorder_csv,
    load_liquidation_snapshot,
    read_funding,
    read_klines,
    read_metrics,
)
from liqmap.venues.binance.history import (
    ARCHIVE_URL,
    CCXT,
    COINM_CONTRACT_USD,
    ArchiveFile,
    ArchiveResult,
    BinanceArchive,
    archive_ccxt_symbol,
    archive_files,
    archive_names,
    archive_symbol,
    download_archive,
    parse_checksum,
    store_archive_days,
)
from liqmap.venues.binance.live import (
    BINANCE_REST,
    BINANCE_WS,
    LIVE_CLIENTS,
    BinanceRest,
    BinanceStream,
    parse_message,
    parse_rest_kline,
)
from liqmap.venues.binance.loopback import BinanceLoopback
from liqmap.venues.binance.spec import (
    CCXT_IDS,
    ID_EXAMPLES,
    INVERSE_CONTRACT_USD,
    NAME,
    RULES,
    ccxt_symbol,
    listed_symbol,
    spec_from_market,
    symbol_spec,
)

__all__ = [
    "ARCHIVE_URL",
    "ArchiveFile",
    "ArchiveResult",
    "BINANCE_REST",
    "BINANCE_WS",
    "BinanceArchive",
    "BinanceLoopback",
    "BinanceRest",
    "BinanceStream",
    "CCXT",
    "CCXT_IDS",
    "COINM_CONTRACT_USD",
    "FORCEORDER_COLUMNS",
    "FUNDING_COLUMNS",
    "ID_EXAMPLES",
    "INVERSE_CONTRACT_USD",
    "KLINE_COLUMNS",
    "LIVE_CLIENTS",
    "METRICS_COLUMNS",
    "NAME",
    "RULES",
    "SNAPSHOT_COLUMNS",
    "archive_ccxt_symbol",
    "archive_files",
    "archive_names",
    "archive_symbol",
    "ccxt_symbol",
    "download_archive",
    "liquidation_file_format",
    "listed_symbol",
    "load_binance_bars",
    "load_forceorder_csv",
    "load_liquidation_snapshot",
    "parse_checksum",
    "parse_message",
    "parse_rest_kline",
    "read_funding",
    "read_klines",
    "read_metrics",
    "spec_from_market",
    "store_archive_days",
    "symbol_spec",
]
