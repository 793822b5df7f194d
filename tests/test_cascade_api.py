"""Public cascade API: read-only results, summaries, curve, charts, CLI and the replay."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from liqmap._exceptions import ConfigError
from liqmap.cascade import CascadeResult, CascadeSimulator, CurveResult, default_impact, replay
from liqmap.cascade.run import cascade_for, daily_volume_usd, replay_window, simulator_for
from liqmap.core.cascade_kernels import BINANCE_RULES
from liqmap.core.impact import DepthProfileImpact, Resilience, SqrtImpact
from liqmap.core.records import LiqMap
from liqmap.io.sample import load_sample
from liqmap.model import LiquidationModel

P0 = 100_000.0


def _map(venue="binance", up=3e6, down=1e6, price=P0):
    bins = np.arange(0.7 * price, 1.3 * price + 1, 50.0)
    return LiqMap(0, price, bins, np.where(bins < price, down, 0.0), np.where(bins > price, up, 0.0),
                  venue=venue)


SIM = CascadeSimulator(SqrtImpact(0.8, 0.02, 5e9))


def test_run_returns_read_only_result_with_json_summary():
    res = SIM.run(_map(), 2.0)
    assert isinstance(res, CascadeResult)
    with pytest.raises(ValueError):
        res.price_usd[0] = 1.0
    with pytest.raises(AttributeError):
        res.shock_pct = 5.0
    s = json.loads(json.dumps(res.summary(), allow_nan=False))
    assert s["liquidated_short_usd"] > 0 and s["liquidated_long_usd"] == 0
    assert s["move_pct"] > 2.0 and s["amplification"] > 1.0
    assert len(s["path"]["t_s"]) == s["steps"]
    assert res.cum_forced_usd[-1] == pytest.approx(s["forced_buy_usd"])


def test_per_venue_books_and_rules():
    maps = {"binance": _map(), "hyperliquid": _map("hyperliquid", up=1e6)}
    res = SIM.run(maps, 1.0)
    by = res.summary()["by_venue"]
    assert set(by) == {"binance", "hyperliquid"}
    assert by["binance"]["short_usd"] > by["hyperliquid"]["short_usd"] > 0
    assert res.t_s[-1] >= 120.0  # Hyperliquid slices every 30 s
    with pytest.raises(ConfigError, match="unknown venue"):
        CascadeSimulator(venue_rules="ftx")
    with pytest.raises(ConfigError, match="unknown venue"):
        SIM.run(_map("kraken"), 1.0)


def test_bad_parameters():
    with pytest.raises(ConfigError, match="finite"):
        SIM.run(_map(), float("nan"))
    with pytest.raises(ConfigError, match="exactly one"):
        SIM.run(_map(), 1.0, path_pct=[1.0])
    with pytest.raises(ConfigError):
        CascadeSimulator(DepthProfileImpact(-5.0, 1.0))
    with pytest.raises(ConfigError, match="step_seconds"):
        CascadeSimulator(step_seconds=0)
    with pytest.raises(ConfigError, match="unknown impact"):
        CascadeSimulator("magic")


def test_path_input_and_resilience():
    res = SIM.run(_map(), path_pct=[0.5, 1.0, 1.5, 2.0])
    assert res.shock_pct == 2.0 and res.t_s.size >= 4
    tran = CascadeSimulator(SIM.impact, resilience=Resilience(5.0)).run(_map(), 2.0)
    assert tran.move_pct < SIM.run(_map(), 2.0).move_pct


def test_curve_thresholds_and_asymmetry():
    c = SIM.amplification_curve(_map(up=3e7, down=1e5))
    assert isinstance(c, CurveResult) and c.shocks_pct.size == 121
    assert c.move_pct[c.shocks_pct == 0][0] == 0.0
    assert c.asymmetry > 0.5  # shorts dominate: upside cascades
    assert c.threshold_up_pct is not None and c.threshold_down_pct is None
    a = c.amplification
    assert math.isnan(a[c.shocks_pct == 0][0]) and np.all(a[c.shocks_pct != 0] >= 1 - 1e-9)
    flipped = SIM.amplification_curve(_map(up=1e5, down=3e7))
    assert flipped.asymmetry < -0.5
    json.dumps(c.summary(), allow_nan=False)


def test_default_impact_preset():
    m = default_impact("sqrt")
    assert isinstance(m, SqrtImpact) and 0 < m.y < 5
    assert CascadeSimulator("depth").impact.name == "depth"


def test_plots_write_png_and_html(tmp_path):
    res = SIM.run({"binance": _map(), "hyperliquid": _map("hyperliquid")}, -3.0)
    p = res.plot(tmp_path / "path.png")
    assert p.stat().st_size > 10_000
    assert "<html" in res.plot(tmp_path / "path.html").read_text()[:200].lower()
    c = SIM.amplification_curve(_map(), shocks=np.arange(-5, 5.5, 0.5))
    assert c.plot(tmp_path / "amp.png").stat().st_size > 10_000


def test_replay_compares_with_realized():
    out = replay(SIM, _map(), open_usd=[1e5, 9.8e4], high_usd=[1e5, 9.9e4],
                 low_usd=[9.7e4, 9.6e4], close_usd=[9.8e4, 9.7e4],
                 realized_long_usd=5e7, realized_short_usd=1e6)
    assert out["realized_low_pct"] == pytest.approx(-4.0)
    assert out["crossed"]["liquidated_long_usd"] == pytest.approx(1e6 * np.sum(
        (_map().price_bins_usd >= 9.6e4) & (_map().price_bins_usd < P0)))
    assert out["simulated"]["shock_pct"] == pytest.approx(-3.0)
    assert out["ratio_crossed_long"] > 0


def test_cli_cascade_json():
    from liqmap.cli import app

    r = CliRunner().invoke(app, ["cascade", "--shock", "2", "--direction", "both", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert [x["shock_pct"] for x in out["runs"]] == [2.0, -2.0]
    r = CliRunner().invoke(app, ["cascade", "--impact", "nope"])
    assert r.exit_code != 0


def _arrays(result) -> dict:
    """Every array a result holds or computes (fields and properties)."""
    names = [f.name for f in dataclasses.fields(result)]
    names += [n for n, v in vars(type(result)).items() if isinstance(v, property)]
    return {n: a for n in names if isinstance(a := getattr(result, n), np.ndarray)}


def test_every_result_array_is_read_only():
    res = SIM.run({"binance": _map(), "hyperliquid": _map("hyperliquid")}, 2.0)
    curve = SIM.amplification_curve(_map(), shocks=np.arange(-3, 3.5, 0.5))
    for result, expected in ((res, 8), (curve, 5)):
        arrays = _arrays(result)
        assert len(arrays) == expected
        assert {n: a.flags.writeable for n, a in arrays.items()} == dict.fromkeys(arrays, False)
    # built by hand from writeable arrays: frozen as read-only copies
    t = np.zeros(2)
    hand = CascadeResult(("binance",), P0, 1.0, t, t + P0, *([np.zeros((2, 1))] * 2), t, t, t,
                         False)
    assert not hand.t_s.flags.writeable and hand.t_s is not t
    t[0] = 5.0
    assert hand.t_s[0] == 0.0


def test_simulator_is_a_frozen_estimator():
    sim = CascadeSimulator("sqrt", "binance", step_seconds=2.0)
    assert dataclasses.is_dataclass(sim) and not hasattr(sim, "__dict__")
    assert isinstance(sim.impact, SqrtImpact)  # the name resolved to the preset model
    with pytest.raises(dataclasses.FrozenInstanceError):
        sim.step_seconds = 10.0
    assert [f.name for f in dataclasses.fields(sim)][:5] == [
        "impact", "venue_rules", "step_seconds", "resilience", "max_seconds"]
    slower = dataclasses.replace(sim, step_seconds=10.0)
    assert slower.step_seconds == 10.0 and slower.impact == sim.impact
    with pytest.raises(ConfigError, match="max_seconds"):
        dataclasses.replace(sim, max_seconds=1.0)
    with pytest.raises(TypeError):
        CascadeSimulator("sqrt", "auto", 5.0)  # step_seconds and after are keyword-only
    rules = {"binance": BINANCE_RULES}
    custom = CascadeSimulator(SIM.impact, rules)
    rules["binance"] = "hyperliquid"
    assert custom.venue_rules["binance"] is BINANCE_RULES
    with pytest.raises(TypeError):
        custom.venue_rules["binance"] = "market"
    with pytest.raises(ConfigError, match="venue_rules"):
        CascadeSimulator(venue_rules=3)
    with pytest.raises(ConfigError, match="resilience"):
        CascadeSimulator(resilience=60.0)
    assert custom.run(_map(), 1.0).params["venue_rules"] == "custom"


def test_daily_volume_and_the_scaled_simulator():
    bars = load_sample()
    vol = daily_volume_usd(bars)
    assert vol == pytest.approx(12.4e9, rel=0.01)
    assert daily_volume_usd({"a": bars, "b": bars}) == pytest.approx(2 * vol)
    assert daily_volume_usd(dataclasses.replace(bars, volume=None)) is None
    assert daily_volume_usd([]) is None
    assert simulator_for(bars).impact.volume_daily_usd == vol
    assert simulator_for(None).impact == default_impact("sqrt")
    assert simulator_for(bars, volume_daily_usd=1e9).impact.volume_daily_usd == 1e9
    depth = simulator_for(bars, impact="depth").impact
    assert depth.depth_1pct_usd == pytest.approx(
        default_impact("depth").depth_1pct_usd * vol / default_impact("sqrt").volume_daily_usd)
    assert simulator_for(bars, impact=SIM.impact).impact is SIM.impact  # a model: unscaled
    with pytest.raises(ConfigError, match="unknown impact"):
        simulator_for(bars, impact="magic")


def test_cascade_for_an_estimate_uses_its_bars():
    est = LiquidationModel().run(load_sample(), lookback="24h")
    res = cascade_for(est, None, 2.0)
    same = simulator_for(est.bars).run(est.final_map, 2.0)
    np.testing.assert_array_equal(res.price_usd, same.price_usd)
    assert res.params["impact_params"]["volume_daily_usd"] == daily_volume_usd(est.bars)


def test_replay_window_rejects_no_hours():
    with pytest.raises(ConfigError, match="hours"):
        replay_window(1_770_303_600_000, 0)
