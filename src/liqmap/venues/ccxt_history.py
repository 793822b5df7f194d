"""Public history of Bybit, OKX, Hyperliquid (and Binance) through ccxt's REST methods.

One shape per venue: a :class:`~liqmap.venues._shared.spec.VenueConfig` (ccxt id, which
market types to load, page sizes, funding interval) in the venue folder's ``history.py``
(``CCXT``, gathered in :data:`liqmap.venues.registry.CCXT_VENUES`), ccxt's own payload
parsing, and liqmap's converters (:func:`liqmap.venues.bars_from_ccxt`,
:func:`liqmap.venues.liquidations_from_ccxt`) for the domain records. The methods speak
ccxt's vocabulary and arguments: ``fetch_ohlcv(symbol, timeframe, since, limit)``,
``fetch_open_interest_history``, ``fetch_funding_rate_history``, ``fetch_liquidations``
(only where ``exchange.has["fetchLiquidations"]``) and ``fetch_market_leverage_tiers``.

Errors: ``ccxt.NetworkError`` (which covers ``RateLimitExceeded``, ``DDoSProtection``,
``RequestTimeout``, ``ExchangeNotAvailable``) is retried with backoff, then becomes
:class:`liqmap.RetryLaterError`; ``ccxt.ExchangeError`` (``BadRequest``, ``BadSymbol``,
``NotSupported``...) becomes :class:`liqmap.InputError` at once. ccxt's own rate limiter
is on. No API key is needed or set.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from liqmap._exceptions import ConfigError, InputError
from liqmap.timeutil import MS_PER_HOUR, MS_PER_MINUTE
from liqmap.venues._shared.http import RetryPolicy, retry_call
from liqmap.venues._shared.spec import VenueConfig
from liqmap.venues.registry import ARCHIVES, CCXT_VENUES

if TYPE_CHECKING:
    import ccxt

__all__ = ["CcxtHistory", "make_exchange", "paginate", "venue_config"]


def _until(key: str, until_ms: int) -> dict:
    """ccxt params bounding a page at ``until_ms`` (inclusive) the venue's way."""
    return {"after": until_ms + 1} if key == "after" else {"until": until_ms}


def _rebase(url: str, api_url: str) -> str:
    parts = urlsplit(url.replace("{hostname}", "host"))
    return api_url.rstrip("/") + parts.path


def _rebase_all(node: object, api_url: str) -> object:
    if isinstance(node, str):
        return _rebase(node, api_url)
    if isinstance(node, Mapping):
        return {k: _rebase_all(v, api_url) for k, v in node.items()}
    return node


def make_exchange(venue: str, *, api_url: str | None = None,
                  timeout_ms: int = 30_000) -> ccxt.Exchange:
    """A public (keyless) ccxt exchange for ``venue`` with its rate limiter on.

    Parameters
    ----------
    venue : str
        One of :data:`liqmap.venues.registry.CCXT_VENUES`.
    api_url : str, optional
        Send every request to this scheme+host instead (tests, proxies); the venue's
        paths are kept.

    Examples
    --------
    >>> make_exchange("bybit").enableRateLimit
    True
    """
    import ccxt  # loaded on first use: the venue registry stays light for the store

    cfg = venue_config(venue)
    exchange = getattr(ccxt, cfg.venue)({"enableRateLimit": True, "timeout": timeout_ms})
    opts = exchange.options.get("fetchMarkets")
    exchange.options["fetchMarkets"] = {**(opts if isinstance(opts, dict) else {}),
                                        "types": list(cfg.market_types)}
    if api_url:
        exchange.urls["api"] = _rebase_all(exchange.urls["api"], api_url)
    return exchange


def venue_config(venue: str) -> VenueConfig:
    """The :class:`VenueConfig` of ``venue``; ConfigError naming the known ones."""
    try:
        return CCXT_VENUES[venue]
    except KeyError:
        archives = " or ".join(repr(a) for a in ARCHIVES)
        raise ConfigError(f"unknown venue {venue!r}; use one of {', '.join(CCXT_VENUES)} (or "
                          f"{archives} for its public archive)") from None


def paginate(fetch_page: Callable[[int, int, int], list], ts_of: Callable[[Any], int],
             start_ms: int, end_ms: int, step_ms: int, limit: int) -> list:
    """Every record with ``start_ms <= ts < end_ms``, in windows of ``limit * step_ms``.

    ``fetch_page(since, limit, until)`` is one ccxt call (``until`` inclusive). A full page
    that ends early in its window is followed by another page from its last stamp, so a
    venue that serves fewer rows than asked loses nothing. Records are de-duplicated on
    their stamp and returned sorted.

    Examples
    --------
    >>> rows = [[t, 1, 1, 1, 1, 1] for t in range(0, 600_000, 60_000)]
    >>> page = lambda s, n, u: [r for r in rows if s <= r[0] <= u][:n]
    >>> len(paginate(page, lambda r: r[0], 0, 600_000, 60_000, 3))
    10
    """
    out: dict[int, object] = {}
    since = start_ms
    while since < end_ms:
        w_end = min(end_ms, since + limit * step_ms)
        page = [r for r in fetch_page(since, limit, w_end - 1) if since <= ts_of(r) < w_end]
        for rec in page:
            out.setdefault(ts_of(rec), rec)
        last = max((ts_of(r) for r in page), default=None)
        full = len(page) >= limit and last is not None and last + step_ms < w_end
        since = last + 1 if full and last is not None else w_end
    return [out[k] for k in sorted(out)]


class CcxtHistory:
    """Paginated public history of one venue, with retries and error mapping.

    Parameters
    ----------
    exchange : ccxt.Exchange
        From :func:`make_exchange`.
    retry : RetryPolicy
        Attempts and backoff for ``ccxt.NetworkError``.
    sleep : callable
        ``time.sleep`` unless replaced (tests).

    Examples
    --------
    >>> hist = CcxtHistory(make_exchange("bybit"))  # doctest: +SKIP
    >>> rows = hist.fetch_ohlcv("BTC/USDT:USDT", "5m", 1764547200000, 1764633600000)  # doctest: +SKIP
    """

    def __init__(self, exchange: ccxt.Exchange, *, retry: RetryPolicy = RetryPolicy(),
                 sleep: Callable[[float], None] = time.sleep):
        self.exchange = exchange
        self.config = venue_config(exchange.id)
        self.retry, self.sleep = retry, sleep

    @property
    def venue(self) -> str:
        """ccxt exchange id."""
        return self.exchange.id

    def call(self, method: str, *args: object, **kwargs: object):
        """``exchange.<method>(*args, **kwargs)`` with retries; ccxt errors mapped."""
        import ccxt

        what = f"{self.venue} {method}{args!r}"

        def attempt():
            try:
                return getattr(self.exchange, method)(*args, **kwargs)
            except ccxt.NetworkError:
                raise
            except ccxt.BaseError as exc:
                raise InputError(f"{what} was refused: {type(exc).__name__}: {exc}. Check "
                                 "the symbol (ccxt unified, e.g. BTC/USDT:USDT), the "
                                 "timeframe and the dates; retrying will not help") from exc

        return retry_call(attempt, what=what, policy=self.retry, sleep=self.sleep,
                          is_retryable=lambda e: isinstance(e, ccxt.NetworkError))

    def has(self, capability: str) -> bool:
        """True when ccxt implements ``capability`` (e.g. ``"fetchLiquidations"``) here."""
        return bool(self.exchange.has.get(capability))

    def market(self, symbol: str) -> dict:
        """The ccxt market of ``symbol`` (markets loaded once); InputError if unknown."""
        markets = self.call("load_markets")
        if symbol not in markets:
            near = sorted(s for s in markets if s.split("/")[0] == symbol.split("/")[0])[:8]
            raise InputError(f"{self.venue} has no market {symbol!r}; ccxt unified symbols "
                             f"of that base there: {near or 'none'}")
        return markets[symbol]

    def funding_interval_h(self, symbol: str) -> float:
        """Hours between settlements: the market's own figure, else the venue default."""
        info = self.market(symbol).get("info") or {}
        minutes = info.get("fundingInterval") if isinstance(info, Mapping) else None
        try:
            return float(minutes) / 60.0 if minutes else self.config.funding_interval_h
        except (TypeError, ValueError):
            return self.config.funding_interval_h

    def _require(self, capability: str) -> None:
        if not self.has(capability):
            raise InputError(f"{self.venue} offers no {capability} through ccxt; drop that "
                             "dataset for this venue")

    def fetch_ohlcv(self, symbol: str, timeframe: str, start_ms: int, end_ms: int) -> list:
        """``[timestamp, open, high, low, close, volume]`` rows with open in [start, end)."""
        self._require("fetchOHLCV")
        self.market(symbol)
        step = self.exchange.parse_timeframe(timeframe) * 1000
        page = lambda s, n, u: self.call("fetch_ohlcv", symbol, timeframe, s, n, {"until": u})  # noqa: E731
        return paginate(page, lambda r: int(r[0]), start_ms, end_ms, step, self.config.ohlcv_limit)

    def fetch_open_interest_history(self, symbol: str, timeframe: str, start_ms: int,
                                    end_ms: int) -> list[dict]:
        """ccxt ``OpenInterest`` records stamped in [start, end)."""
        self._require("fetchOpenInterestHistory")
        self.market(symbol)
        step = self.exchange.parse_timeframe(timeframe) * 1000
        page = lambda s, n, u: self.call("fetch_open_interest_history", symbol, timeframe, s, n,  # noqa: E731
                                         {"until": u})
        return paginate(page, lambda r: int(r["timestamp"]), start_ms, end_ms, step,
                        self.config.oi_limit)

    def fetch_funding_rate_history(self, symbol: str, start_ms: int, end_ms: int) -> list[dict]:
        """ccxt ``FundingRateHistory`` records settled in [start, end)."""
        self._require("fetchFundingRateHistory")
        self.market(symbol)
        key = self.config.funding_until
        page = lambda s, n, u: self.call("fetch_funding_rate_history", symbol, s, n,  # noqa: E731
                                         _until(key, u))
        return paginate(page, lambda r: int(r["timestamp"]), start_ms, end_ms, MS_PER_HOUR,
                        self.config.funding_limit)

    def fetch_liquidations(self, symbol: str, start_ms: int, end_ms: int) -> list[dict]:
        """ccxt ``Liquidation`` records in [start, end) (venues with fetchLiquidations)."""
        self._require("fetchLiquidations")
        self.market(symbol)
        page = lambda s, n, u: self.call("fetch_liquidations", symbol, s, n, {"until": u})  # noqa: E731
        return paginate(page, lambda r: int(r["timestamp"]), start_ms, end_ms, MS_PER_MINUTE, 1000)

    def fetch_leverage_tiers(self, symbol: str) -> list[dict]:
        """ccxt ``LeverageTier`` records of ``symbol`` (the venue's current table)."""
        self.market(symbol)
        if self.has("fetchMarketLeverageTiers"):
            return self.call("fetch_market_leverage_tiers", symbol)
        self._require("fetchLeverageTiers")
        return self.call("fetch_leverage_tiers", [symbol]).get(symbol, [])
