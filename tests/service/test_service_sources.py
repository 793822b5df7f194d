"""Data sources of the service: the DuckDB store through StoreSource, and `liqmap serve`."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from liqmap.core.realized import RealizedLiquidations
from liqmap.io.sample import load_sample
from liqmap.service import BundledSource, StoreSource, create_app

# The production deadline (2 s) answers 503 while a cold numba compile runs on a slow CI
# machine; these tests check answers, not the deadline (tests/service/test_service_faults.py does).
SLOW_CI_DEADLINE_S = 120.0

API = "/api/v1"
FULL = load_sample()
BARS = FULL.take(slice(-900, -300))  # two days, with bars after them for the live test


def _liqs(bars, n=40):
    rng = np.random.default_rng(7)
    i = rng.integers(0, len(bars), n)
    ts = np.sort(bars.ts_ms[i] + 1_000)
    side = np.where(rng.random(n) < 0.5, 1, -1)
    qty = rng.uniform(0.01, 2.0, n)
    px = bars.close[np.searchsorted(bars.ts_ms, ts, side="right") - 1]
    return RealizedLiquidations(ts_ms=ts, side=side, price=px, qty_coin=qty,
                                notional_usd=qty * px, venue=bars.venue, symbol=bars.symbol)


@pytest.fixture()
def store():
    duck = pytest.importorskip("liqmap.store")
    s = duck.DuckDBStore(":memory:")
    s.write_bars(BARS)
    yield s
    s.close()


def test_store_source_serves_bars_and_realized(store):
    liq = _liqs(BARS)
    store.write_realized(liq)
    c = TestClient(create_app(StoreSource(store), deadline_s=SLOW_CI_DEADLINE_S, warm=False, admin_token=""))
    h = c.get(f"{API}/health").json()
    assert h["venues"] == ["binance", "aggregate"]
    assert h["data_to_ms"] == int(BARS.ts_ms[-1])
    end = int(BARS.ts_ms[-1]) + 300_000
    d = c.get(f"{API}/realized", params={"start_ms": int(BARS.ts_ms[0]), "end_ms": end}).json()
    assert d["available"] is True and len(d["events"]) == len(liq)
    assert sum(d["per_bar"]["long_usd"]) == pytest.approx(liq.long_usd)
    assert sum(d["per_bar"]["short_usd"]) == pytest.approx(liq.short_usd)
    hm = c.get(f"{API}/heatmap", params={"lookback": "3d", "resolution": 50}).json()
    assert len(hm["realized"]) == len(liq)
    assert {e["side"] for e in hm["realized"]} == {"long", "short"}


def test_new_rows_change_the_version_and_the_answer(store):
    src = StoreSource(store)
    c = TestClient(create_app(src, deadline_s=SLOW_CI_DEADLINE_S, warm=False, admin_token="",
                              catalog_ttl_s=0.0))
    first = c.get(f"{API}/map", params={"lookback": "12h"}).json()
    more = FULL.take(slice(-300, -288))
    assert len(more) == 12
    store.write_bars(more)
    second = c.get(f"{API}/map", params={"lookback": "12h"}).json()
    assert second["data_version"] != first["data_version"]
    assert second["ts_ms"] == int(more.ts_ms[-1])


def test_store_source_opens_lazily_and_wraps_driver_errors():
    calls = []

    def opener():
        calls.append(1)
        raise OSError("file is locked")

    src = StoreSource(opener=opener, name="duckdb:x")
    from liqmap._exceptions import RetryLaterError

    with pytest.raises(RetryLaterError, match="file is locked"):
        src.catalog()
    with pytest.raises(RetryLaterError):
        src.catalog()
    assert len(calls) == 2  # a failed open is retried on the next call


def test_bundled_source_rejects_other_series():
    from liqmap._exceptions import InputError

    with pytest.raises(InputError, match="bundled sample holds binance"):
        BundledSource().bars("okx", "BTC/USDT:USDT")


def test_serve_command_helpers(tmp_path, monkeypatch):
    from liqmap.cli.cmd_serve import build_source, is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LIQMAP_DB", raising=False)
    assert isinstance(build_source(None, None), BundledSource)
    src = build_source(tmp_path / "x.duckdb", None)
    assert isinstance(src, StoreSource) and src.name.endswith("x.duckdb")


def test_serve_command_is_registered():
    from typer.testing import CliRunner

    from liqmap.cli import app

    out = CliRunner().invoke(app, ["serve", "--help"])
    assert out.exit_code == 0 and "--admin-token" in out.output and "127.0.0.1" in out.output


def test_maps_served_from_a_store_apply_its_fetched_tier_tables():
    """``serve --db``: a Bybit ETH table fetched into the store (``liqmap tiers --refresh``)
    by the map's time prices the map, brief and scan; fetched later, it is not used."""
    from dataclasses import replace

    from liqmap.core.tiers import build_tiers, get_tier_table
    from liqmap.store import DuckDBStore
    from liqmap.timeutil import MS_PER_DAY, utc_date

    eth = replace(BARS, venue="bybit", symbol="ETH/USDT:USDT")
    last = int(eth.ts_ms[-1])
    fetched = replace(get_tier_table("bybit"), symbol="ETHUSDT", version=utc_date(last),
                      source="fetched", verified=True,
                      tiers=build_tiers(((0, 1e6, 50, 0.01), (1e6, float("inf"), 25, 0.02))))
    q = {"venue": "bybit", "symbol": "ETH/USDT:USDT"}

    def answers(table) -> tuple[dict, dict, dict]:
        with DuckDBStore() as st:
            st.write_bars(eth)
            if table is not None:
                st.write_tier_table(table, 0)
            c = TestClient(create_app(StoreSource(st), deadline_s=SLOW_CI_DEADLINE_S,
                                      warm=False, admin_token=""))
            got = [c.get(f"{API}/{what}", params=q | extra)
                   for what, extra in (("brief", {}), ("map", {"lookback": "24h"}),
                                       ("scan", {}))]
        assert all(r.status_code == 200 for r in got), [r.text for r in got]
        return got[0].json(), got[1].json(), got[2].json()["rows"][0]

    brief, m, row = answers(fetched)
    assert brief["tiers"] == f"bybit ETHUSDT tiers fetched {fetched.version} (store)"
    assert row["tiers"]["stored"] and row["rules"] == "own tiers"
    brief0, m0, row0 = answers(None)  # no fetched table: the BTC fallback, as before
    assert brief0["tiers"].startswith("bybit BTCUSDT tiers 2023-01-01, not verified (fallback")
    assert row0["rules"] == "fallback BTC tiers"
    assert m["long_usd"] != m0["long_usd"] and brief["bands"] != brief0["bands"]
    late, m_late, _ = answers(replace(fetched, version=utc_date(last + MS_PER_DAY)))
    assert late["tiers"].endswith(f"or was fetched by {utc_date(last)})")
    assert m_late["long_usd"] == m0["long_usd"]
