"""Live mode: backfill over REST, stream closed bars and liquidations, update per bar.

==========================  ==============================================================
``IncrementalModel``        a ``LiquidationModel`` advanced one closed bar at a time
``LiveRunner``              backfill, stream, reconnect, fill gaps, one model per venue
``VenueFeed``, ``Backoff``  a venue's stream + REST clients; reconnect delays
``BinanceStream``           Binance USDⓈ-M websocket (klines, ``!forceOrder@arr``, funding)
``BinanceRest``             ``/fapi/v1/klines`` + ``/futures/data/openInterestHist``
``BybitStream``             Bybit v5 public (``kline``, ``allLiquidation``, ``tickers``)
``BybitRest``               ``/v5/market/kline`` + ``/v5/market/open-interest``
``OkxStream``, ``OkxRest``  OKX v5 (candles, ``liquidation-orders``, open interest; REST
                            liquidation history for gaps)
``HyperliquidStream``       Hyperliquid websocket (``candle``, ``activeAssetCtx``)
``HyperliquidRest``         ``POST /info`` ``candleSnapshot`` + current open interest
``VenueSpec``, ``venue_spec``  contract units per venue (size, OKX ctVal, inverse)
``RecordingSink``, ``StoreSink``  where the runner sends bars, gaps and liquidations
==========================  ==============================================================

Loopback servers speaking the venues' wire formats, for tests and demos, are in
``liqmap.live.loopback``.
"""

from __future__ import annotations

from liqmap.live.binance import BinanceRest, BinanceStream
from liqmap.live.bybit import BybitRest, BybitStream
from liqmap.live.engine import IncrementalModel
from liqmap.live.hyperliquid import HyperliquidRest, HyperliquidStream
from liqmap.live.okx import OkxRest, OkxStream
from liqmap.live.records import BarUpdate, GapEvent, LiveBar, LiveLiquidation
from liqmap.live.runner import Backoff, LiveRunner, VenueFeed
from liqmap.live.sinks import RecordingSink, StoreSink
from liqmap.live.units import VenueSpec, venue_spec

__all__ = [
    "Backoff",
    "BarUpdate",
    "BinanceRest",
    "BinanceStream",
    "BybitRest",
    "BybitStream",
    "GapEvent",
    "HyperliquidRest",
    "HyperliquidStream",
    "IncrementalModel",
    "LiveBar",
    "LiveLiquidation",
    "LiveRunner",
    "OkxRest",
    "OkxStream",
    "RecordingSink",
    "StoreSink",
    "VenueFeed",
    "VenueSpec",
    "venue_spec",
]
