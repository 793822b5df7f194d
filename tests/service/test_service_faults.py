"""Faults and live data: a failing or slow source answers 503 and recovers by itself; a
source that changes while requests run never yields a mixed answer; SSE pushes updates."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import httpx
import pytest
from fastapi.testclient import TestClient

from liqmap._exceptions import RetryLaterError
from liqmap.io.sample import load_sample
from liqmap.service import create_app
from liqmap.service.sources import Catalog, DataSource, Series

API = "/api/v1"
BASE = load_sample().last(2 * 86_400_000)


def _factor(version: str) -> float:
    return 1.0 + 0.01 * int(version[1:])


class FakeSource(DataSource):
    """Bars whose prices are scaled by ``1 + 0.01 n`` at data version ``vN``; can fail
    (``fail``) or hang until ``gate`` is set."""

    def __init__(self):
        self.n = 1
        self.fail: Exception | None = None
        self.gate = threading.Event()
        self.gate.set()
        self.calls = 0

    def _enter(self):
        self.calls += 1
        assert self.gate.wait(30), "test gate never opened"
        if self.fail is not None:
            raise self.fail

    def catalog(self) -> Catalog:
        self._enter()
        b = BASE
        s = Series(b.venue, b.symbol, int(b.ts_ms[0]), int(b.ts_ms[-1]), len(b))
        return Catalog("fake", f"v{self.n}", (s,))

    def bars(self, venue, symbol):
        self._enter()
        f = _factor(f"v{self.n}")
        return replace(BASE, open=BASE.open * f, high=BASE.high * f, low=BASE.low * f,
                       close=BASE.close * f)


def _app(src, **kw):
    kw.setdefault("deadline_s", 30.0)
    kw.setdefault("admin_token", "")
    return create_app(src, catalog_ttl_s=0.0, warm=False, **kw)


def _eventually_ok(client, url, tries=200):
    for _ in range(tries):
        r = client.get(url)
        if r.status_code == 200:
            return r
        assert r.status_code == 503, r.text
        time.sleep(0.05)
    raise AssertionError(f"{url} did not recover: {r.status_code} {r.text}")


def test_failing_source_answers_503_then_recovers():
    src = FakeSource()
    c = TestClient(_app(src))
    assert c.get(f"{API}/map?lookback=24h").status_code == 200
    src.fail = RetryLaterError("database is locked by another process")
    for url in ("map?lookback=24h", "heatmap?lookback=24h", "health"):
        r = c.get(f"{API}/{url}")
        assert r.status_code == 503, url
        assert "locked by another process" in r.json()["detail"]
        assert int(r.headers["Retry-After"]) >= 1 and r.json()["retry_after_s"] > 0
    src.fail = None
    assert c.get(f"{API}/map?lookback=24h").json()["data_version"] == "v1"


def test_unexpected_store_error_becomes_503_via_store_source():
    from liqmap.service.sources import StoreSource

    class BrokenStore:
        broken = True

        def series(self):
            if self.broken:
                raise OSError("disk I/O error")
            return []

    store = BrokenStore()
    c = TestClient(_app(StoreSource(store)))
    r = c.get(f"{API}/health")
    assert r.status_code == 503 and "disk I/O error" in r.json()["detail"]
    store.broken = False
    r = c.get(f"{API}/heatmap")
    assert r.status_code == 503 and "no bars" in r.json()["detail"]


def test_slow_source_answers_503_within_the_deadline_then_recovers():
    src = FakeSource()
    c = TestClient(_app(src, deadline_s=0.3))
    src.gate.clear()
    r = c.get(f"{API}/heatmap?lookback=24h&resolution=50")
    assert r.status_code == 503 and "did not finish within 0.3 s" in r.json()["detail"]
    src.gate.set()
    r = _eventually_ok(c, f"{API}/heatmap?lookback=24h&resolution=50")
    assert r.json()["data_version"] == "v1"


def _consistent(body: dict) -> None:
    f = _factor(body["data_version"])
    if "price" in body:  # heatmap: its price line belongs to the same version
        assert body["price"]["close_usd"][-1] == pytest.approx(float(BASE.close[-1]) * f)
    else:
        assert body["price_usd"] == pytest.approx(float(BASE.close[-1]) * f)
        assert body["summary"]["price_usd"] == pytest.approx(body["price_usd"])


def test_changing_data_never_yields_a_mixed_answer():
    src = FakeSource()
    stop = threading.Event()

    def writer():
        while not stop.is_set():
            src.n += 1
            time.sleep(0.02)

    urls = [f"{API}/map?lookback=24h", f"{API}/heatmap?lookback=24h&resolution=50"] * 15
    with TestClient(_app(src)) as c, ThreadPoolExecutor(4) as pool:
        t = threading.Thread(target=writer)
        t.start()
        try:
            answers = list(pool.map(c.get, urls))
        finally:
            stop.set()
            t.join()
    assert all(r.status_code in (200, 503) for r in answers)
    ok = [r.json() for r in answers if r.status_code == 200]
    assert len(ok) >= len(urls) // 2
    for body in ok:
        _consistent(body)
    assert len({b["data_version"] for b in ok}) >= 2  # the data really changed meanwhile


def test_admin_refresh_during_reads_keeps_answers_whole():
    src = FakeSource()
    app = _app(src, admin_token="tok")
    with TestClient(app) as c:
        def refresh(_):
            src.n += 1
            return c.post(f"{API}/admin/refresh", headers={"Authorization": "Bearer tok"})

        with ThreadPoolExecutor(4) as pool:
            reads = [pool.submit(c.get, f"{API}/map?lookback=12h") for _ in range(12)]
            refreshes = list(pool.map(refresh, range(4)))
        assert all(r.status_code == 200 for r in refreshes)
        for r in reads:
            assert r.result().status_code == 200
            _consistent(r.result().json())


def _events(lines):
    """(event, data) pairs and heartbeat comments from an SSE line iterator."""
    event = None
    for line in lines:
        if line.startswith(":"):
            yield "comment", line
        elif line.startswith("event: "):
            event = line[len("event: "):]
        elif line.startswith("data: "):
            yield event, json.loads(line[len("data: "):])


def test_sse_pushes_an_update_when_the_data_version_changes(serve):
    src = FakeSource()
    app = create_app(src, catalog_ttl_s=0.0, warm=False, admin_token="", stream_poll_s=0.05,
                     heartbeat_s=0.2)
    with (serve(app) as base, httpx.Client(base_url=base, timeout=20) as http,
          http.stream("GET", f"{API}/stream", params={"lookback": "12h"}) as r):
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = _events(r.iter_lines())
        kind, first = next(events)
        assert kind == "update" and first["data_version"] == "v1"
        assert set(first) >= {"venue", "symbol", "ts_ms", "price_usd", "total_long_usd",
                              "total_short_usd"}
        assert next(events) == ("comment", ": heartbeat")  # nothing changed meanwhile
        src.n = 2
        kind, second = next(e for e in events if e[0] != "comment")
    assert kind == "update" and second["data_version"] == "v2"
    assert second["price_usd"] == pytest.approx(first["price_usd"] * _factor("v2")
                                                / _factor("v1"))
