"""The brief: every number equals the map statistic it comes from; the text says them."""

from __future__ import annotations

import json
import math
from dataclasses import asdict

import numpy as np
import pytest

from liqmap.core import mapstats as ms
from liqmap.core.records import LiqMap
from liqmap.studies.brief import GENERIC_CAVEAT, brief_for, measured_caveat, read_map


def _wall_map() -> LiqMap:
    """Price 100; shorts rising outward at 104, 108, 112 (a staircase); longs at 96, 92."""
    c = np.arange(50.0, 151.0)
    shorts = np.select([c == 104, c == 108, c == 112], [10.0, 20.0, 40.0], 0.0)
    longs = np.select([c == 96, c == 92], [3.0, 2.0], 0.0)
    return LiqMap(1_767_225_600_000, 100.0, c, longs, shorts, venue="binance",
                  symbol="BTC/USDT:USDT")


def test_numbers_are_the_map_statistics():
    m = _wall_map()
    b = read_map(m)
    assert b["price_usd"] == 100.0
    for row in b["bands"][:3]:
        imb = ms.imbalance(m, row["within_pct"] / 100, row["within_pct"] / 100)
        assert row["shorts_usd"] == imb.short_usd and row["longs_usd"] == imb.long_usd
    whole = b["bands"][-1]
    assert whole["within_pct"] is None
    assert whole["shorts_usd"] == 70.0 and whole["longs_usd"] == 5.0 and whole["ratio"] == 14.0
    assert b["squeeze_ceiling_usd"] == ms.squeeze_ceiling(m).price_usd == 112.0
    assert b["flush_floor_usd"] == ms.flush_floor(m).price_usd == 92.0
    assert b["max_pain"]["side"] == "short" and b["max_pain"]["price_usd"] == 112.0
    assert b["harvest_level"] == ms.jsonable(asdict(ms.harvest_level(m)))
    lay = b["layers"]["short"]
    assert [x["price_usd"] for x in lay["layers"]] == [104.0, 108.0, 112.0]
    assert lay["staircase"] is True and lay["staircase_score"] == pytest.approx(1.0)
    assert b["densest_zone"]["short"] == ms.jsonable(asdict(ms.densest_zone(m, "short")))


def test_text_writes_the_ratio_as_n_to_1_and_names_the_levels():
    b = read_map(_wall_map())
    t = b["text"]
    assert "14.0:1 shorts to longs" in t
    assert "staircase, denser as you go higher" in t
    assert "Squeeze ceiling 112" in t and "Flush floor 92" in t
    assert t.endswith(GENERIC_CAVEAT)
    assert b["caveat"] == {"measured": False, "text": GENERIC_CAVEAT}


def test_longs_heavier_gives_the_floor_as_max_pain():
    m = _wall_map()
    m = LiqMap(m.ts_ms, m.price_usd, m.price_bins_usd, m.short_usd[::-1].copy(),
               m.long_usd[::-1].copy(), venue=m.venue, symbol=m.symbol)
    b = read_map(m)
    assert b["max_pain"]["side"] == "long"
    assert b["max_pain"]["price_usd"] == b["flush_floor_usd"] == 88.0
    assert "14.0:1 longs to shorts" in b["text"]


def test_measured_caveat_from_a_level_test_file(tmp_path):
    cl = {"effects": [{"name": "cluster_hit_rate", "effect": 0.04, "ci_low": -0.05,
                       "ci_high": 0.12, "n": 115, "mean_event": 0.31, "mean_control": 0.27}],
          "size_ratio": {"median": 0.15}}
    body = {"window": "A", "claims": {"walls": {"scoring": {"24": {"cluster": cl}}}}}
    (tmp_path / "metrics-levels-A.json").write_text(json.dumps(body))
    cav = measured_caveat(tmp_path, venue="binance", symbol="BTC/USDT:USDT")
    assert cav is not None and cav["measured"] and cav["n"] == 115
    assert "31%" in cav["text"] and "27%" in cav["text"] and "15%" in cav["text"]
    b = read_map(_wall_map(), caveat=cav)
    assert b["text"].endswith(cav["text"])
    assert measured_caveat(tmp_path / "none") is None
    # window A measured Binance BTC: an ETH map gets no borrowed figure
    assert measured_caveat(tmp_path, venue="binance", symbol="ETH/USDT:USDT") is None


def test_a_damaged_level_test_file_is_named_not_a_traceback(tmp_path):
    from liqmap._exceptions import DataError

    (tmp_path / "metrics-levels-A.json").write_text("{not json")
    with pytest.raises(DataError, match="metrics-levels-A.json.*re-run"):
        measured_caveat(tmp_path, venue="binance", symbol="BTC/USDT:USDT")
    body = {"window": "A", "claims": {"walls": {"scoring": {"24": {"cluster": {
        "effects": [{"name": "cluster_hit_rate"}]}}}}}}
    (tmp_path / "metrics-levels-A.json").write_text(json.dumps(body))
    with pytest.raises(DataError, match="incomplete"):
        measured_caveat(tmp_path, venue="binance", symbol="BTC/USDT:USDT")


def test_cli_refuses_a_symbol_the_sample_is_not(capsys):
    from liqmap.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["brief", "--symbol", "ETH/USDT:USDT"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--symbol ETH/USDT:USDT" in err and "--input" in err and "Traceback" not in err


def test_brief_for_runs_the_default_map_on_the_sample(tmp_path):
    from liqmap.io.sample import load_sample
    from liqmap.model import LiquidationModel

    bars = load_sample()
    out = brief_for(bars, lookback="7d", scorecard_dir=tmp_path)
    est = LiquidationModel().run(bars, lookback="7d", warmup="0")  # opened within 7 days
    assert out["price_usd"] == est.final_map.price_usd
    assert out["squeeze_ceiling_usd"] == ms.squeeze_ceiling(est.final_map).price_usd
    assert out["model"] == LiquidationModel().to_dict()
    for key in ("bands", "layers", "densest_zone", "squeeze_ceiling_usd", "flush_floor_usd",
                "max_pain", "watch_levels", "text"):
        assert key in out
    assert math.isfinite(out["bands"][1]["ratio"])


def test_cli_json_equals_the_library(tmp_path):
    from typer.testing import CliRunner

    from liqmap.cli import app
    from liqmap.io.sample import load_sample

    r = CliRunner().invoke(app, ["brief", "--json", "--lookback", "3d", "--scorecard-dir",
                                 str(tmp_path)])
    assert r.exit_code == 0, r.output
    cli = json.loads(r.stdout)
    lib = brief_for(load_sample(), lookback="3d", scorecard_dir=tmp_path)
    assert cli == json.loads(json.dumps(lib))
    r = CliRunner().invoke(app, ["brief", "--lookback", "3d", "--scorecard-dir",
                                 str(tmp_path)])
    assert r.exit_code == 0 and r.stdout.strip() == lib["text"]
