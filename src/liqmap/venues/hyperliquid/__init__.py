"""Hyperliquid (``hyperliquid``): recordings, ccxt history, websocket stream, REST backfill.

==============  ===========================================================================
``spec``        names, ccxt id, symbols (``BTC/USDC:USDC`` is the coin ``BTC``), units
``files``       the recorded window C files (trades, context, L2 books)
``history``     ccxt config (page sizes, hourly funding) for ``download``
``live``        websocket (``candle``, ``activeAssetCtx``) and ``POST /info`` backfill
``loopback``    a local server speaking that wire format (tests, demos)
==============  ===========================================================================

The liquidation rules are in :mod:`liqmap.core`.
"""

from __future__ import annotations

from liqmap.venues.hyperliquid.files import (
    HLBooks,
    HLContext,
    HLTrades,
    hl_dir,
    hl_files,
    read_ctx,
    read_l2,
    read_trades,
)
from liqmap.venues.hyperliquid.history import CCXT
from liqmap.venues.hyperliquid.live import (
    HL_REST,
    HL_WS,
    LIVE_CLIENTS,
    CandleCloser,
    HyperliquidRest,
    HyperliquidStream,
    hl_interval,
    parse_candle,
    parse_message,
    subscribe_message,
)
from liqmap.venues.hyperliquid.loopback import HyperliquidLoopback
from liqmap.venues.hyperliquid.spec import (
    CCXT_IDS,
    ID_EXAMPLES,
    NAME,
    RULES,
    ccxt_symbol,
    listed_symbol,
    spec_from_market,
    symbol_spec,
)

__all__ = [
    "CCXT",
    "CCXT_IDS",
    "CandleCloser",
    "HLBooks",
    "HLContext",
    "HLTrades",
    "HL_REST",
    "HL_WS",
    "HyperliquidLoopback",
    "HyperliquidRest",
    "HyperliquidStream",
    "ID_EXAMPLES",
    "LIVE_CLIENTS",
    "NAME",
    "RULES",
    "ccxt_symbol",
    "hl_dir",
    "hl_files",
    "hl_interval",
    "listed_symbol",
    "parse_candle",
    "parse_message",
    "read_ctx",
    "read_l2",
    "read_trades",
    "spec_from_market",
    "subscribe_message",
    "symbol_spec",
]
