"""ETH and SOL through download, live, the store and the analyses, offline (issue 17).

Loopback venues serve generated ETH bars (``liqmap.scaleout.market``: labelled generated,
not market data); the Binance archive serves the recorded BTCUSDT files republished under
ETHUSDT. Each test checks that the symbol reaches the store and the analyses in its own
units (OKX contracts of 0.1 ETH, Hyperliquid coins) and tier table, not BTC's.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from liqmap.cli import app
from liqmap.core.realized import RealizedLiquidations
from liqmap.scaleout.market import GeneratedSeries
from liqmap.store import DuckDBStore
from liqmap.venues.hyperliquid import HyperliquidLoopback
from liqmap.venues.okx import OkxLoopback
from liqmap.venues.okx.spec import symbol_spec as okx_spec

from .conftest import FIXTURES, UM

runner = CliRunner()
START, WARM, MAX_BARS = 300, 100, 6


def _eth(venue: str, n: int = 400):
    return GeneratedSeries("ETH", venue, 17, n).bars()


def _json_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_live_eth_on_okx_and_hyperliquid_stores_eth_units(tmp_path):
    """ETH streamed from OKX (contracts of 0.1 ETH) and Hyperliquid (coins, the venue's
    meta listing another coin first) lands in the store as ETH open interest in coins."""
    db = tmp_path / "eth.duckdb"
    bars = {v: _eth(v) for v in ("okx", "hyperliquid")}
    assert okx_spec("ETH/USDT:USDT").contract_size == 0.1
    with OkxLoopback(bars["okx"], start=START) as ok, \
            HyperliquidLoopback(bars["hyperliquid"], start=START) as hl:
        res = runner.invoke(app, [
            "live", "--venue", "okx", "--venue", "hyperliquid", "--symbol", "ETH/USDT:USDT",
            "--ws-url", ok.ws_url, "--ws-url", hl.ws_url, "--rest-url", ok.rest_url,
            "--rest-url", hl.rest_url, "--warm-bars", str(WARM), "--max-bars", str(MAX_BARS),
            "--now", str(int(bars["okx"].ts_ms[START])), "--db", str(db), "--json"])
        assert ok.subscriptions and all(a.get("instId", "ETH-USDT-SWAP") == "ETH-USDT-SWAP"
                                        for a in ok.subscriptions)
        assert {s.get("coin") for s in hl.subscriptions} == {"ETH"}
    assert res.exit_code == 0, res.output
    summary = _json_lines(res.output)[-1]
    assert summary["bars"] == {"okx": WARM + MAX_BARS, "hyperliquid": WARM + MAX_BARS}
    with DuckDBStore(db, read_only=True) as store:
        held = {(s.venue, s.symbol) for s in store.series() if s.table == "bars"}
        assert held == {("okx", "ETH/USDT:USDT"), ("hyperliquid", "ETH/USDC:USDC")}
        streamed = slice(START, START + MAX_BARS)
        okx = store.read_bars("okx", "ETH/USDT:USDT")
        np.testing.assert_allclose(okx.open_interest[-MAX_BARS:],
                                   bars["okx"].open_interest[streamed], rtol=1e-6)
        np.testing.assert_allclose(okx.close[-MAX_BARS:], bars["okx"].close[streamed])
        hyper = store.read_bars("hyperliquid", "ETH/USDC:USDC")
        np.testing.assert_allclose(hyper.open_interest[-MAX_BARS:],
                                   bars["hyperliquid"].open_interest[streamed], rtol=1e-6)
        # the backfilled bars take the venue's current context from metaAndAssetCtxs: ETH's
        # own, not the other coin listed first (1.0 when the loopback listed ETH twice)
        lo, hi = np.min(bars["hyperliquid"].open_interest), np.max(bars["hyperliquid"].open_interest)
        assert lo <= hyper.open_interest.min() and hyper.open_interest.max() <= hi

    # the analyses read the ETH series of the store, priced with ETH's tier tables
    for venue, symbol in (("okx", "ETH/USDT:USDT"), ("hyperliquid", "ETH/USDC:USDC")):
        res = runner.invoke(app, ["brief", "--db", str(db), "--venue", venue,
                                  "--symbol", symbol, "--json"])
        assert res.exit_code == 0, res.output
        brief = json.loads(res.stdout)
        assert (brief["venue"], brief["symbol"]) == (venue, symbol)
        assert 1_000 < brief["price_usd"] < 10_000  # ETH's price, not BTC's
    res = runner.invoke(app, ["scan", "--db", str(db), "--symbol", "ETH", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["rows"]
    assert {(r["venue"], r["tiers"]["symbol"]) for r in rows} == {
        ("okx", "ETH-USDT-SWAP"), ("hyperliquid", "ETH")}


def test_live_sol_on_okx_names_the_known_contracts(tmp_path):
    """OKX's SOL-USDT-SWAP ctVal is not recorded: a clear refusal, no BTC contract size."""
    res = runner.invoke(app, ["live", "--venue", "okx", "--symbol", "SOL/USDT:USDT",
                              "--ws-url", "ws://127.0.0.1:9", "--rest-url",
                              "http://127.0.0.1:9", "--max-bars", "1", "--json"])
    assert res.exit_code != 0
    text = res.output + str(res.exception)
    assert "SOL/USDT:USDT" in text and "ETH/USDT:USDT" in text, text


def test_map_of_an_eth_file_uses_eth_tiers(tmp_path):
    """``liqmap map --input FILE --symbol ETH/USDT:USDT``: the ETH table; the default (no
    --symbol) stays BTC/USDT:USDT, as before; a sample of another symbol is refused."""
    import pandas as pd

    b = _eth("okx", 600)
    path = tmp_path / "eth.csv"
    pd.DataFrame({"ts_ms": b.ts_ms, "open": b.open, "high": b.high, "low": b.low,
                  "close": b.close, "open_interest": b.open_interest,
                  "volume": b.volume}).to_csv(path, index=False)
    out = {}
    for extra in ([], ["--symbol", "ETH/USDT:USDT"]):
        res = runner.invoke(app, ["map", "--input", f"{path}@okx", "--json", "--no-plots",
                                  *extra])
        assert res.exit_code == 0, res.output
        out[bool(extra)] = json.loads(res.stdout)
    assert out[True]["symbol"] == "ETH/USDT:USDT"
    assert out[True]["tiers"].startswith("okx ETH-USDT-SWAP tiers")
    assert out[False]["tiers"].startswith("okx BTC-USDT-SWAP tiers")
    res = runner.invoke(app, ["heatmap", "--symbol", "SOL/USDT:USDT", "--json", "--no-plots"])
    assert res.exit_code != 0 and "give the bars of that symbol" in res.output + str(
        res.exception)


@pytest.fixture
def eth_archive(archive_site):
    """The archive site with the recorded BTCUSDT days republished as ETHUSDT."""
    for day in ("2025-12-01", "2025-12-02"):
        for kind, name in (("klines/ETHUSDT/5m", f"ETHUSDT-5m-{day}"),
                           ("metrics/ETHUSDT", f"ETHUSDT-metrics-{day}")):
            src = FIXTURES / f"{name.replace('ETH', 'BTC')}.csv"
            archive_site.publish(f"{UM}/daily/{kind}/{name}.zip",
                                 src.read_bytes().replace(b"BTCUSDT", b"ETHUSDT"))
    return archive_site


def test_download_eth_from_the_binance_archive_into_a_store(eth_archive, tmp_path):
    db = tmp_path / "eth.duckdb"
    res = runner.invoke(app, [
        "download", "--venue", "binance", "--symbol", "ETH/USDT:USDT", "--start", "2025-12-01",
        "--end", "2025-12-02", "--datasets", "klines-5m,metrics", "--out",
        str(tmp_path / "d"), "--base-url", eth_archive.url, "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["stored_bars"] == 48
    assert any("/ETHUSDT/" in p for p in eth_archive.paths())
    assert not any("/BTCUSDT/" in p for p in eth_archive.paths())
    with DuckDBStore(db, read_only=True) as store:
        assert {(s.venue, s.symbol) for s in store.series() if s.table == "bars"} == {
            ("binance", "ETH/USDT:USDT")}
    res = runner.invoke(app, ["brief", "--db", str(db), "--symbol", "ETH/USDT:USDT", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["symbol"] == "ETH/USDT:USDT"
    # the BTC default finds nothing in an ETH store and names what it holds
    res = runner.invoke(app, ["brief", "--db", str(db), "--json"])
    said = res.output + str(res.exception)
    assert res.exit_code != 0 and "binance BTC/USDT:USDT" in said, said
    assert "binance ETH/USDT:USDT" in said, said


def test_backtest_of_a_stored_eth_series(tmp_path):
    """``liqmap backtest --db`` scores the ETH series it is given (bars and realized)."""
    b = _eth("okx", 2016)
    idx = np.sort(np.argsort(b.low - b.high)[:400])  # the widest bars
    side = np.where(np.arange(idx.size) % 2 == 0, 1, -1).astype(np.int8)
    price = np.where(side > 0, b.low[idx], b.high[idx])
    qty = 0.002 * b.volume[idx]
    db = tmp_path / "bt.duckdb"
    with DuckDBStore(db) as store:
        store.write_bars(b)
        store.write_realized(RealizedLiquidations(b.ts_ms[idx], side, price, qty, qty * price,
                                                  venue="okx", symbol="ETH/USDT:USDT",
                                                  source="test: synthetic from bars"))
    res = runner.invoke(app, ["backtest", "--db", str(db), "--venue", "okx", "--symbol",
                              "ETH/USDT:USDT", "--out", str(tmp_path / "out"), "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert (summary["venue"], summary["symbol"]) == ("okx", "ETH/USDT:USDT")
    assert summary["window"] == "okx-ETHUSDT"
