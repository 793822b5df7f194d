"""The live runner against loopback venue servers: drops, stalls, rate limits, two venues."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from liqmap.core import mapstats
from liqmap.io.sample import load_sample
from liqmap.live.runner import Backoff, LiveRunner, VenueFeed
from liqmap.model import LiquidationModel
from liqmap.venues import bars_from_live
from liqmap.venues.binance import BinanceLoopback, BinanceRest, BinanceStream
from liqmap.venues.bybit import BybitLoopback, BybitRest, BybitStream

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "forceorder_allsymbols_sample.csv"
FAST = Backoff(initial_s=0.02, factor=2.0, max_s=0.2)
START = 4800   # a stretch where the model predicts liquidations on both sides
LIQ_START = 7650   # 2025-12-27 03:30 UTC: the recorded force orders fall inside
WARM = 200
MAX_BARS = 40


def force_orders() -> list[dict]:
    """The recorded ``!forceOrder@arr`` events as wire ``o`` payloads (symbols restored)."""
    with FIXTURE.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [{"s": r["symbol_stripped"] + "USDT", "S": r["side"], "o": r["order_type"],
             "f": r["time_in_force"], "q": r["original_quantity"], "p": r["price"],
             "ap": r["average_price"], "X": r["order_status"], "l": r["last_filled_quantity"],
             "z": r["accumulated_filled_quantity"], "T": int(r["trade_time_ms"])} for r in rows]


@pytest.fixture(scope="module")
def bars():
    # the servers replay up to a few bars past what the runner needs
    return load_sample().take(slice(0, LIQ_START + MAX_BARS + 3))


def _runner(feeds, bars, start=START, **kw):
    fed = bars.take(slice(start - WARM, start + MAX_BARS))
    return LiveRunner(feeds, LiquidationModel(bin_usd=50.0), warm_bars=WARM, max_bars=MAX_BARS,
                      backoff=FAST, stall_s=kw.pop("stall_s", 5.0),
                      clock_ms=lambda: int(bars.ts_ms[start]),
                      reference_price_usd=float(np.median(fed.close)), **kw)


def _binance(srv):
    return VenueFeed(BinanceStream(url=srv.ws_url), BinanceRest(url=srv.rest_url))


def _assert_complete(runner, bars, venue):
    got = runner.bars(venue)
    ts = np.array([b.ts_ms for b in got])
    want = bars.ts_ms[START - WARM:START + MAX_BARS]
    np.testing.assert_array_equal(ts, want)  # no bar missing, none twice, in order
    return got


def test_drop_mid_stream_backfills_every_missed_bar(bars):
    with BinanceLoopback(bars, start=START, drop_after=12, refuse=2, skip=5) as srv:
        runner = _runner([_binance(srv)], bars)
        runner.run_sync()
    assert srv.dropped and srv.refused == 2 and srv.connections == 2
    got = _assert_complete(runner, bars, "binance")
    gaps = runner.sink.gaps
    assert len(gaps) == 1 and gaps[0].reason == "disconnect"
    rest_ts = [b.ts_ms for b in got[WARM:] if b.source == "rest"]
    assert gaps[0].bars_backfilled == len(rest_ts) >= 5  # the skipped bars at least
    assert gaps[0].from_ms == rest_ts[0] and gaps[0].to_ms == rest_ts[-1]
    # the incremental predictions equal a batch run over exactly the bars the runner saw
    fed = bars_from_live(got)
    np.testing.assert_allclose(fed.open_interest, bars.open_interest[START - WARM:START +
                                                                     MAX_BARS])
    est = LiquidationModel(bin_usd=50.0).run(fed)
    ups = runner.sink.updates
    assert [u.ts_ms for u in ups] == [b.ts_ms for b in got[WARM:]]
    np.testing.assert_allclose([u.predicted_long_usd for u in ups],
                               est.predicted_long_usd[WARM:], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose([u.predicted_short_usd for u in ups],
                               est.predicted_short_usd[WARM:], rtol=1e-9, atol=1e-6)
    assert sum(u.predicted_long_usd > 0 for u in ups) >= 5  # a comparison with substance
    assert sum(u.predicted_short_usd > 0 for u in ups) >= 3


def test_force_orders_are_parsed_filtered_and_marked_lower_bound(bars):
    with BinanceLoopback(bars, start=LIQ_START, liquidations=force_orders()) as srv:
        runner = _runner([_binance(srv)], bars, start=LIQ_START)
        runner.run_sync()
    liq = runner.sink.liquidations
    end = int(bars.ts_ms[LIQ_START + MAX_BARS - 1]) + bars.bar_ms
    want = [o for o in force_orders() if o["s"] == "BTCUSDT"
            and int(bars.ts_ms[LIQ_START]) <= o["T"] < end]
    assert len(want) >= 3 and len(liq) == len(want)  # other symbols filtered out
    for ev, o in zip(liq, want):
        assert ev.ts_ms == o["T"] and ev.side == (1 if o["S"] == "SELL" else -1)
        assert ev.qty_coin == float(o["z"]) and ev.price == float(o["ap"])
        assert ev.lower_bound and ev.symbol == "BTC/USDT:USDT"


def test_stall_and_rate_limit_reconnect_and_fill(bars):
    with BinanceLoopback(bars, start=START, drop_after=8, skip=3, stall=True, refuse=1,
                         refuse_status=429) as srv:
        runner = _runner([_binance(srv)], bars, stall_s=0.3)
        runner.run_sync()
    _assert_complete(runner, bars, "binance")
    reasons = [g.reason for g in runner.sink.gaps]
    assert reasons == ["stall+rate-limit"] and runner.sink.gaps[0].bars_backfilled >= 3


def test_two_venues_each_with_its_own_rules_and_an_aggregate_map(bars):
    with BinanceLoopback(bars, start=START) as b_srv, \
            BybitLoopback(bars, start=START, bar_delay_s=0.005) as y_srv:
        feeds = [_binance(b_srv),
                 VenueFeed(BybitStream(url=y_srv.ws_url, ping_every_s=0.02),
                           BybitRest(url=y_srv.rest_url))]
        runner = _runner(feeds, bars)
        runner.run_sync()
    assert y_srv.pings >= 1  # the Bybit client kept its connection alive
    for venue in ("binance", "bybit"):
        _assert_complete(runner, bars, venue)
    models = runner.models
    assert models["binance"].model.venue == "binance" and models["bybit"].model.venue == "bybit"
    maps = [models[v].current_map() for v in ("binance", "bybit")]
    assert maps[0].long_usd.sum() != pytest.approx(maps[1].long_usd.sum(), rel=1e-6)  # rules differ
    agg = runner.aggregate_map()
    want = mapstats.aggregate(maps)
    np.testing.assert_allclose(agg.long_usd, want.long_usd)
    assert agg.long_usd.sum() == pytest.approx(sum(m.long_usd.sum() for m in maps), rel=1e-9)
    assert agg.venue == "aggregate"
