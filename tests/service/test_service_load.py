"""The service under load: cheap reads and cached views never wait for computations; a view
is computed once per data version and parameters, however many clients ask at once; a burst
of new computations beyond the pool's bound answers 503. No timing assertions: computations
are held at an Event and released by the test (``benchmarks/bench_service_load.py`` measures
the latencies)."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

import liqmap.service.app as service_app
from liqmap.io.sample import load_sample
from liqmap.service import create_app, render
from liqmap.service.runtime import LRU, CatalogGuard, Runtime, Unavailable
from liqmap.service.sources import Catalog, DataSource, Series, SharedBars, StoreSource

API = "/api/v1"
BASE = load_sample().last(2 * 86_400_000)
WAIT_S = 30.0  # a guard against a hung test only; never reached when things work


class GatedSource(DataSource):
    """Bars scaled by ``1 + 0.01 n`` at version ``vN``; ``catalog()`` can be held at a
    gate; counts the bar reads."""

    def __init__(self):
        self.n = 1
        self.catalog_gate = threading.Event()
        self.catalog_gate.set()
        self.bar_reads = 0

    def catalog(self) -> Catalog:
        assert self.catalog_gate.wait(WAIT_S), "catalog gate never opened"
        s = Series(BASE.venue, BASE.symbol, int(BASE.ts_ms[0]), int(BASE.ts_ms[-1]), len(BASE))
        return Catalog("gated", f"v{self.n}", (s,))

    def bars(self, venue, symbol):
        self.bar_reads += 1
        f = 1.0 + 0.01 * self.n
        return replace(BASE, open=BASE.open * f, high=BASE.high * f, low=BASE.low * f,
                       close=BASE.close * f)


class ViewGate:
    """Wraps the service's view computation: counts the calls and holds each at ``open``."""

    def __init__(self, monkeypatch):
        self.open, self.entered, self.calls = threading.Event(), threading.Event(), []
        self.open.set()
        real = service_app.compute_view

        def gated(source, key):
            self.calls.append(key)
            self.entered.set()
            assert self.open.wait(WAIT_S), "view gate never opened"
            return real(source, key)

        monkeypatch.setattr(service_app, "compute_view", gated)


def _app(src, **kw):
    kw.setdefault("deadline_s", WAIT_S)
    return create_app(src, catalog_ttl_s=0.0, warm=False, admin_token="", **kw)


def _until(cond, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not cond():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.01)


HEATMAP, MAP = f"{API}/heatmap?lookback=24h&resolution=50", f"{API}/map?lookback=24h"


def test_cheap_reads_and_cached_views_answer_while_the_computation_pool_is_held(monkeypatch):
    src, gate = GatedSource(), ViewGate(monkeypatch)
    app = _app(src, workers=1, max_pending=1)
    with TestClient(app) as c, ThreadPoolExecutor(1) as pool:
        cached = {u: c.get(u).content for u in (HEATMAP, MAP)}
        gate.open.clear()
        gate.entered.clear()
        stuck = pool.submit(c.get, f"{API}/map?lookback=12h")  # a new view: computed
        assert gate.entered.wait(WAIT_S)  # the only computation thread is held there now
        h = c.get(f"{API}/health")  # catalog_ttl_s=0: a fresh catalog read, light pool
        assert h.status_code == 200 and h.json()["data_version"] == "v1"
        for url, body in cached.items():
            r = c.get(url)
            assert r.status_code == 200 and r.content == body
        busy = c.get(f"{API}/heatmap?lookback=3d")  # one more computation: over the bound
        assert busy.status_code == 503 and "busy" in busy.json()["detail"]
        assert int(busy.headers["Retry-After"]) >= 1
        assert not stuck.done()
        gate.open.set()
        assert stuck.result(WAIT_S).status_code == 200
        assert c.get(f"{API}/heatmap?lookback=3d").status_code == 200  # free again


def test_concurrent_requests_for_one_uncached_view_compute_it_once(monkeypatch):
    src, gate = GatedSource(), ViewGate(monkeypatch)
    app = _app(src)
    svc = app.state.service
    renders, asked = [], []
    heatmap_body = render.heatmap_body
    monkeypatch.setattr(render, "heatmap_body",
                        lambda *a: renders.append(1) or heatmap_body(*a))
    cached = svc.runtime.cached

    async def counting(cache, key, what, fn):
        if cache is svc.views:
            asked.append(key)
        return await cached(cache, key, what, fn)

    monkeypatch.setattr(svc.runtime, "cached", counting)
    n = 20
    gate.open.clear()
    with TestClient(app) as c, ThreadPoolExecutor(n) as pool:
        answers = [pool.submit(c.get, HEATMAP) for _ in range(n)]
        _until(lambda: len(asked) == n, f"{n} requests waiting for the view")
        gate.open.set()
        bodies = [a.result(WAIT_S) for a in answers]
    assert all(r.status_code == 200 for r in bodies)
    assert len({r.content for r in bodies}) == 1
    assert len(gate.calls) == 1 and src.bar_reads == 1 and len(renders) == 1


def test_views_are_cached_per_data_version_and_parameters(monkeypatch):
    src, gate = GatedSource(), ViewGate(monkeypatch)
    c = TestClient(_app(src))
    first = c.get(MAP).json()
    assert first["data_version"] == "v1" and len(gate.calls) == 1
    assert c.get(MAP).json() == first and len(gate.calls) == 1
    assert c.get(HEATMAP).status_code == 200 and len(gate.calls) == 1  # same view
    assert c.get(f"{API}/map?lookback=12h").status_code == 200 and len(gate.calls) == 2
    assert src.bar_reads == 1  # the two views of v1 share one read of the series
    src.n = 2  # new data: a new version, so the view is computed again
    second = c.get(MAP).json()
    assert second["data_version"] == "v2" and len(gate.calls) == 3 and src.bar_reads == 2
    assert second["price_usd"] == pytest.approx(first["price_usd"] * 1.02 / 1.01)
    src.n = 1  # each version keeps its own entry
    assert c.get(MAP).json() == first and len(gate.calls) == 3


def test_cached_bodies_are_sent_gzipped_to_clients_that_accept_it():
    c = TestClient(_app(GatedSource()))
    plain = c.get(HEATMAP, headers={"Accept-Encoding": "identity"})
    zipped = c.get(HEATMAP, headers={"Accept-Encoding": "gzip, deflate"})
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip" and zipped.json() == plain.json()
    assert int(zipped.headers["content-length"]) < len(plain.content) / 2
    assert "accept-encoding" in zipped.headers["vary"].lower()


def test_shared_bars_are_kept_only_when_the_version_held_around_the_read():
    src = GatedSource()
    cache = LRU(4, "bars")
    shared = SharedBars(src, cache)
    shared.catalog()
    shared.bars(BASE.venue, BASE.symbol)
    src.n = 2  # the data changed during the view's read: its bars are not kept
    shared.catalog()
    assert len(cache) == 0
    shared.bars(BASE.venue, BASE.symbol)
    assert shared.catalog().version == "v2" and len(cache) == 1 and src.bar_reads == 2
    shared.bars(BASE.venue, BASE.symbol)  # the next view of v2 shares them
    assert src.bar_reads == 2


def test_a_stale_catalog_is_served_while_it_is_refreshed_in_the_background():
    src, now = GatedSource(), [0.0]

    async def scenario():
        rt = Runtime(deadline_s=0.2)
        guard = CatalogGuard(src, rt, ttl_s=1.0, clock=lambda: now[0])
        try:
            assert (await guard.get()).version == "v1"
            src.n, now[0] = 2, 1.5  # stale, not yet twice the ttl
            src.catalog_gate.clear()
            assert (await guard.get()).version == "v1"  # served without waiting
            src.catalog_gate.set()
            await asyncio.to_thread(_until, lambda: guard.cached().version == "v2",
                                    "the background refresh")
            assert (await guard.get()).version == "v2"
            src.catalog_gate.clear()
            now[0] = 10.0  # older than twice the ttl: the request waits for the source
            with pytest.raises(Unavailable, match="catalog"):
                await guard.get()
            src.catalog_gate.set()
        finally:
            src.catalog_gate.set()
            rt.close()

    asyncio.run(scenario())


class LockedStore:
    """A store that runs one query at a time per handle (as a DuckDB connection does);
    ``read_bars`` is held at ``gate``."""

    def __init__(self, gate: threading.Event, entered: threading.Event):
        self.gate, self.entered, self.lock = gate, entered, threading.Lock()

    def series(self):
        with self.lock:
            return [SimpleNamespace(table="bars", venue=BASE.venue, symbol=BASE.symbol,
                                    rows=len(BASE), first_ts_ms=int(BASE.ts_ms[0]),
                                    last_ts_ms=int(BASE.ts_ms[-1]))]

    def read_bars(self, venue, symbol):
        with self.lock:
            self.entered.set()
            assert self.gate.wait(WAIT_S), "gate never opened"
            return BASE

    def close(self):
        pass


def test_store_catalog_is_read_beside_a_long_bar_read():
    gate, entered = threading.Event(), threading.Event()
    src = StoreSource(opener=lambda: LockedStore(gate, entered),
                      catalog_opener=lambda: LockedStore(gate, entered))
    with ThreadPoolExecutor(1) as pool:
        reading = pool.submit(src.bars, BASE.venue, BASE.symbol)
        assert entered.wait(WAIT_S)
        assert src.catalog().series[0].bars == len(BASE)  # not behind the held bar read
        assert not reading.done()
        gate.set()
        assert len(reading.result(WAIT_S)) == len(BASE)
    src.close()


def test_store_source_from_path_reads_its_catalog_on_a_handle_of_its_own(tmp_path,
                                                                           monkeypatch):
    store_mod = pytest.importorskip("liqmap.store")
    path = tmp_path / "s.duckdb"
    with store_mod.DuckDBStore(path) as s:
        s.write_bars(BASE)
    opened, scans = [], []
    real = store_mod.open_store

    def counting_open(*a, **k):
        store = real(*a, **k)
        series = store.series
        store.series = lambda: scans.append(1) or series()
        opened.append(store)
        return store

    monkeypatch.setattr(store_mod, "open_store", counting_open)
    src = StoreSource.from_path(path)  # read-only: no writer can change it meanwhile
    cat = src.catalog()
    assert cat.series[0].bars == len(BASE) and (len(opened), len(scans)) == (1, 1)
    assert len(src.bars(BASE.venue, BASE.symbol)) == len(BASE) and len(opened) == 2
    assert opened[0] is not opened[1]
    assert src.catalog() == cat and len(scans) == 1  # read once
    src.close()
    writable = StoreSource.from_path(path, read_only=False)
    assert writable.catalog() == writable.catalog() and len(scans) == 3  # read each time
    writable.close()
