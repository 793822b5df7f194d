"""Level reaction / magnet study: planted magnet detected, random walk covers 0, files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from liqmap import ConfigError
from liqmap.cli import main
from liqmap.studies.level_study import magnet_study, reaction_study
from liqmap.studies.reaction import (
    ReactionParams,
    block_bootstrap_ci,
    first_touch,
    reaction_metrics,
    touch_events,
)

P = ReactionParams(n_boot=1000)
HZ = P.horizon


def _ohlc(close, rng, wick=0.0005):
    prev = np.r_[close[0], close[:-1]]
    hi = np.maximum(prev, close) * (1 + wick * rng.random(close.size))
    lo = np.minimum(prev, close) * (1 - wick * rng.random(close.size))
    return hi, lo


def _magnet_path(seed: int, pull: float, blocks: int = 300):
    """Random walk; at each decision a level 2 % away on a random side, and ``pull`` (total
    log drift over the horizon) towards it."""
    rng = np.random.default_rng(seed)
    n = HZ * blocks + 1
    steps = rng.normal(0, 0.003, n)
    dec = np.arange(0, n - HZ, HZ)
    side = rng.choice([-1.0, 1.0], dec.size)
    for t, s in zip(dec, side):
        steps[t + 1: t + 1 + HZ] += s * pull / HZ
    close = 100.0 * np.exp(np.cumsum(steps))
    hi, lo = _ohlc(close, rng)
    return hi, lo, close, dec, close[dec] * (1 + 0.02 * side)


def _by_name(res):
    return {e.name: e for e in res["effects"]}


def test_planted_magnet_is_detected():
    hi, lo, c, dec, lv = _magnet_path(1, pull=0.02)
    eff = _by_name(magnet_study(hi, lo, c, dec, lv, P))
    for name in ("magnet_mirror", "magnet_same_side"):
        e = eff[name]
        assert e.n == len(dec) - 1 or e.n == len(dec)
        assert e.ci_low > 0, name
        assert e.mean_event > e.mean_control


def test_random_walk_magnet_ci_covers_zero():
    hi, lo, c, dec, lv = _magnet_path(2, pull=0.0)
    eff = _by_name(magnet_study(hi, lo, c, dec, lv, P))
    for e in eff.values():
        assert e.ci_low <= 0 <= e.ci_high, e
        assert e.n >= 290


def test_random_walk_reaction_ci_covers_zero():
    rng = np.random.default_rng(3)
    n = 7200
    c = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.003, n)))
    hi, lo = _ohlc(c, rng)
    dec = np.arange(8, n - HZ - P.k - 1, HZ)
    # at each decision three random levels 0.5-3 % away, either side
    sets = [c[s] * (1 + rng.choice([-1, 1], 3) * rng.uniform(0.005, 0.03, 3)) for s in dec]
    res = reaction_study(hi, lo, c, dec, sets, [rng.random(3) for _ in dec], P)
    eff = _by_name(res)
    assert eff["speed"].n >= 150
    for name in ("speed", "range", "rejection", "speed_after"):
        assert eff[name].ci_low <= 0 <= eff[name].ci_high, eff[name]
    assert min(res["events"]["n_controls"]) > 0


def test_touch_and_metrics_by_hand():
    p = ReactionParams(k=2, touch_pct=0.2, reject_pct=1.0, horizon=4)
    c = np.array([99.8, 100.1, 100.0, 100.5, 100.4, 101.2, 101.5, 101.6, 101.7, 101.8])
    hi, lo = c + 0.05, c - 0.05
    lo[4] = 99.8                                  # bar 4 dips within 0.2 % of 99.7
    t, level = first_touch(hi, lo, c, 3, [99.7, 99.0, 100.45], [1.0, 9.0, 5.0], p)
    # 100.45 is within 0.2 % of close[3] = 100.5 (ignored); 99.0 is never reached
    assert (t, level) == (4, 99.7)
    assert first_touch(hi, lo, c, 3, [99.0], [1.0], p) == (-1, pytest.approx(np.nan,
                                                                                nan_ok=True))
    ss, ts, lv = touch_events(hi, lo, c, [3, 5], [[99.7], [90.0]], [[1.0], [1.0]], p)
    assert ss.tolist() == [3] and ts.tolist() == [4] and lv.tolist() == [99.7]
    speed, rng_ratio, rejected, after_bp = reaction_metrics(hi, lo, c, 4, 99.7, p)
    lr = np.abs(np.diff(np.log(c)))
    assert speed == pytest.approx(lr[4:6].mean() / lr[1:3].mean())
    pre_range, post_range = hi[2:4].max() - lo[2:4].min(), hi[5:7].max() - lo[5:7].min()
    assert rng_ratio == pytest.approx(post_range / pre_range)
    assert rejected == 1.0  # high of bar 5 = 101.25 >= 99.7 * 1.01 before any crossing
    assert after_bp == pytest.approx(lr[4:6].mean() * 1e4)
    lo[5] = 98.0                                  # now bar 5 crosses through first
    assert reaction_metrics(hi, lo, c, 4, 99.7, p)[2] == 0.0


def test_bootstrap_ci_and_params():
    lo, hi = block_bootstrap_ci(np.r_[np.ones(50), np.zeros(50)], 500, 5, 0)
    assert lo < 0.5 < hi
    assert block_bootstrap_ci(np.full(40, 2.0), 200, 5, 0) == (2.0, 2.0)
    with pytest.raises(ConfigError):
        ReactionParams(touch_pct=2.0, reject_pct=1.0)


def test_cli_study_levels_writes_files(tmp_path, capsys):
    from liqmap.io.sample import load_sample

    b = load_sample().take(slice(0, 3000))
    path = tmp_path / "bars.csv"
    pd.DataFrame({"ts_ms": b.ts_ms, "open": b.open, "high": b.high, "low": b.low,
                  "close": b.close, "volume": b.volume, "open_interest": b.open_interest}
                 ).to_csv(path, index=False)
    with pytest.raises(SystemExit) as exc:
        main(["study-levels", "--input", str(path), "--out", str(tmp_path / "sc"), "--json"])
    assert exc.value.code in (0, None)
    out = json.loads(capsys.readouterr().out)
    names = [s["name"] for s in out["studies"]]
    assert names == ["speed", "range", "rejection", "speed_after", "magnet_mirror",
                     "magnet_same_side"]
    on_disk = json.loads((tmp_path / "sc" / "studies.json").read_text())
    assert on_disk["studies"] == out["studies"]
    for s in on_disk["studies"]:
        assert set(s) >= {"name", "effect", "ci_low", "ci_high", "n", "statement"}
        if s["n"] > 1:
            assert s["ci_low"] <= s["effect"] <= s["ci_high"]
    assert on_disk["studies"][0]["n"] <= len(on_disk["reaction_events"]["t"])
    assert on_disk["studies"][4]["n"] == len(on_disk["magnet_decisions"]["t"])
    assert (tmp_path / "sc" / "studies.png").stat().st_size > 10_000
    assert (tmp_path / "sc" / "studies.html").is_file()
