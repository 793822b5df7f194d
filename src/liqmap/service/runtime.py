"""The service's moving parts: two bounded worker pools with a deadline, the caches.

Blocking work runs in worker threads, in one of two pools so that cheap reads never queue
behind heavy ones:

- the **light** pool reads the source's catalog (venues, symbols, span, data version);
- the **heavy** pool runs model computations and renders bodies; it holds at most
  ``max_pending`` distinct jobs (queued or running), and a request that would add one more
  answers 503 at once (:class:`Unavailable`) instead of queueing behind a burst.

A request waits for its job at most ``deadline_s`` and otherwise answers 503 while the work
goes on in the background, so the next request finds it done. Work is single-flight:
concurrent requests for the same key share one computation (joining one never counts
against the bound). :meth:`Runtime.cached` puts the two together: a hit is answered on the
event loop without touching a pool; concurrent misses of one key run the computation once.

Caches hold immutable objects only (``Catalog``, ``View``, rendered JSON ``bytes``) and swap
them whole under a lock, so a reader sees either the old or the new value, never a mix.
Their keys carry the data version, so new data are recomputed, never served stale.

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
from functools import partial

from liqmap._exceptions import InputError, RetryLaterError

__all__ = ["LRU", "CatalogGuard", "Runtime", "SingleFlight", "Unavailable"]


class Unavailable(Exception):
    """The data source is slow or failing: answer 503 with ``reason``, retry later."""

    def __init__(self, reason: str, retry_after_s: float = 1.0):
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


class LRU:
    """A small thread-safe least-recently-used map of immutable values.

    ``name`` tells caches apart in single-flight keys (:meth:`Runtime.cached`).
    """

    def __init__(self, maxsize: int, name: str = "cache"):
        self.maxsize = maxsize
        self.name = name
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
    """At most one running computation per key; later callers get the same future.

    Parameters
    ----------
    executor : ThreadPoolExecutor
    max_pending : int, optional
        Most distinct jobs queued or running at once; one more raises
        :class:`Unavailable` (joining a running key always succeeds). None: unbounded.
    what : str
        What the jobs are, for the busy message.
    """

    def __init__(self, executor: ThreadPoolExecutor, max_pending: int | None = None,
                 what: str = "jobs"):
        self._executor = executor
        self.max_pending = max_pending
        self.what = what
        self._inflight: dict = {}
        self._lock = threading.Lock()

    def submit(self, key, fn) -> Future:
        with self._lock:
            fut = self._inflight.get(key)
            if fut is not None:
                return fut
            if self.max_pending is not None and len(self._inflight) >= self.max_pending:
                raise Unavailable(f"the server is busy with {len(self._inflight)} {self.what}; "
                                  "retry in a moment", retry_after_s=1.0)
            fut = self._executor.submit(fn)
            self._inflight[key] = fut
        fut.add_done_callback(partial(self._forget, key))
        return fut

    def pending(self) -> int:
        """Distinct jobs queued or running now."""
        with self._lock:
            return len(self._inflight)

    def _forget(self, key, fut) -> None:
        with self._lock:
            if self._inflight.get(key) is fut:
                del self._inflight[key]


class Runtime:
    """The two worker pools, the deadline and single-flight shared by all requests of one app.

    Parameters
    ----------
    deadline_s : float
        Longest a request waits for the source or a model run before answering 503.
    workers : int
        Threads of the heavy pool (model runs, rendering). The model's kernels hold the
        GIL, so more threads than cores only slow the event loop down.
    light_workers : int
        Threads of the light pool (catalog reads).
    max_pending : int, optional
        Most distinct heavy jobs queued or running (default ``8 * workers``); beyond it a
        request for new work answers 503 at once.
    """

    def __init__(self, *, deadline_s: float = 2.0, workers: int = 2, light_workers: int = 2,
                 max_pending: int | None = None):
        if not deadline_s > 0:
            raise InputError(f"deadline_s must be > 0, got {deadline_s!r}")
        pending = 8 * workers if max_pending is None else max_pending
        for name, n in (("workers", workers), ("light_workers", light_workers),
                        ("max_pending", pending)):
            if not isinstance(n, int) or n < 1:
                raise InputError(f"{name} must be an integer >= 1, got {n!r}")
        self.deadline_s = float(deadline_s)
        heavy = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="liqmap-heavy")
        light = ThreadPoolExecutor(max_workers=light_workers, thread_name_prefix="liqmap-light")
        self._pools = (heavy, light)
        self.heavy = SingleFlight(heavy, pending, what="computations in progress")
        self.light = SingleFlight(light)

    async def wait(self, what: str, fut: Future):
        """Wait for ``fut`` at most the deadline; map failures to :class:`Unavailable`."""
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(fut)),
                                          self.deadline_s)
        except TimeoutError:
            raise Unavailable(f"{what} did not finish within {self.deadline_s:g} s (the data "
                              "source is slow or the computation is large); it continues in "
                              "the background, retry shortly",
                              retry_after_s=max(1.0, self.deadline_s)) from None
        except RetryLaterError as exc:
            raise Unavailable(f"{what} failed, retry later: {exc}") from exc

    async def run(self, what: str, fn, *, key=None):
        """Run ``fn`` in the heavy pool, single-flight under ``key`` (default ``what``)."""
        return await self.wait(what, self.heavy.submit(what if key is None else key, fn))

    async def read(self, what: str, fn, *, key=None):
        """Run ``fn`` in the light pool (cheap reads), single-flight under ``key``."""
        return await self.wait(what, self.light.submit(what if key is None else key, fn))

    async def cached(self, cache: LRU, key, what: str, fn):
        """``cache[key]``, or ``fn()`` computed once in the heavy pool and stored there.

        A hit never leaves the event loop; concurrent misses of ``key`` share one
        computation, and a miss that arrives just after it finished finds it in the cache.
        """
        found = cache.get(key)
        if found is not None:
            return found

        def job():
            value = cache.get(key)  # computed by a flight that ended after our miss
            if value is None:
                value = fn()
                cache.put(key, value)
            return value

        return await self.run(what, job, key=(cache.name, key))

    def close(self) -> None:
        for pool in self._pools:
            pool.shutdown(wait=False, cancel_futures=True)


class CatalogGuard:
    """The source's catalog, re-read in the light pool at most every ``ttl_s`` seconds.

    A catalog older than ``ttl_s`` is refreshed in the background while requests keep
    getting it, until it is ``2 * ttl_s`` old (or :meth:`invalidate` was called): then
    they wait for the fresh read. So under steady traffic no request waits for the source,
    and none sees data more than ``2 * ttl_s`` old. A failed or slow read raises
    :class:`Unavailable`; it is not remembered, so the next request after the source
    recovers reads it afresh. ``clock`` (seconds, default ``time.monotonic``) is for tests.
    """

    def __init__(self, source, runtime: Runtime, ttl_s: float = 1.0, clock=time.monotonic):
        self.source = source
        self.runtime = runtime
        self.ttl_s = float(ttl_s)
        self._clock = clock
        self._value = None
        self._at = -float("inf")
        self._lock = threading.Lock()

    def _read(self):
        cat = self.source.catalog()
        with self._lock:
            self._value, self._at = cat, self._clock()
        return cat

    def cached(self):
        """The last catalog read (None before the first), without touching the source."""
        return self._value

    def invalidate(self) -> None:
        with self._lock:
            self._at = -float("inf")

    async def get(self):
        with self._lock:
            value, age = self._value, self._clock() - self._at
        if value is not None and age < self.ttl_s:
            return value
        fut = self.runtime.light.submit(("catalog",), self._read)
        if value is not None and age < 2 * self.ttl_s:
            return value  # fresh enough: the read above refreshes it in the background
        return await self.runtime.wait("reading the data source's catalog", fut)
