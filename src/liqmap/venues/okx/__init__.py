"""OKX (``okx``): v5 public streams, REST backfill (liquidations too) and ccxt history.

==============  ===========================================================================
``spec``        names, ccxt id, symbols (``BTC-USDT-SWAP``), contract units (``ctVal``)
``history``     ccxt config (page sizes, the funding ``after`` cursor) for ``download``
``live``        v5 websockets (candles, ``liquidation-orders``, open interest) and REST
                backfill, liquidation history included
``loopback``    a local server speaking that wire format (tests, demos)
==============  ===========================================================================

OKX has no file format of its own in liqmap (no ``files.py``). The liquidation rules are in
:mod:`liqmap.core`.
"""

from __future__ import annotations

from liqmap.venues.okx.history import CCXT
from liqmap.venues.okx.live import (
    LIVE_CLIENTS,
    OKX_REST,
    OKX_WS,
    OkxConnection,
    OkxRest,
    OkxStream,
    okx_bar,
    parse_message,
    subscribe_message,
)
from liqmap.venues.okx.loopback import OkxLoopback
from liqmap.venues.okx.spec import (
    CCXT_IDS,
    CTVAL,
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
    "CCXT",
    "CCXT_IDS",
    "CTVAL",
    "ID_EXAMPLES",
    "INVERSE_CONTRACT_USD",
    "LIVE_CLIENTS",
    "NAME",
    "OKX_REST",
    "OKX_WS",
    "OkxConnection",
    "OkxLoopback",
    "OkxRest",
    "OkxStream",
    "RULES",
    "ccxt_symbol",
    "listed_symbol",
    "okx_bar",
    "parse_message",
    "spec_from_market",
    "subscribe_message",
    "symbol_spec",
]
