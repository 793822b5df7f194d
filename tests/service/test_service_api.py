"""The JSON API on the bundled sample: every endpoint's shape, validation, admin, docs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

from liqmap.core import mapstats
from liqmap.io.sample import load_sample
from liqmap.model import LiquidationModel
from liqmap.service import create_app
from liqmap.service.views import LOOKBACKS_MS

# The production deadline (2 s) answers 503 while a cold numba compile runs on a slow CI
# machine; these tests check answers, not the deadline (tests/service/test_service_faults.py does).
SLOW_CI_DEADLINE_S = 120.0

API = "/api/v1"


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(deadline_s=SLOW_CI_DEADLINE_S, admin_token="")) as c:
        yield c


@pytest.fixture(scope="module")
def bars():
    return load_sample()


def test_health_lists_what_is_served(client, bars):
    h = client.get(f"{API}/health").json()
    assert h["status"] == "ok" and h["source"].startswith("bundled:")
    assert h["venues"] == ["binance", "aggregate"]
    assert h["symbols"] == ["BTC/USDT:USDT"]
    assert (h["data_from_ms"], h["data_to_ms"]) == (int(bars.ts_ms[0]), int(bars.ts_ms[-1]))
    assert h["lookbacks"] == list(LOOKBACKS_MS) and "14d" in h["lookbacks"]


def test_heatmap_shape_and_totals(client):
    r = client.get(f"{API}/heatmap", params={"lookback": "7d", "resolution": 120})
    assert r.status_code == 200
    d = r.json()
    t, b = len(d["ts_ms"]), len(d["price_bins_usd"])
    assert 2 <= t <= 120 and 2 <= b <= 200
    assert np.all(np.diff(d["ts_ms"]) > 0) and np.all(np.diff(d["price_bins_usd"]) > 0)
    assert np.asarray(d["long_usd"]).shape == (t, b) == np.asarray(d["short_usd"]).shape
    assert len(d["price"]["ts_ms"]) == len(d["price"]["close_usd"]) == 7 * 288
    assert d["lookback_clamped"] is False and d["realized"] == []
    # the last frame is the final book: same totals as the map (up to the trimmed tails)
    m = client.get(f"{API}/map", params={"lookback": "7d"}).json()
    last_long = sum(d["long_usd"][-1])
    assert last_long == pytest.approx(m["summary"]["total_long_usd"], rel=0.01)


def test_heatmap_lookback_clamped_when_data_are_shorter(client):
    d = client.get(f"{API}/heatmap", params={"lookback": "1y", "resolution": 50}).json()
    assert d["lookback_clamped"] is True and len(d["ts_ms"]) <= 50


def test_map_matches_the_model(client, bars):
    d = client.get(f"{API}/map", params={"venue": "binance", "lookback": "3d"}).json()
    ref = LiquidationModel(venue="binance", frames=1000).run(bars, lookback="3d").final_map
    assert d["ts_ms"] == int(bars.ts_ms[-1]) and d["price_usd"] == pytest.approx(ref.price_usd)
    assert sum(d["long_usd"]) == pytest.approx(ref.long_usd.sum(), rel=1e-6)
    assert sum(d["short_usd"]) == pytest.approx(ref.short_usd.sum(), rel=1e-6)
    n = len(d["price_bins_usd"])
    assert all(len(d[k]) == n for k in ("long_usd", "short_usd", "cumulative_long_usd",
                                        "cumulative_short_usd"))
    want = json.loads(json.dumps(mapstats.summary(ref)))
    for key in ("max_pain", "harvest_level", "squeeze_ceiling", "flush_floor"):
        assert d["summary"][key] == want[key], key
    assert d["summary"]["max_pain"] == d["summary"]["harvest_level"]


def test_map_at_an_earlier_time(client, bars):
    at = int(bars.ts_ms[4000]) + 60_000
    d = client.get(f"{API}/map", params={"lookback": "24h", "at_ms": at}).json()
    assert d["ts_ms"] == int(bars.ts_ms[4000])
    assert d["price_usd"] == pytest.approx(float(bars.close[4000]))


def test_imbalance_agrees_with_the_map_summary(client):
    m = client.get(f"{API}/map").json()
    d = client.get(f"{API}/imbalance", params={"band_pct": 10}).json()
    ref = m["summary"]["imbalance"]["10pct"]
    assert d["short_usd"] == pytest.approx(ref["short_usd"])
    assert d["long_usd"] == pytest.approx(ref["long_usd"])
    p = d["price_usd"]
    usd = client.get(f"{API}/imbalance", params={"lo_usd": 0.9 * p, "hi_usd": 1.1 * p}).json()
    assert usd["short_usd"] == pytest.approx(ref["short_usd"])
    assert usd["short_to_usd"] == pytest.approx(1.1 * p)


def test_clusters_and_max_pain(client):
    c = client.get(f"{API}/clusters", params={"top": 3}).json()
    assert 1 <= len(c["clusters"]) <= 3
    assert all(k["side"] in ("long", "short") and k["from_usd"] <= k["price_usd"] <= k["to_usd"]
               for k in c["clusters"])
    longs = client.get(f"{API}/clusters", params={"side": "long", "top": 2}).json()["clusters"]
    assert longs and all(k["side"] == "long" and k["price_usd"] < c["price_usd"] for k in longs)
    body = client.get(f"{API}/max-pain").json()
    mp = body["max_pain"]
    assert mp["side"] in ("long", "short") and 0.5 <= abs(mp["distance_pct"]) <= 15
    assert body["harvest_level"] == mp  # max_pain: the deprecated name, kept by the contract
    up, down = body["squeeze_ceiling"], body["flush_floor"]
    assert up["price_usd"] >= body["price_usd"] >= down["price_usd"]
    assert up["shorts_liquidated_usd"] >= 0.9 * up["shorts_total_usd"] * (1 - 1e-9)
    assert down["longs_liquidated_usd"] >= 0.9 * down["longs_total_usd"] * (1 - 1e-9)


@pytest.mark.parametrize("shock", [-5.0, 3.0])
def test_cascade_moves_at_least_the_shock(client, shock):
    d = client.get(f"{API}/cascade", params={"shock_pct": shock}).json()
    assert d["shock_pct"] == shock
    assert abs(d["final_move_pct"]) >= abs(shock) - 1e-9
    assert np.sign(d["final_move_pct"]) == np.sign(shock)
    last = d["path"][-1]
    assert last["move_pct"] == pytest.approx(d["final_move_pct"])
    total = d["liquidated_long_usd"] + d["liquidated_short_usd"]
    assert sum(s["liquidated_usd"] for s in d["path"]) == pytest.approx(total)
    assert (d["liquidated_long_usd"] > 0) == (shock < 0)


def test_realized_is_empty_on_the_bundled_sample(client, bars):
    d = client.get(f"{API}/realized").json()
    assert d["available"] is False and d["events"] == []
    assert d["end_ms"] - d["start_ms"] == 86_400_000
    assert len(d["per_bar"]["ts_ms"]) == len(d["per_bar"]["long_usd"]) == 288


def test_market_state(client, bars):
    d = client.get(f"{API}/market-state", params={"lookback": "30d"}).json()
    win = bars.last(LOOKBACKS_MS["30d"])
    oi = win.open_interest
    assert d["oi_change_pct"] == pytest.approx(100 * (oi[-1] / oi[0] - 1))
    assert d["max_oi_drawdown_pct"] >= 0
    assert d["funding_now"] == pytest.approx(float(win.funding_rate[-1]))
    assert len(d["imbalance_trend"]) >= 2 and d["sentences"]


def test_static_dashboard_and_vendored_plotly(client):
    assert client.get("/").status_code == 200
    js = client.get("/static/vendor/plotly.min.js")
    assert js.status_code == 200 and b"plotly" in js.content[:200].lower()


def test_openapi_documents_every_endpoint(client):
    spec = client.get("/openapi.json").json()
    for path in ("health", "heatmap", "map", "imbalance", "clusters", "max-pain", "cascade",
                 "realized", "market-state", "scorecard", "stream", "admin/refresh"):
        assert f"{API}/{path}" in spec["paths"], path
    ok = spec["paths"][f"{API}/heatmap"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]["$ref"].endswith("/HeatmapOut")
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize("url, words", [
    ("heatmap?venue=okx", ["unknown venue", "binance", "aggregate"]),
    ("heatmap?symbol=ETH/USDT:USDT", ["unknown symbol", "BTC/USDT:USDT"]),
    ("heatmap?lookback=2y", ["unknown lookback", "14d"]),
    ("map?lookback=5m", ["unknown lookback"]),
    ("heatmap?resolution=10", ["resolution"]),
    ("heatmap?resolution=5000", ["resolution"]),
    ("cascade?shock_pct=75", ["shock_pct"]),
    ("imbalance?lo_usd=95000&hi_usd=85000", ["reversed band"]),
    ("imbalance?lo_usd=90000", ["lo_usd and hi_usd"]),
    ("imbalance?lo_usd=1000&hi_usd=2000", ["must contain the price"]),
    ("map?at_ms=1000", ["outside the data"]),
    ("map?at_ms=99999999999999", ["outside the data"]),
    ("clusters?top=0", ["top"]),
    ("realized?start_ms=2000&end_ms=1000", ["start_ms"]),
    ("stream?venue=nope", ["unknown venue"]),
])
def test_bad_parameters_answer_422_with_a_message(client, url, words):
    r = client.get(f"{API}/{url}")
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and all(w in detail for w in words), detail


def test_scorecard_served_from_its_folder(tmp_path):
    body = {"window": "A", "verdict": {"long": "x"}}
    (tmp_path / "metrics-A.json").write_text(json.dumps(body))
    c = TestClient(create_app(deadline_s=SLOW_CI_DEADLINE_S, scorecard_dir=tmp_path, warm=False,
                              admin_token=""))
    d = c.get(f"{API}/scorecard").json()
    assert d["windows"] == {"A": body}
    empty = TestClient(create_app(deadline_s=SLOW_CI_DEADLINE_S, scorecard_dir=tmp_path / "none",
                                  warm=False, admin_token=""))
    r = empty.get(f"{API}/scorecard")
    assert r.status_code == 404 and "make scorecard" in r.json()["detail"]


def test_admin_refresh_needs_the_operators_token(monkeypatch):
    monkeypatch.delenv("LIQMAP_ADMIN_TOKEN", raising=False)
    off = TestClient(create_app(deadline_s=SLOW_CI_DEADLINE_S, warm=False))
    r = off.post(f"{API}/admin/refresh", headers={"Authorization": "Bearer x"})
    assert r.status_code == 403 and "LIQMAP_ADMIN_TOKEN" in r.json()["detail"]
    monkeypatch.setenv("LIQMAP_ADMIN_TOKEN", "s3cret")
    on = TestClient(create_app(deadline_s=SLOW_CI_DEADLINE_S, warm=False))
    assert on.post(f"{API}/admin/refresh").status_code == 403
    bad = on.post(f"{API}/admin/refresh", headers={"Authorization": "Bearer wrong"})
    assert bad.status_code == 403 and "Bearer" in bad.json()["detail"]
    good = on.post(f"{API}/admin/refresh", headers={"Authorization": "Bearer s3cret"})
    assert good.status_code == 200 and good.json()["status"] == "refreshed"


def test_read_only_no_writing_route_but_admin(client):
    writers = [(r.path, sorted(r.methods)) for r in client.app.routes
               if getattr(r, "methods", None) and set(r.methods) - {"GET", "HEAD"}]
    assert writers == [(f"{API}/admin/refresh", ["POST"])]
