"""Live mode in the service: a LiveSource filled by a LiveRunner, pushed over /api/v1/stream.

The runner streams from the Binance loopback server (``liqmap.venues.binance.loopback``) replaying
the bundled sample; a gate sink holds each streamed bar until the test has seen the SSE
update of the previous one, so the order of events is fixed without any sleep.
"""

from __future__ import annotations

import json
import threading

import httpx
import numpy as np
import pytest

from liqmap._exceptions import ConfigError, RetryLaterError
from liqmap.io.sample import load_sample
from liqmap.live.runner import Backoff, LiveRunner, VenueFeed
from liqmap.live.sinks import TeeSink
from liqmap.model import LiquidationModel
from liqmap.service.app import create_app
from liqmap.service.live_source import LiveFeed, LiveSource
from liqmap.venues import LiveBar, LiveLiquidation, live_from_bars
from liqmap.venues.binance import BinanceLoopback, BinanceRest, BinanceStream

# The production deadline (2 s) answers 503 while a cold numba compile runs on a slow CI
# machine; these tests check answers, not the deadline (tests/service/test_service_faults.py does).
SLOW_CI_DEADLINE_S = 120.0

API = "/api/v1"
SYM = "BTC/USDT:USDT"
START, WARM, STREAMED = 4800, 200, 4
FAST = Backoff(initial_s=0.02, factor=2.0, max_s=0.2)


@pytest.fixture(scope="module")
def bars():
    return load_sample().take(slice(0, START + STREAMED + 3))


def _bar(ts_ms: int, close: float = 100.0, **kw) -> LiveBar:
    return LiveBar(ts_ms=ts_ms, open=close, high=close + 1, low=close - 1, close=close,
                   volume=1.0, open_interest=kw.pop("open_interest", 10.0), **kw)


# ---------------------------------------------------------------------- the source itself
def test_append_ignores_repeats_and_changes_version_per_new_bar():
    src = LiveSource()
    src.append([_bar(0), _bar(300_000)])
    v1 = src.catalog().version
    src.append([_bar(300_000, close=999.0)])  # a repeated bar: nothing new
    assert src.catalog().version == v1
    src.append([_bar(600_000, close=101.0)])
    cat = src.catalog()
    assert cat.version != v1 and cat.series[0].bars == 3
    b = src.bars("binance", SYM)
    np.testing.assert_array_equal(b.ts_ms, [0, 300_000, 600_000])
    np.testing.assert_array_equal(b.close, [100.0, 100.0, 101.0])
    assert b.funding_rate is None  # not every bar has one
    with pytest.raises(ConfigError, match="holds no bars of bybit"):
        src.bars("bybit", SYM)


def test_published_bars_never_change_while_appending_concurrently():
    """Readers in threads keep every Bars they got; the writer appends 3000 bars one at a
    time (through several buffer growths and a trimmed window). Each read must be
    internally consistent, and must still hold the same values at the end."""
    src = LiveSource(keep_bars=1000)
    n_bars, kept, stop = 3000, [], threading.Event()

    def reader():
        while not stop.is_set():
            cat = src.catalog()
            if cat.series:
                b = src.bars("binance", SYM)
                kept.append((b, b.ts_ms.copy(), b.close.copy()))

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for i in range(n_bars):
        src.append([_bar(i * 300_000, close=1000.0 + i, funding_rate=1e-4)])
    stop.set()
    for t in threads:
        t.join()
    assert len(kept) > 10
    for b, ts, close in kept:
        np.testing.assert_array_equal(b.ts_ms, ts)  # not modified after it was read
        np.testing.assert_array_equal(b.close, close)
        assert len(b) <= 1000 and np.all(np.diff(ts) == 300_000)
        np.testing.assert_array_equal(close, 1000.0 + ts // 300_000)
        assert not b.close.flags.writeable
    last = src.bars("binance", SYM)
    assert len(last) == 1000 and int(last.ts_ms[-1]) == (n_bars - 1) * 300_000
    assert last.funding_rate is not None  # every kept bar has one


def test_liquidations_are_published_with_the_next_bar():
    src = LiveSource()
    sink = src.sink()
    sink.warm("binance", [_bar(0), _bar(300_000)])
    v_warm = src.catalog().version
    sink.liquidation(LiveLiquidation(ts_ms=310_000, side=1, price=99.0, qty_coin=2.0,
                                     notional_usd=198.0, lower_bound=True))
    assert src.realized("binance", SYM) is None and src.catalog().version == v_warm
    sink.bar(None, _bar(300_000 * 2), None)
    liq = src.realized("binance", SYM)
    assert src.catalog().version != v_warm
    assert len(liq) == 1 and liq.long_usd == 198.0 and "lower bound" in liq.source
    assert src.realized("binance", SYM, 0, 310_000) is None  # window excludes it


def test_a_feed_that_dies_before_any_bar_answers_retry_later():
    src = LiveSource()
    src.fail("warm-up returned 0 bars")
    with pytest.raises(RetryLaterError, match="warm-up returned 0 bars"):
        src.catalog()
    src2 = LiveSource()
    src2.append([_bar(0), _bar(300_000)])
    src2.fail("socket gone")
    assert "feed stopped: socket gone" in src2.catalog().name  # data still served


# ---------------------------------------------------------------------- end to end
class Gate:
    """A sink that holds each streamed bar until the test lets one through."""

    def __init__(self) -> None:
        self._permits = threading.Semaphore(0)

    def let_one(self) -> None:
        self._permits.release()

    def open_all(self) -> None:
        self._permits.release(1000)

    def warm(self, venue, bars) -> None:
        pass

    def bar(self, update, bar, model) -> None:
        self._permits.acquire(timeout=30)

    def gap(self, event) -> None:
        pass

    def liquidation(self, event) -> None:
        pass


def _updates(lines):
    event = None
    for line in lines:
        if line.startswith("event: "):
            event = line[len("event: "):]
        elif line.startswith("data: "):
            data = json.loads(line[len("data: "):])
            assert event == "update", data
            yield data


def test_serve_live_pushes_each_closed_bar_over_sse(bars, serve):
    src, gate = LiveSource(name="live:binance"), Gate()
    with BinanceLoopback(bars, start=START) as srv:
        runner = LiveRunner([VenueFeed(BinanceStream(url=srv.ws_url),
                                       BinanceRest(url=srv.rest_url))],
                            LiquidationModel(), warm_bars=WARM, max_bars=STREAMED,
                            backoff=FAST, stall_s=30.0, sink=TeeSink(gate, src.sink()),
                            clock_ms=lambda: int(bars.ts_ms[START]))
        feed = LiveFeed(runner, src)
        app = create_app(src, deadline_s=SLOW_CI_DEADLINE_S, live=feed, catalog_ttl_s=0.0, stream_poll_s=0.05,
                         heartbeat_s=60.0, warm=False, admin_token="")
        try:
            with serve(app) as base, httpx.Client(base_url=base, timeout=30) as http:
                assert feed.running
                assert src.wait_for_bars(30), f"no warm-up: {feed.error!r}"
                with http.stream("GET", f"{API}/stream", params={"lookback": "12h"}) as r:
                    assert r.status_code == 200
                    events = _updates(r.iter_lines())
                    got = [next(events)]
                    for _ in range(STREAMED):
                        gate.let_one()
                        got.append(next(events))
                d = http.get(f"{API}/map", params={"lookback": "12h"}).json()
                health = http.get(f"{API}/health").json()
        finally:
            gate.open_all()
    assert not feed.running and feed.error is None  # stopped with the app

    want_ts = bars.ts_ms[START - 1:START + STREAMED]  # warm-up end, then each streamed bar
    assert [u["ts_ms"] for u in got] == [int(t) for t in want_ts]
    assert len({u["data_version"] for u in got}) == len(got)
    assert health["source"] == "live:binance" and health["data_to_ms"] == int(want_ts[-1])

    held = src.bars("binance", SYM)
    np.testing.assert_array_equal(held.ts_ms, bars.ts_ms[START - WARM:START + STREAMED])
    np.testing.assert_allclose(held.close, bars.close[START - WARM:START + STREAMED])
    np.testing.assert_allclose(held.open_interest[:WARM],
                               bars.open_interest[START - WARM:START])
    ref = LiquidationModel(venue="binance", frames=1000).run(held, lookback="12h").final_map
    assert d["ts_ms"] == got[-1]["ts_ms"] == int(ref.ts_ms)
    assert d["data_version"] == got[-1]["data_version"]
    assert d["price_usd"] == pytest.approx(float(bars.close[START + STREAMED - 1]))
    assert sum(d["long_usd"]) == pytest.approx(ref.long_usd.sum(), rel=1e-6)
    assert sum(d["short_usd"]) == pytest.approx(ref.short_usd.sum(), rel=1e-6)
    assert got[-1]["total_long_usd"] == pytest.approx(ref.long_usd.sum(), rel=1e-6)
    assert ref.long_usd.sum() > 0 and ref.short_usd.sum() > 0


def test_build_live_also_writes_the_store(bars, tmp_path):
    from liqmap.cli.cmd_serve import build_live
    from liqmap.store import DuckDBStore

    db = tmp_path / "live.duckdb"
    with BinanceLoopback(bars, start=START) as srv:
        src, feed = build_live(venues=["binance"], symbol=SYM, timeframe="5m", warm_bars=50,
                               ws_urls=[srv.ws_url], rest_urls=[srv.rest_url], stall_s=30.0,
                               now=str(int(bars.ts_ms[START])), db=db, max_bars=3)
        feed.start()
        assert feed.wait(60), "the runner did not reach max_bars"
    assert feed.error is None
    want = bars.ts_ms[START - 50:START + 3]
    np.testing.assert_array_equal(src.bars("binance", SYM).ts_ms, want)
    with DuckDBStore(db, read_only=True) as store:
        np.testing.assert_array_equal(store.read_bars("binance", SYM).ts_ms, want)
        assert store.read_snapshots("binance", SYM)[-1].ts_ms == int(want[-1])
        assert store.list_runs("serve-live")


def test_build_live_rejects_a_venue_without_a_client():
    from liqmap.cli.cmd_serve import build_live

    with pytest.raises(ConfigError, match="no live client for venue 'nowhere'"):
        build_live(venues=["nowhere"], symbol=SYM, timeframe="5m", warm_bars=50, ws_urls=None,
                   rest_urls=None, stall_s=30.0, now=None)


def test_live_from_bars_round_trip_through_the_source(bars):
    """Seeding a LiveSource from a Bars series gives back the same columns."""
    src = LiveSource()
    part = bars.take(slice(100, 400))
    src.append(live_from_bars(part))
    got = src.bars(part.venue, part.symbol)
    for col in ("ts_ms", "open", "high", "low", "close", "open_interest", "volume"):
        np.testing.assert_array_equal(getattr(got, col), getattr(part, col))
