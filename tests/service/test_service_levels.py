"""``GET /api/v1/levels/approaches``: the stored level watch, 404 for a source not a store."""

from __future__ import annotations

from fastapi.testclient import TestClient

from liqmap.io.sample import load_sample
from liqmap.service import BundledSource, StoreSource, create_app
from liqmap.store import DuckDBStore, LevelApproach
from liqmap.watch.approaches import summarize_approaches

API = "/api/v1"
BARS = load_sample().take(slice(0, 300))
T0 = int(BARS.ts_ms[100])


def _approach(i: int, side: str, outcome: str) -> LevelApproach:
    ts = T0 + 300_000 * 10 * i
    return LevelApproach(venue="binance", symbol="BTC/USDT:USDT", ts_ms=ts, side=side,
                         cluster_price_usd=85_000.0 + i, notional_usd=1e7 * (i + 1),
                         price_usd=85_400.0, distance_pct=-0.47, horizon_start_ms=ts + 300_000,
                         horizon_ms=3_600_000, outcome=outcome,
                         crossed_ts_ms=ts + 600_000 if outcome == "through" else None,
                         max_beyond_pct=0.4 if outcome == "through" else 0.0, move_pct=-0.3,
                         realized_long_usd=1e6 * i, realized_short_usd=0.0, map_ts_ms=ts)


ITEMS = [_approach(0, "long", "through"), _approach(1, "long", "rejected"),
         _approach(2, "short", "rejected"), _approach(3, "long", "pending")]


def _client(source):
    return TestClient(create_app(source, deadline_s=120.0, warm=False, admin_token=""))


def test_store_source_lists_the_stored_approaches_and_summary():
    st = DuckDBStore()
    st.write_bars(BARS)
    st.write_level_approaches(ITEMS)
    c = _client(StoreSource(st))
    d = c.get(f"{API}/levels/approaches").json()
    assert d["approaches"] == [a.to_dict() for a in ITEMS]
    assert d["summary"] == summarize_approaches(ITEMS) and not d["approaches_truncated"]
    assert d["summary"]["long"]["through_share"] == 0.5
    d = c.get(f"{API}/levels/approaches", params={"since_ms": ITEMS[2].ts_ms, "limit": 1,
                                                  "venue": "aggregate"}).json()
    assert [a["ts_ms"] for a in d["approaches"]] == [ITEMS[3].ts_ms]
    assert d["approaches_truncated"] and d["summary"]["short"]["approaches"] == 1
    assert c.get(f"{API}/levels/approaches", params={"venue": "okx"}).json()["approaches"] == []
    r = c.get(f"{API}/levels/approaches", params={"venue": "nowhere"})
    assert r.status_code == 422 and "unknown venue" in r.json()["detail"]
    spec = c.get("/openapi.json").json()
    assert f"{API}/levels/approaches" in spec["paths"]


def test_not_a_store_is_404():
    r = _client(BundledSource()).get(f"{API}/levels/approaches")
    assert r.status_code == 404 and "liqmap serve --db" in r.json()["detail"]
