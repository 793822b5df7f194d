"""``liqmap.scaleout.scan``: a generated market of 30 symbols x 4 venues gives identical rows
serially, on a real LocalCluster and through its scheduler address; rows carry mapstats'
numbers for the same map; sorting; the tier rules each row names; bad inputs."""

from __future__ import annotations

import json
import math

import pytest

from liqmap._exceptions import ConfigError, InputError
from liqmap.core import mapstats
from liqmap.model import LiquidationModel
from liqmap.scaleout import SORTS, cluster, generated_market, scan, store_sources
from liqmap.scaleout.market import MARKET_VENUES, GeneratedSeries
from liqmap.store import open_store

N_BARS = 240  # small series: the test checks equality, not speed
# one cluster per process: keep this module on one xdist worker under --dist loadgroup
pytestmark = pytest.mark.xdist_group("scaleout_cluster")


@pytest.fixture(scope="module")
def market():
    return generated_market(30, n_bars=N_BARS)


@pytest.fixture(scope="module")
def serial(market):
    return scan(market, sort_by="imbalance")


@pytest.fixture(scope="module")
def client():
    """One LocalCluster for the module, closed at the end even when a test fails."""
    with cluster("local", n_workers=2) as c:
        c.wait_for_workers(2, timeout=60)
        yield c


def _json(rows) -> str:
    return json.dumps(list(rows), allow_nan=False, sort_keys=True)


def test_generated_market_is_deterministic_and_labelled(market):
    assert len(market) == 120 and {s.venue for s in market} == set(MARKET_VENUES)
    a, b = market[5].bars(), GeneratedSeries(market[5].base, market[5].venue, n_bars=N_BARS).bars()
    assert (a.close == b.close).all() and (a.open_interest == b.open_interest).all()
    assert a.source.startswith("generated market") and "not market data" in a.source
    assert market[3].symbol == "BTC/USDC:USDC" and market[12].base == "GEN004"


def test_serial_and_local_cluster_and_address_give_identical_rows(market, serial, client):
    assert serial.n_series == len(serial.rows) == 120 and serial.n_tasks > 1
    on_cluster = scan(market, sort_by="imbalance", scheduler=client)
    by_address = scan(market, sort_by="imbalance", scheduler=client.scheduler.address,
                      batch_size=7)
    assert _json(on_cluster.rows) == _json(serial.rows) == _json(by_address.rows)
    assert by_address.n_tasks == math.ceil(120 / 7)


def test_a_fresh_local_cluster_gives_the_same_rows(market, serial):
    few = [s for s in market if s.base in ("BTC", "GEN010")]
    ref = [r for r in serial.rows if r["symbol"].split("/")[0] in ("BTC", "GEN010")]
    assert _json(scan(few, scheduler="local", n_workers=2).rows) == _json(ref)


@pytest.mark.parametrize("label", ["generated:ETH/USDT:USDT@okx",
                                   "generated:GEN017/USDC:USDC@hyperliquid"])
def test_row_numbers_are_mapstats_of_the_same_map(market, serial, label):
    item = next(s for s in market if s.label == label)
    row = next(r for r in serial.rows if (r["symbol"], r["venue"]) == (item.symbol, item.venue))
    m = LiquidationModel(venue=item.venue, frames=1).run(item.bars()).final_map
    assert row["price_usd"] == m.price_usd and row["ts_ms"] == m.ts_ms
    for pct in (10, 20):
        imb = mapstats.imbalance(m, pct / 100, pct / 100)
        assert row[f"shorts_{pct}pct_usd"] == imb.short_usd
        assert row[f"longs_{pct}pct_usd"] == imb.long_usd
        assert row[f"imbalance_{pct}pct"] == imb.ratio
    for side in ("long", "short"):
        near = min(mapstats.clusters(m, side), key=lambda k: abs(k.distance_pct))
        assert row[f"nearest_{side}_cluster"] == {
            "price_usd": near.price_usd, "notional_usd": near.notional_usd,
            "distance_pct": near.distance_pct}
    ceil, floor = mapstats.squeeze_ceiling(m), mapstats.flush_floor(m)
    assert row["squeeze_ceiling"] == {"price_usd": ceil.price_usd,
                                      "distance_pct": ceil.distance_pct}
    assert row["flush_floor"] == {"price_usd": floor.price_usd, "distance_pct": floor.distance_pct}
    assert row["generated"] is True and row["bars"] == N_BARS


def test_sorting(market, serial):
    logs = [abs(r["log_imbalance_20pct"]) for r in serial.rows]
    assert logs == sorted(logs, reverse=True)
    near = scan(market, sort_by="nearest-cluster").rows
    d = [min(abs(r[f"nearest_{s}_cluster"]["distance_pct"]) for s in ("long", "short"))
         for r in near]
    assert d == sorted(d)
    ceil = scan(market, sort_by="ceiling", top=10)
    c = [r["squeeze_ceiling"]["distance_pct"] for r in ceil.rows]
    assert len(c) == 10 and c == sorted(c) and ceil.n_series == 120
    by_symbol = scan(market[:8], sort_by="symbol").rows
    assert [(r["symbol"], r["venue"]) for r in by_symbol] == sorted(
        (r["symbol"], r["venue"]) for r in by_symbol)
    assert set(SORTS) >= {"imbalance", "nearest-cluster", "ceiling", "floor"}


def test_rows_name_the_tier_table_applied(serial):
    rows = {(r["symbol"], r["venue"]): r for r in serial.rows}
    btc = rows[("BTC/USDT:USDT", "okx")]
    assert btc["rules"] == "own tiers" and btc["tiers"]["symbol"] == "BTC-USDT-SWAP"
    assert btc["own_tiers"] is None
    eth = rows[("ETH/USDT:USDT", "binance")]  # its own table ships: the model applies it
    assert eth["rules"] == "own tiers" and eth["tiers"]["symbol"] == "ETHUSDT"
    assert eth["own_tiers"] is None
    sol = rows[("SOL/USDT:USDT", "bybit")]  # none shipped for Bybit SOL: BTC's, said so
    assert sol["rules"] == "fallback BTC tiers" and sol["tiers"]["symbol"] == "BTCUSDT"
    gen = rows[("GEN004/USDC:USDC", "hyperliquid")]
    assert (gen["rules"], gen["tiers"]["symbol"], gen["own_tiers"]) == ("fallback BTC tiers",
                                                                       "BTC", None)
    own = sum(r["rules"] == "own tiers" for r in serial.rows)
    assert own == 9  # BTC on 4 venues, ETH on 3, SOL on 2 (core.tiers.MISSING: the rest)
    assert serial.notes and f"{120 - own} of 120" in serial.notes[0]


def test_store_series_are_sources(market):
    store = open_store(":memory:")
    for s in market[:4] + market[8:12]:  # BTC and SOL on the four venues
        store.write_bars(s.bars())
    got = store_sources(store, venues=["okx", "bybit"], symbols=["SOL"])
    assert [(v, s) for v, s, _ in got] == [("bybit", "SOL/USDT:USDT"), ("okx", "SOL/USDT:USDT")]
    rows = scan(got, sort_by="symbol").rows
    assert [r["generated"] for r in rows] == [False, False]  # read back as store data


def test_bad_inputs_name_the_fix(market):
    with pytest.raises(InputError, match="holds no bars.*ingest-bars"):
        store_sources(open_store(":memory:"))
    with pytest.raises(ConfigError, match="unknown venue 'kraken'.*binance"):
        scan([("kraken", "BTC/USD", market[0].bars())])
    with pytest.raises(ConfigError, match="unknown sort 'biggest'; use one of: imbalance"):
        scan(market[:2], sort_by="biggest")
    with pytest.raises(InputError, match="nothing to scan"):
        scan([])
    with pytest.raises(ConfigError, match="given twice"):
        scan([market[0], market[0]])
    with pytest.raises(ConfigError, match="1 to 999 symbols"):
        generated_market(0)


def test_store_rows_apply_a_table_fetched_into_the_store_by_their_last_bar(market):
    from dataclasses import replace

    from liqmap.core.tiers import build_tiers, get_tier_table
    from liqmap.timeutil import MS_PER_DAY, utc_date

    store = open_store(":memory:")
    for s in market[8:12]:  # SOL on the four venues
        store.write_bars(s.bars())
    last = max(int(s.bars().ts_ms[-1]) for s in market[8:12])
    tiers = build_tiers(((0, 1e6, 50, 0.01), (1e6, float("inf"), 25, 0.02)))
    by_then = replace(get_tier_table("bybit"), symbol="SOLUSDT", version=utc_date(last),
                      source="fetched", verified=True, tiers=tiers)
    too_late = replace(get_tier_table("okx"), symbol="SOL-USDT-SWAP", source="fetched",
                       version=utc_date(last + 2 * MS_PER_DAY), verified=True)
    store.write_tier_table(by_then, 0)
    store.write_tier_table(too_late, 0)
    rows = {r["venue"]: r for r in scan(store_sources(store), sort_by="symbol").rows}
    bybit, okx = rows["bybit"], rows["okx"]
    assert bybit["rules"] == "own tiers" and bybit["own_tiers"] is None
    assert bybit["tiers"] == {"venue": "bybit", "symbol": "SOLUSDT", "verified": True,
                              "version": by_then.version, "stored": True}
    assert okx["rules"] == "fallback BTC tiers"  # fetched after the map: BTC's, and its own
    assert okx["tiers"]["symbol"] == "BTC-USDT-SWAP" and not okx["tiers"]["stored"]
    assert okx["own_tiers"] == {"venue": "okx", "symbol": "SOL-USDT-SWAP", "verified": True,
                                "version": too_late.version, "stored": True}
    assert not rows["binance"]["tiers"]["stored"]  # the shipped table, as before
