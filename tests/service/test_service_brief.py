"""``/api/v1/brief`` (the same numbers as ``liqmap brief --json``), the vendor convention on
the map and heatmap views, the map's CSV and the heatmap replayed at a time (``at_ms``)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from liqmap.cli import app as cli_app
from liqmap.core import mapstats
from liqmap.io.sample import load_sample
from liqmap.model import LiquidationModel
from liqmap.service import create_app
from liqmap.timeutil import MS_PER_DAY, iso_ms

# The production deadline (2 s) answers 503 while a cold numba compile runs on a slow CI
# machine; these tests check answers, not the deadline (tests/service/test_service_faults.py does).
SLOW_CI_DEADLINE_S = 120.0
API = "/api/v1"


@pytest.fixture(scope="module")
def no_scorecard(tmp_path_factory):
    return tmp_path_factory.mktemp("no-scorecard")


@pytest.fixture(scope="module")
def client(no_scorecard):
    app = create_app(deadline_s=SLOW_CI_DEADLINE_S, scorecard_dir=no_scorecard, warm=False)
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def bars():
    return load_sample()


def _cli_brief(scorecard_dir, *args: str) -> dict:
    res = CliRunner().invoke(cli_app, ["brief", "--json", "--scorecard-dir", str(scorecard_dir),
                                       *args])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


@pytest.mark.parametrize("case", ["latest", "at-lookback", "vendor"])
def test_brief_equals_the_cli(client, bars, no_scorecard, case):
    at = int(bars.ts_ms[-1]) - 6 * MS_PER_DAY + 7 * 60_000  # inside a bar: the bar open counts
    params, args = {"venue": "binance"}, []
    if case == "at-lookback":
        params |= {"at_ms": at, "lookback": "3d"}
        args = ["--at", iso_ms(at), "--lookback", "3d"]
    elif case == "vendor":
        params |= {"convention": "vendor", "at_ms": at}
        args = ["--convention", "vendor", "--at", str(at)]
    r = client.get(f"{API}/brief", params=params)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got.pop("data_version")
    want = _cli_brief(no_scorecard, *args)
    assert got == want
    assert got["convention"]["convention"] == ("vendor" if case == "vendor" else "liqmap")
    if case != "latest":
        assert got["ts_ms"] == int(bars.ts_ms[np.searchsorted(bars.ts_ms, at, "right") - 1])
    assert ":1" in got["text"] and got["caveat"]["measured"] is False


def test_brief_of_the_aggregate_of_one_venue_is_that_venue(client):
    one = client.get(f"{API}/brief", params={"venue": "binance"}).json()
    agg = client.get(f"{API}/brief", params={"venue": "aggregate"}).json()
    assert agg == one


def _two_venue_source(bars):
    """The sample as binance (without its last 100 bars) and as bybit (without its first
    100): the aggregate is taken at binance's last bar, the instant both cover."""
    from liqmap.service.sources import Catalog, DataSource, Series

    series = {"binance": bars.take(slice(0, len(bars) - 100)),
              "bybit": replace(bars.take(slice(100, None)), venue="bybit")}

    class TwoVenues(DataSource):
        def catalog(self):
            return Catalog("two", "v1", tuple(
                Series(v, b.symbol, int(b.ts_ms[0]), int(b.ts_ms[-1]), len(b))
                for v, b in series.items()))

        def bars(self, venue, symbol):
            return series[venue]

    return TwoVenues(), series


def test_brief_of_an_aggregate_sums_the_venues_at_the_common_instant(bars, no_scorecard):
    src, series = _two_venue_source(bars)
    with TestClient(create_app(src, deadline_s=SLOW_CI_DEADLINE_S, scorecard_dir=no_scorecard,
                               warm=False)) as c:
        d = c.get(f"{API}/brief", params={"venue": "aggregate", "lookback": "7d"}).json()
    t = int(series["binance"].ts_ms[-1])
    assert d["venue"] == "aggregate" and d["ts_ms"] == t
    maps = [LiquidationModel(venue=v).run(b, lookback="7d", at_ms=t, warmup="0").final_map
            for v, b in series.items()]
    whole = d["bands"][-1]
    assert whole["shorts_usd"] == pytest.approx(
        sum(mapstats.imbalance(m, 0.5, 0.5).short_usd for m in maps), rel=0.02)
    assert whole["longs_usd"] == pytest.approx(
        sum(mapstats.imbalance(m, 0.5, 0.5).long_usd for m in maps), rel=0.02)


def test_brief_refuses_bad_parameters_with_the_reason(client):
    for params, word in (({"convention": "coinglass"}, "convention"),
                         ({"lookback": "5w"}, "lookback"), ({"at_ms": 5}, "at_ms"),
                         ({"venue": "nowhere"}, "venue")):
        r = client.get(f"{API}/brief", params=params)
        assert r.status_code == 422 and word in r.json()["detail"], (params, r.text)


def test_map_and_heatmap_in_the_vendor_convention(client, bars):
    q = {"venue": "binance", "lookback": "3d"}
    own = client.get(f"{API}/map", params=q).json()
    ven = client.get(f"{API}/map", params=q | {"convention": "vendor"}).json()
    assert own["convention"] == "liqmap" and ven["convention"] == "vendor"
    ref = LiquidationModel(venue="binance", frames=1000, convention="vendor").run(
        bars, lookback="3d").final_map
    assert sum(ven["short_usd"]) == pytest.approx(ref.short_usd.sum(), rel=1e-6)
    assert sum(ven["long_usd"]) == pytest.approx(ref.long_usd.sum(), rel=1e-6)
    assert sum(ven["short_usd"]) != pytest.approx(sum(own["short_usd"]), rel=1e-3)
    hm = client.get(f"{API}/heatmap", params=q | {"convention": "vendor", "resolution": 50})
    assert hm.status_code == 200 and hm.json()["convention"] == "vendor"
    assert client.get(f"{API}/heatmap", params=q | {"resolution": 50}).json()["convention"] \
        == "liqmap"
    assert client.get(f"{API}/map", params=q | {"convention": "x"}).status_code == 422


def test_heatmap_replays_a_time(client, bars):
    at = int(bars.ts_ms[-1]) - 10 * MS_PER_DAY + 90_000
    bar = int(bars.ts_ms[np.searchsorted(bars.ts_ms, at, "right") - 1])
    q = {"venue": "binance", "lookback": "24h", "resolution": 50}
    d = client.get(f"{API}/heatmap", params=q | {"at_ms": at}).json()
    assert d["ts_ms"][-1] == bar and d["price"]["ts_ms"][-1] == bar
    assert d["ts_ms"][0] >= bar - MS_PER_DAY
    assert sum(d["warmup_bars"].values()) > 0 and sum(d["long_usd"][0]) > 0  # standing levels
    m = client.get(f"{API}/map", params={"venue": "binance", "lookback": "24h",
                                         "at_ms": at}).json()
    assert m["ts_ms"] == bar
    assert sum(d["long_usd"][-1]) == pytest.approx(m["summary"]["total_long_usd"], rel=0.01)
    late = client.get(f"{API}/heatmap", params=q | {"at_ms": int(bars.ts_ms[-1]) + 1}).json()
    assert late["ts_ms"][-1] == int(bars.ts_ms[-1])
    assert client.get(f"{API}/heatmap", params=q | {"at_ms": 5}).status_code == 422


def test_map_as_csv(client):
    q = {"venue": "binance", "lookback": "7d"}
    m = client.get(f"{API}/map", params=q).json()
    r = client.get(f"{API}/map", params=q | {"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert ".csv" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [float(x["price_usd"]) for x in rows] == pytest.approx(m["price_bins_usd"])
    assert [float(x["long_usd"]) for x in rows] == pytest.approx(m["long_usd"], abs=0.01)
    assert [float(x["short_usd"]) for x in rows] == pytest.approx(m["short_usd"], abs=0.01)
    assert [float(x["cumulative_short_usd"]) for x in rows] == pytest.approx(
        m["cumulative_short_usd"], abs=0.01)
    lo, hi = (np.array([float(x[k]) for x in rows]) for k in ("short_low_usd", "short_high_usd"))
    assert np.all(lo <= hi + 0.01) and hi.sum() > 0  # the band of the presets
    ven = client.get(f"{API}/map", params=q | {"format": "csv", "convention": "vendor"})
    assert "vendor" in ven.headers["content-disposition"]
    assert list(csv.DictReader(io.StringIO(ven.text)))[0]["short_low_usd"] == ""  # no band
    assert client.get(f"{API}/map", params=q | {"format": "xml"}).status_code == 422
