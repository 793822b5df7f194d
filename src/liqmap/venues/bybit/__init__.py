"""Bybit (``bybit``): v5 public streams, REST backfill and ccxt history.

==============  ===========================================================================
``spec``        names, ccxt id, symbols (``BTCUSDT``, inverse ``BTCUSD``), contract units
``history``     ccxt config (page sizes, market types) for ``download --venue bybit``
``live``        v5 websocket (``kline``, ``allLiquidation``, ``tickers``) and REST backfill
``loopback``    a local server speaking that wire format (tests, demos)
==============  ===========================================================================

Bybit has no file format of its own in liqmap (no ``files.py``). The liquidation rules are
in :mod:`liqmap.core`.
"""

from __future__ import annotations

from liqmap.venues.bybit.history import CCXT
from liqmap.venues.bybit.live import (
    BYBIT_REST,
    BYBIT_WS,
    LIVE_CLIENTS,
    BybitRest,
    BybitStream,
    parse_message,
    subscribe_message,
)
from liqmap.venues.bybit.loopback import BybitLoopback
from liqmap.venues.bybit.spec import (
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
    "BYBIT_REST",
    "BYBIT_WS",
    "BybitLoopback",
    "BybitRest",
    "BybitStream",
    "CCXT",
    "CCXT_IDS",
    "ID_EXAMPLES",
    "INVERSE_CONTRACT_USD",
    "LIVE_CLIENTS",
    "NAME",
    "RULES",
    "ccxt_symbol",
    "listed_symbol",
    "parse_message",
    "spec_from_market",
    "subscribe_message",
    "symbol_spec",
]
