"""OKX live mode: payload parsing in contracts, and the runner against a loopback OKX."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from liqmap import ConfigError, DataError
from liqmap.cli import app
from liqmap.io.sample import load_sample
from liqmap.live.runner import Backoff, LiveRunner, VenueFeed
from liqmap.model import LiquidationModel
from liqmap.venues import OiTick, bars_from_live, venue_spec
from liqmap.venues.okx import OkxLoopback
from liqmap.venues.okx import live as okx

SPEC = venue_spec("okx", "BTC/USDT:USDT")
FAST = Backoff(initial_s=0.02, factor=2.0, max_s=0.2)
START, LIQ_START, WARM, MAX_BARS = 4800, 7650, 200, 40


def _candle(confirm: str, inst: str = "BTC-USDT-SWAP") -> dict:
    return {"arg": {"channel": "candle5m", "instId": inst}, "data": [[
        "1764547200000", "90000.1", "90200", "89900.5", "90100", "1250", "12.5", "1126250",
        confirm]]}


def _liq(side: str, sz: str, inst: str = "BTC-USDT-SWAP") -> dict:
    return {"arg": {"channel": "liquidation-orders", "instType": "SWAP"}, "data": [{
        "details": [{"bkLoss": "0", "bkPx": "90000", "ccy": "", "posSide": "net", "side": side,
                     "sz": sz, "ts": "1764547201000"}],
        "instFamily": inst[:-5], "instId": inst, "instType": "SWAP", "uly": inst[:-5]}]}


def test_okx_candle_only_when_confirmed_and_in_coins():
    assert okx.parse_message(_candle("0"), SPEC) == []
    (bar,) = okx.parse_message(_candle("1"), SPEC)
    assert (bar.ts_ms, bar.open, bar.high, bar.low, bar.close) == (
        1_764_547_200_000, 90000.1, 90200.0, 89900.5, 90100.0)
    assert bar.volume == pytest.approx(12.5) and bar.venue == "okx"  # 1250 contracts x 0.01
    assert okx.parse_message(_candle("1", "ETH-USDT-SWAP"), SPEC) == []
    with pytest.raises(DataError, match="9"):
        okx.parse_candle(["1764547200000", "1", "2"], SPEC)


def test_okx_liquidation_order_side_and_contracts():
    (long_liq,) = okx.parse_message(_liq("sell", "250"), SPEC)
    (short_liq,) = okx.parse_message(_liq("buy", "3"), SPEC)
    assert (long_liq.side, short_liq.side) == (1, -1)  # a sell order closes a long
    assert long_liq.qty_coin == pytest.approx(2.5) and short_liq.qty_coin == pytest.approx(0.03)
    assert long_liq.notional_usd == pytest.approx(225_000.0) and long_liq.price == 90_000.0
    assert long_liq.ts_ms == 1764547201000 and long_liq.lower_bound
    assert okx.parse_message(_liq("sell", "250", "ETH-USDT-SWAP"), SPEC) == []
    with pytest.raises(DataError, match="neither sell nor buy"):
        okx.parse_message(_liq("close", "1"), SPEC)


def test_okx_open_interest_tick_acks_and_errors():
    (tick,) = okx.parse_message({"arg": {"channel": "open-interest", "instId": "BTC-USDT-SWAP"},
                                 "data": [{"instId": "BTC-USDT-SWAP", "instType": "SWAP",
                                           "oi": "8983217.5", "oiCcy": "89832.175",
                                           "oiUsd": "8064963864.47", "ts": "1764547500000"}]},
                                SPEC)
    assert isinstance(tick, OiTick) and tick.open_interest == pytest.approx(89832.175)
    ack = {"event": "subscribe", "arg": {"channel": "candle5m", "instId": "BTC-USDT-SWAP"},
           "connId": "a"}
    assert okx.parse_message(ack, SPEC) == []
    with pytest.raises(DataError, match="60018"):
        okx.parse_message({"event": "error", "code": "60018", "msg": "doesn't exist"}, SPEC)
    assert [okx.okx_bar(m * 60_000) for m in (1, 5, 60, 240, 360, 1440)] == [
        "1m", "5m", "1H", "4H", "6Hutc", "1Dutc"]
    with pytest.raises(ConfigError, match="linear symbol"):
        okx.OkxStream("BTC/USD:BTC")
    with pytest.raises(ConfigError, match="5m, 1h or 1d"):
        okx.OkxRest("BTC/USDT:USDT", "1m")


@pytest.fixture(scope="module")
def bars():
    return load_sample().take(slice(0, LIQ_START + MAX_BARS + 3))


def _feed(srv, **kw) -> VenueFeed:
    return VenueFeed(okx.OkxStream(url=srv.ws_url, **kw), okx.OkxRest(url=srv.rest_url))


def _runner(feeds, bars, start=START, **kw):
    fed = bars.take(slice(start - WARM, start + MAX_BARS))
    return LiveRunner(feeds, LiquidationModel(bin_usd=50.0), warm_bars=WARM, max_bars=MAX_BARS,
                      backoff=FAST, stall_s=5.0, clock_ms=lambda: int(bars.ts_ms[start]),
                      reference_price_usd=float(np.median(fed.close)), **kw)


def test_okx_drop_mid_stream_backfills_every_missed_bar(bars):
    with OkxLoopback(bars, start=START, drop_after=12, refuse=2, skip=5) as srv:
        runner = _runner([_feed(srv, ping_every_s=0.05)], bars)
        runner.run_sync()
    assert srv.dropped and srv.refused == 2 and srv.connections == 2 and srv.pings >= 1
    assert {"channel": "candle5m", "instId": "BTC-USDT-SWAP"} in srv.subscriptions
    got = runner.bars("okx")
    want = slice(START - WARM, START + MAX_BARS)
    np.testing.assert_array_equal([b.ts_ms for b in got], bars.ts_ms[want])  # none missing/twice
    gaps = runner.sink.gaps
    assert len(gaps) == 1 and gaps[0].reason == "disconnect"
    rest_ts = [b.ts_ms for b in got[WARM:] if b.source == "rest"]
    assert gaps[0].bars_backfilled == len(rest_ts) >= 5
    assert gaps[0].from_ms == rest_ts[0] and gaps[0].to_ms == rest_ts[-1]
    fed = bars_from_live(got)  # contracts on the wire, coins in the model
    np.testing.assert_allclose(fed.open_interest, bars.open_interest[want], rtol=1e-9)
    np.testing.assert_allclose(fed.volume, bars.volume[want], rtol=1e-9)
    est = LiquidationModel(bin_usd=50.0, venue="okx").run(fed)
    ups = runner.sink.updates
    assert runner.models["okx"].model.venue == "okx"
    np.testing.assert_allclose([u.predicted_long_usd for u in ups],
                               est.predicted_long_usd[WARM:], rtol=1e-9, atol=1e-6)
    assert sum(u.predicted_long_usd > 0 for u in ups) >= 5


def test_okx_liquidations_stream_in_coins(bars, okx_details):
    details = okx_details
    with OkxLoopback(bars, start=LIQ_START, liquidations=details) as srv:
        runner = _runner([_feed(srv)], bars, start=LIQ_START)
        runner.run_sync()
    end = int(bars.ts_ms[LIQ_START + MAX_BARS - 1]) + bars.bar_ms
    want = [d for d in details if int(bars.ts_ms[LIQ_START]) <= int(d["ts"]) < end]
    liq = runner.sink.liquidations
    assert len(want) >= 3 and len(liq) == len(want)
    for ev, d in zip(liq, want):
        assert ev.ts_ms == int(d["ts"]) and ev.side == (1 if d["side"] == "sell" else -1)
        assert ev.qty_coin == pytest.approx(float(d["sz"]) * 0.01)
        assert ev.notional_usd == pytest.approx(ev.qty_coin * float(d["bkPx"]))


def test_liqmap_live_venue_okx(bars):
    warm, n = 60, 6
    with OkxLoopback(bars, start=START) as srv:
        res = CliRunner().invoke(app, [
            "live", "--venue", "okx", "--ws-url", srv.ws_url, "--rest-url", srv.rest_url,
            "--warm-bars", str(warm), "--max-bars", str(n), "--bin-usd", "50",
            "--now", str(int(bars.ts_ms[START])), "--json"])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in res.output.splitlines() if x.startswith("{")]
    ts = [x["ts_ms"] for x in lines if x["type"] == "bar" and x["venue"] == "okx"]
    np.testing.assert_array_equal(ts, bars.ts_ms[START:START + n])
    summary = lines[-1]
    assert summary["venues"] == ["okx"] and summary["bars"] == {"okx": warm + n}
