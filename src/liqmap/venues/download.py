"""``download``: fetch a symbol's public history for a date range, resumably.

Venues and what a dataset name means there (the archive names work everywhere):

==================  ===============================  ======================================
dataset             ``binance`` (public archive)     ccxt venues (bybit, okx, hyperliquid,
                                                     binanceusdm)
==================  ===============================  ======================================
``klines-<tf>``     daily klines zip + CSV           ``fetch_ohlcv``; with ``metrics`` one
                                                     ``bars-<tf>/<day>.parquet`` (liqmap's
                                                     bar layout), else ``ohlcv-<tf>/...``
``metrics``         daily metrics (OI, ratios)       ``fetch_open_interest_history``
                                                     -> ``open_interest-<tf>/<day>.csv``
``fundingRate``     monthly fundingRate              ``fetch_funding_rate_history``
                                                     -> ``funding/<day>.csv``
``liquidationSnapshot``  daily, where still published  ``fetch_liquidations`` (where ccxt
                                                     has it) -> ``liquidations/<day>.parquet``
``leverageTiers``   (not in the archive)             ``fetch_market_leverage_tiers``
                                                     -> ``leverage_tiers/<today>.json``
==================  ===============================  ======================================

``ohlcv-<tf>``, ``open_interest``, ``funding``, ``liquidations`` and ``leverage_tiers``
are accepted as the ccxt spellings. Every file is written atomically and recorded in
``manifest.json``; a re-run skips what is recorded and still intact. With ``store``, each
day goes to the store in one ``write_bars`` / ``write_realized`` call.

The venue names come from the registry (:mod:`liqmap.venues.registry`): a venue folder
with a public archive (``ARCHIVES``: ``binance``) downloads it itself; every ccxt id of a
folder's ``history.CCXT`` (``CCXT_VENUES``) goes through :class:`CcxtHistory`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from liqmap._exceptions import ConfigError
from liqmap.venues._ccxt_days import DATASET_KINDS, CcxtDays
from liqmap.venues._shared.files import Manifest
from liqmap.venues._shared.http import HttpFetcher, RetryPolicy
from liqmap.venues.ccxt_history import CcxtHistory, make_exchange, venue_config
from liqmap.venues.registry import ARCHIVES

__all__ = ["DownloadReport", "download", "parse_datasets"]

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True, slots=True)
class DownloadReport:
    """What one ``download`` did.

    Attributes
    ----------
    fetched, skipped, missing : tuple of str
        Files written now; files already complete on disk (no request made); files the
        venue does not publish (archive 404).
    failed : tuple of (str, str)
        File and reason, for files that could not be fetched or verified.
    bytes : int
        Bytes received for the fetched files.
    stored_bars, stored_realized : int
        Rows handed to the store (0 without a store).
    """

    venue: str
    symbol: str
    fetched: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()
    bytes: int = 0
    stored_bars: int = 0
    stored_realized: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.failed

    def summary(self) -> dict:
        """JSON-ready counts and lists."""
        return {"venue": self.venue, "symbol": self.symbol, "fetched": len(self.fetched),
                "skipped": len(self.skipped), "missing": len(self.missing),
                "failed": len(self.failed), "bytes": self.bytes,
                "stored_bars": self.stored_bars, "stored_realized": self.stored_realized,
                "files": {"fetched": list(self.fetched), "missing": list(self.missing),
                          "failed": [{"file": f, "reason": r} for f, r in self.failed]}}


@dataclass
class _Tally:
    fetched: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    bytes: int = 0
    stored_bars: int = 0
    stored_realized: int = 0

    def report(self, venue: str, symbol: str) -> DownloadReport:
        return DownloadReport(venue, symbol, tuple(self.fetched), tuple(self.skipped),
                              tuple(self.missing), tuple(self.failed), self.bytes,
                              self.stored_bars, self.stored_realized)


def parse_datasets(datasets: str | list[str]) -> list[str]:
    """Dataset names from ``"klines-5m,metrics"`` or a list, validated and de-duplicated.

    Examples
    --------
    >>> parse_datasets("klines-5m, metrics,fundingRate")
    ['klines-5m', 'metrics', 'fundingRate']
    """
    items = datasets.split(",") if isinstance(datasets, str) else list(datasets)
    out = []
    for name in (s.strip() for s in items):
        if not name:
            continue
        if not (name.startswith(("klines-", "ohlcv-")) or name in DATASET_KINDS):
            raise ConfigError(f"unknown dataset {name!r}; use klines-<tf> (or ohlcv-<tf>), "
                              f"{', '.join(sorted(set(DATASET_KINDS)))}")
        if name not in out:
            out.append(name)
    if not out:
        raise ConfigError("no dataset given; e.g. --datasets klines-5m,metrics,fundingRate")
    return out


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ConfigError(f"date {value!r} is not YYYY-MM-DD") from None


def download(venue: str, symbol: str, start: date | str, end: date | str,
             datasets: str | list[str], out_dir: str | os.PathLike, *,
             base_url: str | None = None, progress: Progress | None = None, store=None,
             http: HttpFetcher | None = None, exchange=None,
             retry: RetryPolicy = RetryPolicy(), sleep: Callable[[float], None] | None = None,
             now_ms: int | None = None) -> DownloadReport:
    """Download ``symbol``'s public history on ``venue`` for days ``start..end`` (inclusive).

    Parameters
    ----------
    venue : str
        ``binance`` (public archive, https://data.binance.vision) or a ccxt venue:
        ``bybit``, ``okx``, ``hyperliquid``, ``binanceusdm``.
    symbol : str
        ccxt unified symbol (``BTC/USDT:USDT``; ``BTC/USD:BTC`` for Binance COIN-M).
    start, end : date or "YYYY-MM-DD"
        First and last UTC day.
    datasets : str or list of str
        See the module docstring.
    out_dir : path
        Output root (the archive's paths for ``binance``, ``<venue>/<id>/...`` otherwise).
    base_url : str, optional
        Archive root or ccxt API host to use instead of the venue's (mirrors, tests).
    progress : callable(done, total, label), optional
        Called after each file.
    store : liqmap.store Store, optional
        Receives each day's bars / realized liquidations in one call each.
    http, exchange, retry, sleep, now_ms
        Injection points for tests (fetch layer, ccxt instance, backoff, clock).

    Returns
    -------
    DownloadReport

    Examples
    --------
    >>> rep = download("binance", "BTC/USDT:USDT", "2025-12-01", "2025-12-03",
    ...                "klines-5m,metrics,fundingRate", "data")  # doctest: +SKIP
    >>> rep.summary()["fetched"]  # doctest: +SKIP
    7
    """
    first, last = _as_date(start), _as_date(end)
    if last < first:
        raise ConfigError(f"--end {last} is before --start {first}; swap them")
    names = parse_datasets(datasets)
    tally, out = _Tally(), Path(out_dir)
    if venue in ARCHIVES:
        ARCHIVES[venue](symbol, first, last, names, out, tally, base_url=base_url,
                        progress=progress, store=store, http=http, retry=retry, sleep=sleep)
    else:
        ex = exchange or make_exchange(venue, api_url=base_url)
        venue_config(ex.id)
        hist = CcxtHistory(ex, retry=retry, **({"sleep": sleep} if sleep is not None else {}))
        CcxtDays(hist, symbol, names, out, Manifest(out), now_ms=now_ms).run(
            first, last, tally, progress=progress, store=store)
    return tally.report(venue, symbol)
