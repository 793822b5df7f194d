"""The service's moving parts: worker threads with a deadline, the catalog and view caches.

Everything that may block (source reads, model runs) runs in a small thread pool; a
request waits for it at most ``deadline_s`` and otherwise answers 503 (:class:`Unavailable`)
while the work goes on in the background, so the next request finds it done. Work is
single-flight: concurrent requests for the same thing share one computation.

Caches hold immutable objects only (``Catalog``, ``View``, rendered JSON ``bytes``) and swap
them whole under a lock, so a reader sees either the old or the new value, never a mix.

>>> import asyncio
>>> rt = Runtime(deadline_s=1.0)
>>> asyncio.run(rt.run("answer", lambda: 42))
42
>>> rt.close()
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor

from liqmap._exceptions import InputError, RetryLaterError

__all__ = ["LRU", "Runtime", "SingleFlight", "Unavailable"]


class Unavailable(Exception):
    """The data source is slow or failing: answer 503 with ``reason``, retry later."""

    def __init__(self, reason: str, retry_after_s: float = 1.0):
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


class LRU:
    """A small thread-safe least-recently-used map of immutable values."""

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._d: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key not in self._d:
                return None
            self._d.move_to_end(key)
            return self._d[key]

    def put(self, key, value) -> None:
        with self._lock:
            self._d[key] = value
            self._d.move_to_end(key)
            while len(self._d) > self.maxsize:
                self._d.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._d.clear()

    def __len__(self) -> int:
        return len(self._d)


class SingleFlight:
    """At most one running computation per key; later callers get the same future."""

    def __init__(self, executor: ThreadPoolExecutor):
        self._executor = executor
        self._inflight: dict = {}
        self._lock = threading.Lock()

    def submit(self, key, fn) -> Future:
        with self._lock:
            fut = self._inflight.get(key)
            if fut is not None:
                return fut
            fut = self._executor.submit(fn)
            self._inflight[key] = fut
        fut.add_done_callback(lambda f, k=key: self._forget(k, f))
        return fut

    def _forget(self, key, fut) -> None:
        with self._lock:
            if self._inflight.get(key) is fut:
                del self._inflight[key]


class Runtime:
    """Thread pool, deadline and single-flight shared by all requests of one app.

    Parameters
    ----------
    deadline_s : float
        Longest a request waits for the source or a model run before answering 503.
    workers : int
        Worker threads for blocking work.
    """

    def __init__(self, *, deadline_s: float = 2.0, workers: int = 4):
        if not deadline_s > 0:
            raise InputError(f"deadline_s must be > 0, got {deadline_s!r}")
        self.deadline_s = float(deadline_s)
        self.executor = ThreadPoolExecutor(max_workers=workers,
                                           thread_name_prefix="liqmap-service")
        self.flight = SingleFlight(self.executor)

    async def wait(self, what: str, fut: Future):
        """Wait for ``fut`` at most the deadline; map failures to :class:`Unavailable`."""
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(fut)),
                                          self.deadline_s)
        except (asyncio.TimeoutError, TimeoutError):
            raise Unavailable(f"{what} did not finish within {self.deadline_s:g} s (the data "
                              "source is slow or the computation is large); it continues in "
                              "the background, retry shortly",
                              retry_after_s=max(1.0, self.deadline_s)) from None
        except RetryLaterError as exc:
            raise Unavailable(f"{what} failed, retry later: {exc}") from exc

    async def run(self, what: str, fn, *, key=None):
        """Run ``fn`` single-flight under ``key`` (default ``what``), wait with the deadline."""
        return await self.wait(what, self.flight.submit(what if key is None else key, fn))

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


class CatalogGuard:
    """The source's catalog, re-read at most every ``ttl_s`` seconds (single-flight).

    A failed or slow read raises :class:`Unavailable`; it is not remembered, so the next
    request after the source recovers reads it afresh.
    """

    def __init__(self, source, runtime: Runtime, ttl_s: float = 1.0):
        self.source = source
        self.runtime = runtime
        self.ttl_s = float(ttl_s)
        self._value = None
        self._at = -float("inf")
        self._lock = threading.Lock()

    def _read(self):
        cat = self.source.catalog()
        with self._lock:
            self._value, self._at = cat, time.monotonic()
        return cat

    def cached(self):
        """The last catalog read (None before the first), without touching the source."""
        return self._value

    def invalidate(self) -> None:
        with self._lock:
            self._at = -float("inf")

    async def get(self):
        with self._lock:
            value, fresh = self._value, time.monotonic() - self._at < self.ttl_s
        if value is not None and fresh:
            return value
        return await self.runtime.wait("reading the data source's catalog",
                                       self.runtime.flight.submit(("catalog",), self._read))
