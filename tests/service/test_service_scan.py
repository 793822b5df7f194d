"""``GET /api/v1/scan`` and the per-symbol venues of ``/api/v1/health`` (no browser)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from liqmap.scaleout.market import generated_market
from liqmap.scaleout.scan import SORTS, scan
from liqmap.service.app import create_app
from liqmap.service.scan_routes import SCAN_SORTS
from liqmap.service.schemas import ScanOut
from liqmap.service.sources import StoreSource
from liqmap.store import DuckDBStore

SLOW_CI_DEADLINE_S = 120.0


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Generated BTC and ETH bars on the four venues in a DuckDB store."""
    st = DuckDBStore(tmp_path_factory.mktemp("scan") / "two.duckdb")
    for series in generated_market(2, n_bars=500):
        st.write_bars(series.bars())
    yield st
    st.close()


@pytest.fixture(scope="module")
def client(store):
    with TestClient(create_app(StoreSource(store), deadline_s=SLOW_CI_DEADLINE_S,
                               warm=False)) as c:
        yield c


def test_the_sorts_are_the_scans():
    assert tuple(SORTS) == SCAN_SORTS


def test_health_lists_each_symbols_venues(client):
    h = client.get("/api/v1/health").json()
    assert h["venues_by_symbol"] == {"BTC/USDT:USDT": ["binance", "bybit", "okx"],
                                     "ETH/USDT:USDT": ["binance", "bybit", "okx"],
                                     "BTC/USDC:USDC": ["hyperliquid"],
                                     "ETH/USDC:USDC": ["hyperliquid"]}


def test_scan_of_the_store_equals_the_library(client, store):
    r = client.get("/api/v1/scan", params={"sort": "nearest-cluster"})
    assert r.status_code == 200, r.text
    body = ScanOut.model_validate(r.json())
    assert body.n_series == body.n_rows == 8 and body.scheduler == "serial"
    assert body.venues == ["binance", "bybit", "hyperliquid", "okx"]
    assert sorted(body.symbols) == ["BTC/USDC:USDC", "BTC/USDT:USDT", "ETH/USDC:USDC",
                                    "ETH/USDT:USDT"]
    sources = [(s.venue, s.symbol, store.read_bars(s.venue, s.symbol))
               for s in store.series() if s.table == "bars"]
    want = scan(sources, sort_by="nearest-cluster").to_dict()["rows"]
    got = r.json()["rows"]
    assert [(x["symbol"], x["venue"]) for x in got] == [(x["symbol"], x["venue"]) for x in want]
    assert [x["price_usd"] for x in got] == pytest.approx([x["price_usd"] for x in want])
    eth_okx = next(x for x in got if (x["symbol"], x["venue"]) == ("ETH/USDT:USDT", "okx"))
    assert eth_okx["rules"] == "own tiers" and eth_okx["tiers"]["symbol"] == "ETH-USDT-SWAP"


def test_scan_filters_sorts_and_cuts(client):
    r = client.get("/api/v1/scan", params=[("symbols", "ETH"), ("venues", "okx,hyperliquid"),
                                           ("sort", "symbol"), ("lookback", "24h")])
    assert r.status_code == 200, r.text
    d = r.json()
    assert [(x["symbol"], x["venue"]) for x in d["rows"]] == [("ETH/USDC:USDC", "hyperliquid"),
                                                              ("ETH/USDT:USDT", "okx")]
    assert d["lookback"] == "24h" and d["sort_by"] == "symbol"
    top = client.get("/api/v1/scan", params={"top": 3}).json()
    assert top["n_series"] == 8 and len(top["rows"]) == 3


@pytest.mark.parametrize(("params", "words"), [
    ({"sort": "biggest"}, "unknown sort 'biggest'"),
    ({"venues": "kraken"}, "unknown venue(s) ['kraken']"),
    ({"symbols": "DOGE"}, "this source holds"),
    ({"lookback": "2w"}, "unknown lookback '2w'"),
    ({"top": 0}, "top"),
])
def test_scan_refusals_name_the_fix(client, params, words):
    r = client.get("/api/v1/scan", params=params)
    assert r.status_code == 422, r.text
    assert words in str(r.json()["detail"])


def test_scan_of_the_bundled_sample():
    with TestClient(create_app(deadline_s=SLOW_CI_DEADLINE_S, warm=False)) as c:
        d = c.get("/api/v1/scan").json()
    assert [(x["symbol"], x["venue"], x["rules"]) for x in d["rows"]] == [
        ("BTC/USDT:USDT", "binance", "own tiers")]
    assert d["source"].startswith("bundled:") and not d["generated"]
