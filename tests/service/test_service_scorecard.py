"""``/api/v1/scorecard`` over a store: the running scorecard, the same as the library's."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from tests.scorecard.test_running import SYM, fill

from liqmap.io.sample import load_sample
from liqmap.scorecard.running import running_scorecard
from liqmap.service import create_app
from liqmap.service.live_source import LiveSource
from liqmap.service.sources import StoreSource
from liqmap.store import DuckDBStore

API = "/api/v1"
SLOW_CI_DEADLINE_S = 120.0


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    st = DuckDBStore(tmp_path_factory.mktemp("api") / "live.duckdb")
    fill(st, bars=load_sample().take(slice(0, 3 * 288)))
    yield st
    st.close()


def _client(source, folder):
    return TestClient(create_app(source, deadline_s=SLOW_CI_DEADLINE_S, scorecard_dir=folder,
                                 warm=False, admin_token=""))


def test_a_store_with_predictions_serves_the_running_scorecard(store, tmp_path):
    c = _client(StoreSource(store), tmp_path)
    d = c.get(f"{API}/scorecard").json()
    want = json.loads(json.dumps(running_scorecard(store)))
    assert d["running"] == want and d["windows"] is None
    since = want["end_ms"] - 6 * 3_600_000
    got = c.get(f"{API}/scorecard", params={"since_ms": since, "venue": "binance",
                                            "symbol": SYM}).json()["running"]
    assert got["spans"]["all"]["n_bars"] == 72 and got["since_ms"] == since
    assert got == json.loads(json.dumps(running_scorecard(store, "binance", SYM,
                                                          since_ms=since)))


def test_missing_predictions_answer_404_with_the_fix(store, tmp_path):
    c = _client(StoreSource(store), tmp_path)
    r = c.get(f"{API}/scorecard", params={"venue": "okx", "symbol": SYM})
    assert r.status_code == 404 and "liqmap live --db" in r.json()["detail"]
    r = c.get(f"{API}/scorecard", params={"since_ms": 4_000_000_000_000})
    assert r.status_code == 404 and "in the span asked" in r.json()["detail"]
    assert c.get(f"{API}/scorecard", params={"venue": "nowhere"}).status_code == 422


def test_a_store_without_predictions_keeps_the_files_answer(tmp_path):
    (tmp_path / "metrics-A.json").write_text(json.dumps({"window": "A"}))
    with DuckDBStore(tmp_path / "ingested.duckdb") as st:
        st.write_bars(load_sample().take(slice(0, 100)))
        d = _client(StoreSource(st), tmp_path).get(f"{API}/scorecard").json()
    assert d["windows"] == {"A": {"window": "A"}} and d["running"] is None


def test_serve_live_with_a_store_serves_its_running_scorecard(store, tmp_path):
    src = LiveSource(name="live:test")
    src.append(_live_bars())  # the catalog needs bars; the scorecard reads the store
    src.store = store
    d = _client(src, tmp_path).get(f"{API}/scorecard").json()
    assert d["running"]["n_predictions"] == running_scorecard(store)["n_predictions"]


def _live_bars():
    from liqmap.venues import live_from_bars

    return live_from_bars(load_sample().take(slice(0, 10)), "rest")
