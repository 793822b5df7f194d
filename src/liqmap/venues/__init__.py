"""Venue adapters: one folder per exchange, the machinery they share, and the registry.

Layout (a venue is a folder; ``_template/README.md`` documents its shape)::

    venues/
      binance/ bybit/ okx/ hyperliquid/   spec, files (where the venue has files),
                                          history, live, loopback
      _shared/                            what several folders use (HTTP, websocket, records)
      _template/                          the skeleton a new venue starts from
      registry.py                         the venues, written once (``VENUES``)
      ccxt_history.py, download.py        history over the registry: ccxt and archives

============================  =============================================================
``download``                  one call: a symbol's datasets over a date range, resumable
``CcxtHistory``               paginated ccxt history (Bybit, OKX, Hyperliquid, Binance)
``VENUES``                    venue name -> folder; ``VENUE_ALIASES``, ``CCXT_VENUES``,
                              ``ARCHIVES``, ``LIVE_VENUES`` built from it
``venue_spec``                contract units of a symbol on a venue (``VenueSpec``)
``live_clients``              a venue's (stream, REST) live clients; their wire records
                              ``LiveBar``, ``LiveLiquidation``, ``OiTick``, ``FundingTick``;
                              ``StreamClosed`` / ``RateLimited`` end a connection
``bars_from_ccxt``            ccxt ``fetch_ohlcv`` + ``fetch_open_interest_history`` (+
                              funding) into ``Bars``; ``liquidations_from_ccxt``
``HttpFetcher``               GET with timeouts, backoff retries and a per-host rate limit
============================  =============================================================

A venue's own names are in its folder: ``from liqmap.venues.binance import BinanceArchive,
load_binance_bars, BinanceStream``. The pure rules (liquidation formulas, tier tables) are
in :mod:`liqmap.core`.

Errors follow the project's two branches: a refused request (HTTP 4xx, ccxt
``ExchangeError``) is an :class:`liqmap.InputError` and is never retried; a network
error, timeout, 5xx or 429 (ccxt ``NetworkError``) is retried with backoff and then
becomes :class:`liqmap.RetryLaterError`. No API key is needed; none is ever logged.
"""

from __future__ import annotations

from liqmap.venues._shared.ccxt_records import bars_from_ccxt, liquidations_from_ccxt
from liqmap.venues._shared.files import Manifest, atomic_path, atomic_write_bytes
from liqmap.venues._shared.http import FetchResult, HttpFetcher, RateLimiter, RetryPolicy
from liqmap.venues._shared.records import (
    FundingTick,
    LiveBar,
    LiveLiquidation,
    OiTick,
    bars_from_live,
    live_from_bars,
    realized_from_live,
)
from liqmap.venues._shared.spec import VenueConfig, VenueSpec
from liqmap.venues._shared.ws import Connection, RateLimited, StreamClosed, timeframe_ms
from liqmap.venues.ccxt_history import CcxtHistory, make_exchange, venue_config
from liqmap.venues.download import DownloadReport, download, parse_datasets
from liqmap.venues.registry import (
    ARCHIVES,
    CCXT_VENUES,
    LIVE_VENUES,
    VENUE_ALIASES,
    VENUES,
    listed_symbol,
    live_clients,
    spec_from_ccxt_market,
    venue_of,
    venue_spec,
)

__all__ = [
    "ARCHIVES",
    "CCXT_VENUES",
    "CcxtHistory",
    "Connection",
    "DownloadReport",
    "FetchResult",
    "FundingTick",
    "HttpFetcher",
    "LIVE_VENUES",
    "LiveBar",
    "LiveLiquidation",
    "Manifest",
    "OiTick",
    "RateLimited",
    "RateLimiter",
    "RetryPolicy",
    "StreamClosed",
    "VENUES",
    "VENUE_ALIASES",
    "VenueConfig",
    "VenueSpec",
    "atomic_path",
    "atomic_write_bytes",
    "bars_from_ccxt",
    "bars_from_live",
    "download",
    "liquidations_from_ccxt",
    "listed_symbol",
    "live_clients",
    "live_from_bars",
    "make_exchange",
    "parse_datasets",
    "realized_from_live",
    "spec_from_ccxt_market",
    "timeframe_ms",
    "venue_config",
    "venue_of",
    "venue_spec",
]
