"""Venue adapters: public history from Binance's archive and from ccxt venues.

============================  =============================================================
``download``                  one call: a symbol's datasets over a date range, resumable
``BinanceArchive``            data.binance.vision files, sha256-verified, atomically kept
``CcxtHistory``               paginated ccxt history (Bybit, OKX, Hyperliquid, Binance)
``HttpFetcher``               GET with timeouts, backoff retries and a per-host rate limit
============================  =============================================================

Errors follow the project's two branches: a refused request (HTTP 4xx, ccxt
``ExchangeError``) is an :class:`liqmap.InputError` and is never retried; a network
error, timeout, 5xx or 429 (ccxt ``NetworkError``) is retried with backoff and then
becomes :class:`liqmap.RetryLaterError`. No API key is needed; none is ever logged.
"""

from __future__ import annotations

from liqmap.venues._files import Manifest, atomic_path, atomic_write_bytes
from liqmap.venues._http import FetchResult, HttpFetcher, RateLimiter, RetryPolicy
from liqmap.venues.binance_archive import (
    ARCHIVE_URL,
    ArchiveFile,
    ArchiveResult,
    BinanceArchive,
    archive_files,
    archive_symbol,
)
from liqmap.venues.ccxt_history import VENUES, CcxtHistory, VenueConfig, make_exchange
from liqmap.venues.download import DownloadReport, download, parse_datasets

__all__ = [
    "ARCHIVE_URL",
    "ArchiveFile",
    "ArchiveResult",
    "BinanceArchive",
    "CcxtHistory",
    "DownloadReport",
    "FetchResult",
    "HttpFetcher",
    "Manifest",
    "RateLimiter",
    "RetryPolicy",
    "VENUES",
    "VenueConfig",
    "archive_files",
    "archive_symbol",
    "atomic_path",
    "atomic_write_bytes",
    "download",
    "make_exchange",
    "parse_datasets",
]
