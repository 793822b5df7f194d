"""The fetch layer of the venue adapters: GET with timeouts, retries, a rate limiter.

What is retried and what is not (the project's two error branches):

=============================================  =============================================
connection error, timeout, HTTP 5xx, HTTP 429  retried with exponential backoff and jitter
                                               (``Retry-After`` honoured); once the attempts
                                               are spent: :class:`liqmap.RetryLaterError`
HTTP 404 with ``allow_missing=True``           a :class:`FetchResult` with ``body=None``
                                               ("not published"), never an exception
any other HTTP 4xx                             :class:`liqmap.InputError` naming the URL and
                                               what to fix; never retried
=============================================  =============================================

Sleeping and the clock are injectable, so tests do not wait. No request carries an API
key (none is needed for public data) and no header is ever logged.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TypeVar
from urllib.parse import urlsplit

import httpx

from liqmap._exceptions import InputError, RetryLaterError

__all__ = ["FetchResult", "HttpFetcher", "RateLimiter", "RetryPolicy", "retry_call"]

log = logging.getLogger("liqmap.venues")
T = TypeVar("T")

#: Statuses that mean "the server is busy or broken right now": worth retrying.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class _Retryable(Exception):
    """Internal: a failed attempt that may succeed later (carries ``Retry-After``)."""

    def __init__(self, message: str, retry_after_s: float | None = None):
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter.

    Attempt ``k`` (0-based) waits ``min(max_s, base_s * 2**k)`` scaled by a random factor
    in ``[1 - jitter, 1]``; a server's ``Retry-After`` wins when it is longer.

    Examples
    --------
    >>> RetryPolicy(attempts=3, base_s=1.0, jitter=0.0).delay_s(2)
    4.0
    """

    attempts: int = 5
    base_s: float = 0.5
    max_s: float = 30.0
    jitter: float = 0.5

    def delay_s(self, attempt: int, retry_after_s: float | None = None,
                rng: random.Random | None = None) -> float:
        """Seconds to wait after the failed attempt number ``attempt`` (0-based)."""
        backoff = min(self.max_s, self.base_s * 2.0 ** attempt)
        if self.jitter > 0:
            backoff *= 1.0 - self.jitter * (rng or random).random()
        if retry_after_s is not None:
            backoff = max(backoff, min(retry_after_s, self.max_s))
        return backoff


def retry_call(fn: Callable[[], T], *, what: str, policy: RetryPolicy,
               sleep: Callable[[float], None] = time.sleep,
               is_retryable: Callable[[BaseException], bool] = lambda e: isinstance(e, _Retryable),
               retry_after: Callable[[BaseException], float | None] = lambda e: getattr(
                   e, "retry_after_s", None),
               rng: random.Random | None = None) -> T:
    """Call ``fn`` until it succeeds; retry only what ``is_retryable`` accepts.

    Other exceptions propagate at once. When the attempts are spent, raise
    :class:`liqmap.RetryLaterError` naming ``what``.

    Examples
    --------
    >>> retry_call(lambda: 1, what="nothing", policy=RetryPolicy())
    1
    """
    last: BaseException | None = None
    for attempt in range(max(1, policy.attempts)):
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - filtered just below
            if not is_retryable(exc):
                raise
            last = exc
            if attempt + 1 < policy.attempts:
                wait = policy.delay_s(attempt, retry_after(exc), rng)
                log.info("%s failed (%s); retry %d/%d in %.2f s", what, exc, attempt + 1,
                         policy.attempts - 1, wait)
                sleep(wait)
    raise RetryLaterError(f"{what} failed {policy.attempts} times, last: {last}; the venue "
                          "or the network is unavailable, run the same command again later "
                          "(finished files are kept)") from last


class RateLimiter:
    """At most one request per ``min_interval_s`` per host (thread-safe).

    Examples
    --------
    >>> RateLimiter(0.0).wait("data.binance.vision")
    """

    def __init__(self, min_interval_s: float = 0.0, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.min_interval_s = float(min_interval_s)
        self._clock, self._sleep = clock, sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, host: str) -> None:
        """Block until a request to ``host`` is allowed, and book the slot."""
        with self._lock:
            now = self._clock()
            start = max(now, self._next.get(host, now))
            self._next[host] = start + self.min_interval_s
        if start > now:
            self._sleep(start - now)


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The answer to one GET: ``body`` is None when the file is not published (404)."""

    url: str
    status: int
    body: bytes | None = field(repr=False)

    @property
    def found(self) -> bool:
        """True when the server had the file."""
        return self.body is not None


def _retry_after_s(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class HttpFetcher:
    """GET over httpx with timeouts, retries and a per-host rate limiter.

    Parameters
    ----------
    timeout_s : float
        Connect/read timeout per attempt.
    retry : RetryPolicy
        Attempts and backoff for connection errors, timeouts, 5xx and 429.
    min_interval_s : float
        Smallest gap between two requests to the same host.
    sleep : callable
        ``time.sleep`` unless replaced (tests pass a recorder).
    transport : httpx.BaseTransport, optional
        For tests that answer in-process.

    Examples
    --------
    >>> with HttpFetcher(timeout_s=10) as http:  # doctest: +SKIP
    ...     res = http.get("https://data.binance.vision/x.zip", allow_missing=True)
    """

    def __init__(self, *, timeout_s: float = 30.0, retry: RetryPolicy = RetryPolicy(),
                 min_interval_s: float = 0.0, sleep: Callable[[float], None] = time.sleep,
                 transport: httpx.BaseTransport | None = None, rng: random.Random | None = None):
        self.retry = retry
        self.sleep = sleep
        self.limiter = RateLimiter(min_interval_s, sleep=sleep)
        self._rng = rng
        self._client = httpx.Client(timeout=timeout_s, transport=transport,
                                    follow_redirects=True,
                                    headers={"User-Agent": "liqmap-download"})

    def __enter__(self) -> HttpFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()

    def get(self, url: str, *, allow_missing: bool = False) -> FetchResult:
        """GET ``url``; see the module docstring for what is retried."""
        return retry_call(lambda: self._attempt(url, allow_missing), what=f"GET {url}",
                          policy=self.retry, sleep=self.sleep, rng=self._rng)

    def _attempt(self, url: str, allow_missing: bool) -> FetchResult:
        self.limiter.wait(urlsplit(url).netloc)
        try:
            resp = self._client.get(url)
        except httpx.TransportError as exc:  # connect/read errors and timeouts
            raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
        status = resp.status_code
        if status in RETRY_STATUSES:
            raise _Retryable(f"HTTP {status}", _retry_after_s(resp.headers.get("Retry-After")))
        if status == 404 and allow_missing:
            return FetchResult(url, status, None)
        if 400 <= status < 500:
            raise InputError(f"GET {url} was refused with HTTP {status} "
                             f"({resp.reason_phrase}); check the symbol, dates and base URL "
                             "of the request; retrying will not help")
        if status >= 300:
            raise _Retryable(f"HTTP {status}")
        return FetchResult(url, status, resp.content)
