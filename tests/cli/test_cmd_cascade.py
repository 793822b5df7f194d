"""``liqmap cascade`` and ``/api/v1/cascade`` give one answer for one map and shock.

Both call ``liqmap.cascade.run`` (impact scaled to the daily volume of the bars the map was
built from); before, the API ran the unscaled preset and the two disagreed.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from liqmap.cascade.run import daily_volume_usd
from liqmap.cli import app
from liqmap.io.sample import load_sample
from liqmap.service import create_app

# The production deadline (2 s) answers 503 while a cold numba compile runs on a slow CI
# machine; these tests check answers, not the deadline (tests/service/test_service_faults.py does).
SLOW_CI_DEADLINE_S = 120.0

runner = CliRunner()


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(deadline_s=SLOW_CI_DEADLINE_S, admin_token="")) as c:
        yield c


def _cli(*args) -> dict:
    r = runner.invoke(app, ["cascade", "--json", *args])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def _same_figures(cli: dict, api: dict) -> None:
    assert api["ts_ms"] == cli["map_ts_ms"]
    run = cli["runs"][0]
    assert api["reference_price_usd"] == run["reference_price_usd"]
    assert api["shock_pct"] == run["shock_pct"]
    assert api["final_move_pct"] == pytest.approx(run["move_pct"], rel=1e-12)
    assert api["peak_move_pct"] == pytest.approx(run["peak_move_pct"], rel=1e-12)
    assert api["amplification"] == pytest.approx(run["amplification"], rel=1e-12)
    for k in ("liquidated_long_usd", "liquidated_short_usd"):
        assert api[k] == pytest.approx(run[k], rel=1e-12)
    assert api["truncated"] is run["truncated"]
    assert [s["price_usd"] for s in api["path"]] == pytest.approx(run["path"]["price_usd"],
                                                                  rel=1e-12)


@pytest.mark.parametrize(("shock", "lookback", "at_ms"), [
    (3.0, "7d", None),
    (-4.0, "3d", 1_766_899_800_000),  # an earlier map: the bars of its own window
])
def test_cli_and_api_give_the_same_cascade(client, shock, lookback, at_ms):
    params = {"shock_pct": shock, "lookback": lookback}
    args = ["--shock", str(shock), "--lookback", lookback]
    if at_ms is not None:
        params["at_ms"] = at_ms
        args += ["--at", str(at_ms)]
    api = client.get("/api/v1/cascade", params=params).json()
    cli = _cli(*args)
    _same_figures(cli, api)
    # the impact both used: the preset's Y on the traded volume of the map's bars
    vol = cli["runs"][0]["params"]["impact_params"]["volume_daily_usd"]
    assert vol == pytest.approx(daily_volume_usd(load_sample().window(
        api["ts_ms"] + 300_000 - {"7d": 7, "3d": 3}[lookback] * 86_400_000,
        api["ts_ms"] + 1)))
    assert abs(api["final_move_pct"]) >= abs(shock)


def test_aggregate_of_one_venue_is_that_venue(client):
    one = client.get("/api/v1/cascade", params={"shock_pct": 2.0, "venue": "binance"}).json()
    agg = client.get("/api/v1/cascade", params={"shock_pct": 2.0, "venue": "aggregate"}).json()
    assert agg["final_move_pct"] == pytest.approx(one["final_move_pct"], rel=1e-12)
