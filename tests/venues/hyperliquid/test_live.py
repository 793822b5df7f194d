"""Hyperliquid live mode: frame parsing, closing the repeatedly pushed candle, and the runner
against a loopback Hyperliquid (bar-by-bar equals batch; a drop is refilled over REST)."""

from __future__ import annotations

import asyncio
import json

import httpx
import numpy as np
import pytest
from typer.testing import CliRunner

from liqmap import ConfigError, DataError
from liqmap.cli import app
from liqmap.io.sample import load_sample
from liqmap.live.runner import Backoff, LiveRunner, VenueFeed
from liqmap.model import LiquidationModel
from liqmap.venues import FundingTick, LiveBar, OiTick, bars_from_live, venue_spec
from liqmap.venues.hyperliquid import HyperliquidLoopback
from liqmap.venues.hyperliquid import live as hl

SPEC = venue_spec("hyperliquid", "BTC/USDC:USDC")
FAST = Backoff(initial_s=0.02, factor=2.0, max_s=0.2)
START, WARM, MAX_BARS = 4800, 200, 40
T0 = 1_764_547_200_000


def _candle(t: int, close: str, coin: str = "BTC", interval: str = "5m") -> dict:
    """A ``candle`` frame as Hyperliquid sends it (strings for prices and volume)."""
    return {"channel": "candle", "data": {
        "t": t, "T": t + 299_999, "s": coin, "i": interval, "o": "90000.0", "c": close,
        "h": "90200.0", "l": "89900.5", "v": "12.34567", "n": 321}}


def _ctx(oi: str = "31415.92654", funding: str = "0.0000125", coin: str = "BTC") -> dict:
    return {"channel": "activeAssetCtx", "data": {"coin": coin, "ctx": {
        "dayNtlVlm": "1169046.29406", "prevDayPx": "89000.0", "markPx": "90010.0",
        "midPx": "90009.5", "oraclePx": "90012.0", "funding": funding, "openInterest": oi,
        "premium": "0.00031774", "impactPxs": ["90009.0", "90011.0"]}}}


def test_hl_symbol_mapping_and_units():
    assert (SPEC.venue_symbol, SPEC.rules, SPEC.contract_size, SPEC.inverse) == (
        "BTC", "hyperliquid", 1.0, False)
    assert venue_spec("hyperliquid", "ETH/USDC:USDC").venue_symbol == "ETH"
    with pytest.raises(ConfigError, match="USDC"):
        venue_spec("hyperliquid", "BTC/USDT:USDT")
    with pytest.raises(ConfigError, match="no 7-minute candles"):
        hl.HyperliquidStream(timeframe="7m")
    from liqmap.venues import listed_symbol as venue_symbol
    assert venue_symbol("hyperliquid", "ETH/USDT:USDT") == "ETH/USDC:USDC"
    assert venue_symbol("bybit", "ETH/USDT:USDT") == "ETH/USDT:USDT"


def test_hl_frames_ctx_pong_and_acks():
    closer = hl.CandleCloser(SPEC, 300_000)
    ticks = hl.parse_message(_ctx(), SPEC, closer, now_ms=T0 + 5)
    assert ticks == [OiTick(ts_ms=T0 + 5, open_interest=31415.92654),
                     FundingTick(ts_ms=T0 + 5, funding_rate=pytest.approx(0.0001))]  # 1 h x 8
    assert hl.parse_message(_ctx(coin="ETH"), SPEC, closer) == []
    assert hl.parse_message({"channel": "pong"}, SPEC, closer) == []
    ack = {"channel": "subscriptionResponse", "data": {"method": "subscribe", "subscription": {
        "type": "candle", "coin": "BTC", "interval": "5m"}}}
    assert hl.parse_message(ack, SPEC, closer) == []
    with pytest.raises(DataError, match="refused"):
        hl.parse_message({"channel": "error", "data": "Invalid subscription"}, SPEC, closer)
    with pytest.raises(DataError, match="numeric"):
        hl.parse_candle({"t": T0, "o": "x"}, SPEC)
    subs = [json.loads(m) for m in hl.HyperliquidStream().subscriptions]
    assert subs == [{"method": "subscribe", "subscription": {"type": "candle", "coin": "BTC",
                                                             "interval": "5m"}},
                    {"method": "subscribe", "subscription": {"type": "activeAssetCtx",
                                                             "coin": "BTC"}}]


def test_hl_candle_closes_when_a_later_t_arrives():
    closer = hl.CandleCloser(SPEC, 300_000)
    pushes = [_candle(T0, "90010.0"), _candle(T0, "90020.0"), _candle(T0, "90050.0")]
    assert [hl.parse_message(p, SPEC, closer) for p in pushes] == [[], [], []]  # still open
    assert hl.parse_message(_candle(T0, "1", coin="ETH"), SPEC, closer) == []
    assert hl.parse_message(_candle(T0, "1", interval="1m"), SPEC, closer) == []
    (bar,) = hl.parse_message(_candle(T0 + 300_000, "90060.0"), SPEC, closer)
    assert isinstance(bar, LiveBar) and bar.ts_ms == T0 and bar.close == 90050.0  # last push
    assert (bar.open, bar.high, bar.low, bar.volume) == (90000.0, 90200.0, 89900.5, 12.34567)
    assert (bar.venue, bar.symbol, bar.source) == ("hyperliquid", "BTC/USDC:USDC", "stream")
    assert hl.parse_message(_candle(T0, "1"), SPEC, closer) == []  # a late frame: ignored
    assert hl.parse_message(_candle(T0 + 300_000, "90070.0"), SPEC, closer) == []
    (nxt,) = hl.parse_message(_candle(T0 + 900_000, "1"), SPEC, closer)  # a skipped bar
    assert nxt.ts_ms == T0 + 300_000 and nxt.close == 90070.0


def test_hl_keepalive_ping_is_answered():
    short = load_sample().take(slice(100, 104))

    async def ping_until_answered(srv):
        conn = await hl.HyperliquidStream(url=srv.ws_url, ping_every_s=0.01).open()
        try:
            frames = []
            # the server answers each {"method": "ping"} with {"channel": "pong"}
            while {"channel": "pong"} not in frames or \
                    sum(f["channel"] == "candle" for f in frames) < 9:
                frames.append(json.loads(await asyncio.wait_for(conn._ws.recv(), 10)))
            return frames
        finally:
            await conn.close()

    with HyperliquidLoopback(short, start=1) as srv:
        frames = asyncio.run(ping_until_answered(srv))
    assert srv.pings >= 1
    assert [f["channel"] for f in frames[:2]] == ["subscriptionResponse"] * 2
    assert sum(f["channel"] == "candle" for f in frames) == 3 * 3  # 3 bars, 3 pushes each


@pytest.fixture(scope="module")
def bars():
    return load_sample().take(slice(0, START + MAX_BARS + 3))


def test_hl_rest_candles_and_current_oi(bars):
    async def fetch(rest, lo, hi):
        async with httpx.AsyncClient(timeout=5.0) as client:
            return (await rest.fetch_ohlcv(client, lo, hi),
                    await rest.fetch_open_interest(client),
                    await rest.fetch_open_interest_history(client, lo, hi))

    with HyperliquidLoopback(bars, start=START) as srv:
        got, (_, oi), (h_ts, h_oi) = asyncio.run(fetch(
            hl.HyperliquidRest(url=srv.rest_url), int(bars.ts_ms[START - 10]),
            int(bars.ts_ms[START])))
    assert srv.info_requests[0] == {"type": "candleSnapshot", "req": {
        "coin": "BTC", "interval": "5m", "startTime": int(bars.ts_ms[START - 10]),
        "endTime": int(bars.ts_ms[START])}}
    # ten closed bars and the open one (partial), as Hyperliquid answers
    np.testing.assert_array_equal([b.ts_ms for b in got], bars.ts_ms[START - 10:START + 1])
    np.testing.assert_allclose([b.close for b in got[:-1]], bars.close[START - 10:START])
    assert got[-1].close != bars.close[START] or got[-1].volume < bars.volume[START]
    assert oi == bars.open_interest[START - 1] and h_ts.size == h_oi.size == 0


def _runner(feeds, bars, start=START, **kw):
    fed = bars.take(slice(start - WARM, start + MAX_BARS))
    return LiveRunner(feeds, LiquidationModel(bin_usd=50.0), warm_bars=WARM, max_bars=MAX_BARS,
                      backoff=FAST, stall_s=5.0, clock_ms=lambda: int(bars.ts_ms[start]),
                      reference_price_usd=float(np.median(fed.close)), **kw)


def _feed(srv, **kw) -> VenueFeed:
    return VenueFeed(hl.HyperliquidStream(url=srv.ws_url, **kw),
                     hl.HyperliquidRest(url=srv.rest_url))


def _batch_equals_runner(runner):
    got = runner.bars("hyperliquid")
    est = LiquidationModel(bin_usd=50.0, venue="hyperliquid").run(bars_from_live(got))
    ups = runner.sink.updates
    assert runner.models["hyperliquid"].model.venue == "hyperliquid"
    for side in ("long", "short"):
        np.testing.assert_allclose([getattr(u, f"predicted_{side}_usd") for u in ups],
                                   getattr(est, f"predicted_{side}_usd")[WARM:],
                                   rtol=1e-9, atol=1e-6)
    assert sum(u.predicted_long_usd + u.predicted_short_usd > 0 for u in ups) >= 3
    return got


def test_hl_stream_bar_by_bar_equals_batch(bars):
    with HyperliquidLoopback(bars, start=START) as srv:
        runner = _runner([_feed(srv)], bars)
        runner.run_sync()
    assert {"type": "activeAssetCtx", "coin": "BTC"} in srv.subscriptions
    got = _batch_equals_runner(runner)
    want = slice(START - WARM, START + MAX_BARS)
    np.testing.assert_array_equal([b.ts_ms for b in got], bars.ts_ms[want])
    live = got[WARM:]
    assert all(b.source == "stream" for b in live) and runner.sink.gaps == []
    # each streamed bar is the candle's last push, with the open interest pushed before it
    np.testing.assert_allclose([b.close for b in live], bars.close[START:START + MAX_BARS])
    np.testing.assert_allclose([b.volume for b in live], bars.volume[START:START + MAX_BARS])
    np.testing.assert_allclose([b.open_interest for b in live],
                               bars.open_interest[START:START + MAX_BARS])
    np.testing.assert_allclose([b.funding_rate for b in live],
                               bars.funding_rate[START:START + MAX_BARS], rtol=1e-12)
    # no OI history: the warm-up holds the current value (the last closed bar's) throughout
    assert {b.open_interest for b in got[:WARM]} == {bars.open_interest[START - 1]}
    assert runner.oi_carried("hyperliquid") == WARM


def test_hl_drop_mid_stream_backfills_every_missed_bar(bars):
    with HyperliquidLoopback(bars, start=START, drop_after=12, refuse=2, skip=5) as srv:
        runner = _runner([_feed(srv)], bars)
        runner.run_sync()
    assert srv.dropped and srv.refused == 2 and srv.connections == 2
    got = _batch_equals_runner(runner)
    np.testing.assert_array_equal([b.ts_ms for b in got],  # none missing, none twice
                                  bars.ts_ms[START - WARM:START + MAX_BARS])
    (gap,) = runner.sink.gaps
    rest_ts = [b.ts_ms for b in got[WARM:] if b.source == "rest"]
    # the candle open at the drop (never closed on the stream) and the five skipped ones
    assert gap.reason == "disconnect" and gap.bars_backfilled == len(rest_ts) == 6
    assert (gap.from_ms, gap.to_ms) == (rest_ts[0], rest_ts[-1])
    assert gap.liquidations_backfilled == 0 and runner.sink.liquidations == []
    i = list(bars.ts_ms).index(rest_ts[0])
    np.testing.assert_allclose([b.close for b in got[WARM:]], bars.close[START:START + MAX_BARS])
    # gap bars carry the last streamed open interest (Hyperliquid has no history)
    assert {b.open_interest for b in got if b.source == "rest" and b.ts_ms >= rest_ts[0]} == {
        bars.open_interest[i - 1]}
    assert runner.oi_carried("hyperliquid") == WARM + len(rest_ts)


def test_liqmap_live_venue_hyperliquid(bars):
    warm, n = 60, 6
    with HyperliquidLoopback(bars, start=START) as srv:
        res = CliRunner().invoke(app, [
            "live", "--venue", "hyperliquid", "--ws-url", srv.ws_url, "--rest-url",
            srv.rest_url, "--warm-bars", str(warm), "--max-bars", str(n), "--bin-usd", "50",
            "--now", str(int(bars.ts_ms[START])), "--json"])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in res.output.splitlines() if x.startswith("{")]
    ts = [x["ts_ms"] for x in lines if x["type"] == "bar" and x["venue"] == "hyperliquid"]
    np.testing.assert_array_equal(ts, bars.ts_ms[START:START + n])
    assert {x["symbol"] for x in lines if x["type"] == "bar"} == {"BTC/USDC:USDC"}
    summary = lines[-1]
    assert summary["venues"] == ["hyperliquid"] and summary["bars"] == {"hyperliquid": warm + n}
    assert summary["liquidations"] == 0 and summary["oi_carried"] == {"hyperliquid": warm}


def test_hl_spec_from_a_ccxt_market():
    from liqmap.venues import spec_from_ccxt_market

    # ccxt's Hyperliquid market: the id is the asset index, the coin is ``baseName``
    spec = spec_from_ccxt_market("hyperliquid", {
        "symbol": "BTC/USDC:USDC", "id": "0", "base": "BTC", "baseName": "BTC",
        "contractSize": 1.0, "inverse": False})
    assert (spec.venue_symbol, spec.rules, spec.to_base(2.5, 90_000.0)) == (
        "BTC", "hyperliquid", 2.5)
