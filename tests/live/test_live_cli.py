"""``liqmap live`` end to end against loopback Binance and Bybit servers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from liqmap.cli import app
from liqmap.io.sample import load_sample
from liqmap.venues.binance import BinanceLoopback
from liqmap.venues.bybit import BybitLoopback

START, WARM, MAX_BARS = 4800, 100, 12


@pytest.fixture(scope="module")
def bars():
    return load_sample().take(slice(0, START + MAX_BARS + 10))


def _lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_live_two_venues_with_a_drop_into_a_store(bars, tmp_path):
    db = tmp_path / "live.duckdb"
    with BinanceLoopback(bars, start=START, drop_after=4, skip=3) as bn, \
            BybitLoopback(bars, start=START) as by:
        res = CliRunner().invoke(app, [
            "live", "--venue", "binance", "--venue", "bybit", "--ws-url", bn.ws_url,
            "--ws-url", by.ws_url, "--rest-url", bn.rest_url, "--rest-url", by.rest_url,
            "--warm-bars", str(WARM), "--max-bars", str(MAX_BARS), "--bin-usd", "50",
            "--now", str(int(bars.ts_ms[START])), "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    lines = _lines(res.output)
    bar_lines = [x for x in lines if x["type"] == "bar"]
    for venue in ("binance", "bybit"):
        ts = [x["ts_ms"] for x in bar_lines if x["venue"] == venue]
        np.testing.assert_array_equal(ts, bars.ts_ms[START:START + MAX_BARS])
    gaps = [x for x in lines if x["type"] == "gap"]
    assert [g["venue"] for g in gaps] == ["binance"] and gaps[0]["bars_backfilled"] >= 3
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["venues"] == ["binance", "bybit"]
    assert summary["bars"] == {"binance": WARM + MAX_BARS, "bybit": WARM + MAX_BARS}
    assert summary["aggregate"]["long_usd"] > 0 and summary["aggregate"]["short_usd"] > 0

    from liqmap.store import DuckDBStore

    with DuckDBStore(db, read_only=True) as store:
        for venue in ("binance", "bybit"):
            stored = store.read_bars(venue, "BTC/USDT:USDT")
            np.testing.assert_array_equal(stored.ts_ms,
                                          bars.ts_ms[START - WARM:START + MAX_BARS])
            np.testing.assert_allclose(stored.close, bars.close[START - WARM:START + MAX_BARS])
            snaps = store.read_snapshots(venue, "BTC/USDT:USDT")
            assert snaps and snaps[-1].ts_ms == int(bars.ts_ms[START + MAX_BARS - 1])
        assert store.list_runs("live")[0]["summary"]["gaps"] == 1


def test_live_rejects_mismatched_urls(bars):
    res = CliRunner().invoke(app, ["live", "--venue", "binance", "--venue", "bybit",
                                   "--ws-url", "ws://127.0.0.1:9", "--max-bars", "1"])
    assert res.exit_code != 0
    assert "one --ws-url per --venue" in str(res.exception) + res.output
