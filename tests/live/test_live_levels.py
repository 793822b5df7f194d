"""``liqmap live --db`` stores the level watch as bars close (loopback Binance)."""

from __future__ import annotations

from typer.testing import CliRunner

from liqmap.cli import app
from liqmap.io.sample import load_sample
from liqmap.store import DuckDBStore
from liqmap.venues.binance import BinanceLoopback

START, WARM, MAX_BARS = 4800, 100, 24


def test_live_db_stores_level_approaches(tmp_path):
    bars = load_sample().take(slice(0, START + MAX_BARS + 10))
    db = tmp_path / "live.duckdb"
    with BinanceLoopback(bars, start=START) as bn:
        res = CliRunner().invoke(app, [
            "live", "--venue", "binance", "--ws-url", bn.ws_url, "--rest-url", bn.rest_url,
            "--warm-bars", str(WARM), "--max-bars", str(MAX_BARS), "--bin-usd", "50",
            "--now", str(int(bars.ts_ms[START])), "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    with DuckDBStore(db, read_only=True) as store:
        got = store.read_level_approaches("binance", "BTC/USDT:USDT")
    assert got, "a 1 % watch over two hours of bars finds an approach"
    first, last = int(bars.ts_ms[START]), int(bars.ts_ms[START + MAX_BARS - 1])
    for a in got:
        assert first <= a.ts_ms <= last and a.horizon_start_ms == a.ts_ms + 300_000
        assert abs(a.distance_pct) <= 1.0
        # resolved only when the hour after it was streamed
        assert (a.outcome == "pending") == (a.horizon_start_ms + a.horizon_ms > last + 300_000)
