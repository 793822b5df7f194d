"""OKX liquidations lost while the socket was down come back over REST, exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import numpy as np
import pytest

from liqmap.io.sample import load_sample
from liqmap.live.runner import Backoff, LiveRunner, VenueFeed, _LiqLedger
from liqmap.model import LiquidationModel
from liqmap.venues import LiveLiquidation
from liqmap.venues.okx import OkxLoopback
from liqmap.venues.okx import live as okx

FAST = Backoff(initial_s=0.02, factor=2.0, max_s=0.2)
LIQ_START, WARM, MAX_BARS = 7650, 60, 30
# the recorded BTC force orders fall in bars 7667, 7671, 7674 and 7675: the first connection
# streams 7650..7667 and drops; the next one resumes at 7676, so the three later events
# happened while the socket was away and exist only over REST
DROP_AFTER, SKIP = 18, 8


@pytest.fixture(scope="module")
def bars():
    return load_sample().take(slice(0, LIQ_START + MAX_BARS + 3))


def _key(ev) -> tuple:
    return (ev.ts_ms, ev.side, ev.price, round(ev.qty_coin, 9))


def _run(bars, details, *, liquidations=True, **srv_kw):
    with OkxLoopback(bars, start=LIQ_START, liquidations=details, **srv_kw) as srv:
        feed = VenueFeed(okx.OkxStream(url=srv.ws_url, liquidations=liquidations),
                         okx.OkxRest(url=srv.rest_url))
        fed = bars.take(slice(LIQ_START - WARM, LIQ_START + MAX_BARS))
        runner = LiveRunner([feed], LiquidationModel(bin_usd=50.0), warm_bars=WARM,
                            max_bars=MAX_BARS, backoff=FAST, stall_s=5.0,
                            clock_ms=lambda: int(bars.ts_ms[LIQ_START]),
                            reference_price_usd=float(np.median(fed.close)))
        runner.run_sync()
    return srv, runner


def test_okx_outage_liquidations_reach_the_sink_exactly_once(bars, okx_details):
    details = okx_details
    srv, runner = _run(bars, details, drop_after=DROP_AFTER, skip=SKIP)
    assert srv.dropped and srv.connections == 2
    t0, t1 = int(bars.ts_ms[LIQ_START]), int(bars.ts_ms[LIQ_START + MAX_BARS])
    spec = okx.OkxRest().spec
    want = [okx.parse_liquidation(d, spec) for d in details if t0 <= int(d["ts"]) < t1]
    streamed = set(int(t) for t in srv.streamed)
    lost = [e for e in want if (e.ts_ms // bars.bar_ms) * bars.bar_ms not in streamed]
    assert len(want) == 4 and len(lost) == 3  # the fixture's events, as the comment says
    got = runner.sink.liquidations
    assert Counter(map(_key, got)) == Counter(map(_key, want))  # each exactly once
    (gap,) = runner.sink.gaps
    assert gap.reason == "disconnect" and gap.liquidations_backfilled == len(lost)
    assert gap.bars_backfilled >= SKIP
    # the backfilled events follow the gap event, in time order, in coins
    tail = got[-len(lost):]
    assert [_key(e) for e in tail] == sorted(map(_key, lost))
    assert all(e.lower_bound and e.venue == "okx" for e in got)
    ts = [b.ts_ms for b in runner.bars("okx")]
    np.testing.assert_array_equal(ts, bars.ts_ms[LIQ_START - WARM:LIQ_START + MAX_BARS])


def test_okx_gap_without_streamed_liquidations_backfills_none(bars, okx_details):
    srv, runner = _run(bars, okx_details, liquidations=False, drop_after=DROP_AFTER, skip=SKIP)
    assert srv.dropped and runner.sink.liquidations == []
    assert [g.liquidations_backfilled for g in runner.sink.gaps] == [0]


def test_okx_fetch_liquidations_pages_back_in_time(okx_details):
    details = okx_details
    late = load_sample().take(slice(7600, 8030))  # past every recorded event

    async def fetch(rest, lo, hi):
        async with httpx.AsyncClient(timeout=5.0) as client:
            return await rest.fetch_liquidations(client, lo, hi)

    with OkxLoopback(late, start=len(late) - 1, liquidations=details) as srv:
        rest = okx.OkxRest(url=srv.rest_url)
        every = asyncio.run(fetch(rest, 0, 2 ** 62))
        rest.liq_page = 2  # six events: three full pages and an empty one
        paged = asyncio.run(fetch(rest, 0, 2 ** 62))
        inner = asyncio.run(fetch(rest, int(details[1]["ts"]), int(details[4]["ts"])))
    times = sorted(int(d["ts"]) for d in details)
    assert [e.ts_ms for e in every] == times == [e.ts_ms for e in paged]
    assert [e.ts_ms for e in inner] == [t for t in times
                                        if int(details[1]["ts"]) <= t <= int(details[4]["ts"])]
    long_liq = next(e for e in every if e.side == 1)
    d = next(x for x in details if int(x["ts"]) == long_liq.ts_ms)
    assert long_liq.qty_coin == pytest.approx(float(d["sz"]) * 0.01)
    assert long_liq.notional_usd == pytest.approx(long_liq.qty_coin * float(d["bkPx"]))


def test_ledger_keeps_identical_events_apart():
    ev = LiveLiquidation(ts_ms=1_000, side=1, price=90_000.0, qty_coin=0.5,
                         notional_usd=45_000.0, venue="okx")
    other = LiveLiquidation(ts_ms=2_000, side=-1, price=91_000.0, qty_coin=0.1,
                            notional_usd=9_100.0, venue="okx")
    led = _LiqLedger()
    assert led.from_stream(ev)  # the socket delivered one of two identical orders
    assert led.from_rest([ev, ev, other]) == [ev, other]  # REST adds the second and other
    assert led.from_rest([ev, ev, other]) == []  # a second fetch of the same window: nothing
    assert not led.from_stream(other)  # the socket delivering it late is dropped
    assert led.from_stream(other)  # ... but a genuinely new identical one is kept
    led.prune(1_500)
    assert led.from_rest([ev]) == [ev]  # forgotten: only windows after 1_500 are asked
