"""Task records, grids, the serial map, scheduler addresses and the sweep CLI's errors (no
cluster started here)."""

from __future__ import annotations

import json
import pickle
import socket

import numpy as np
import pytest

from liqmap._exceptions import ConfigError, InputError, RetryLaterError
from liqmap.cli import main
from liqmap.scaleout import (
    BacktestTask,
    ModelTask,
    TaskError,
    TaskInputError,
    check_address,
    digest_arrays,
    grid_tasks,
    map_tasks,
    model_grid_tasks,
    parse_grid,
    select_on_calibration,
    sweep,
    task_from_dict,
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_grid_expands_every_combination_for_every_window():
    tasks = grid_tasks(["A", "B"], {"leverage": ["all-leverage", "high-leverage"],
                                    "half_life_hours": [None, 168.0],
                                    "side_model": ["candle", "taker", "neutral"]},
                       base_params={"oi_policy": "net"})
    assert len(tasks) == 2 * 2 * 2 * 3
    assert len({t.label for t in tasks}) == len(tasks)
    t = tasks[-1]
    assert t.window == "B" and t.label == "B|leverage=high-leverage,half_life_hours=168.0," \
                                          "side_model=neutral"
    m = t.model()
    assert (m.leverage, m.half_life_hours, m.side_model, m.oi_policy, m.band) == (
        "high-leverage", 168.0, "neutral", "net", "none")
    assert grid_tasks("A")[0].label == "A"  # no grid: one task with the defaults


@pytest.mark.parametrize("grid, fix", [
    ({"levrage": ["all-leverage"]}, "unknown model parameters"),
    ({"leverage": []}, "non-empty list"),
    ({"leverage": "all-leverage"}, "non-empty list"),
    ({"leverage": ["no-such-preset"]}, "no-such-preset"),
    ({"half_life_hours": [0.0]}, "half_life_hours must be > 0"),
])
def test_bad_grid_is_a_config_error_raised_before_any_work(grid, fix):
    with pytest.raises(ConfigError, match=fix):
        grid_tasks("A", grid)


def test_parse_grid_converts_types_and_zero_half_life_means_no_decay():
    g = parse_grid(["leverage=all-leverage,high-leverage", "half_life_hours=0,168,100:6",
                    "side-strength=0.5,1", "entry_points=2", "bin_usd=auto,25"])
    assert g == {"leverage": ["all-leverage", "high-leverage"],
                 "half_life_hours": [None, 168.0, "100:6"], "side_strength": [0.5, 1.0],
                 "entry_points": [2], "bin_usd": [None, 25.0]}
    for bad, fix in (("leverage", "NAME=V1,V2"), ("nope=1", "unknown parameter"),
                     ("entry_points=two", "not a number")):
        with pytest.raises(ConfigError, match=fix):
            parse_grid([bad])
    with pytest.raises(ConfigError, match="given twice"):
        parse_grid(["leverage=all-leverage", "leverage=high-leverage"])


def test_tasks_round_trip_through_json_and_pickle():
    tasks = grid_tasks("A", {"band_presets": [("all-leverage", "low-leverage")]},
                       data_dir="/data", start_ms=1, end_ms=2, warmup_hours=12)
    tasks += model_grid_tasks(samples=["btcusdt-5m-2025-12"], bars_paths=["/x/bars.csv"],
                              venues=["bybit"], grid={"half_life_hours": [None, 24.0]},
                              lookback="7d")
    for t in tasks:
        back = task_from_dict(json.loads(json.dumps(t.to_dict())))
        assert back == t and type(back) is type(t)
        assert pickle.loads(pickle.dumps(t)) == t
    assert [t.label for t in tasks[1:]] == [
        "btcusdt-5m-2025-12|bybit|7d|half_life_hours=None",
        "btcusdt-5m-2025-12|bybit|7d|half_life_hours=24.0",
        "bars.csv|bybit|7d|half_life_hours=None", "bars.csv|bybit|7d|half_life_hours=24.0"]


def test_model_task_needs_exactly_one_source_and_its_own_venue():
    with pytest.raises(ConfigError, match="exactly one"):
        ModelTask(venue="okx")
    with pytest.raises(ConfigError, match="exactly one"):
        ModelTask(bars_path="a.csv", sample="btcusdt-5m-2025-12")
    with pytest.raises(ConfigError, match="task's own field"):
        ModelTask(sample="btcusdt-5m-2025-12", model_params={"venue": "okx"})
    with pytest.raises(ConfigError):
        ModelTask(sample="btcusdt-5m-2025-12", venue="nowhere-exchange")
    with pytest.raises(ConfigError, match="unknown lookback"):
        ModelTask(sample="btcusdt-5m-2025-12", lookback="2d")
    with pytest.raises(ConfigError, match="window id"):
        BacktestTask("")


def test_serial_map_keeps_order_reports_progress_and_names_failing_item():
    seen = []
    assert map_tasks(abs, [-3, 1, -2], progress=lambda *a: seen.append(a)) == [3, 1, 2]
    assert seen == [(1, 3, "-3"), (2, 3, "1"), (3, 3, "-2")]
    with pytest.raises(TaskError) as exc:
        map_tasks(abs, [1, "x", 2])
    assert exc.value.index == 1 and exc.value.label == "'x'"
    assert isinstance(exc.value.__cause__, TypeError) and "task 1 ('x')" in str(exc.value)


def test_input_error_inside_a_task_stays_an_input_error():
    task = ModelTask(sample="btcusdt-5m-2025-12", venue="okx", symbol="ETH/USDT:USDT",
                     label="wrong-symbol")
    with pytest.raises(TaskInputError, match="wrong-symbol.*ETH/USDT:USDT") as exc:
        sweep([task])
    assert isinstance(exc.value, InputError) and isinstance(exc.value.__cause__, ConfigError)


def test_sweep_refuses_duplicate_labels():
    t = ModelTask(sample="btcusdt-5m-2025-12", label="same")
    with pytest.raises(ConfigError, match="unique.*same"):
        sweep([t, ModelTask(sample="btcusdt-5m-2025-12", venue="okx", label="same")])


def test_addresses_are_checked_and_normalised():
    assert check_address("127.0.0.1:8786") == "tcp://127.0.0.1:8786"
    assert check_address("tls://sched.example.org:443") == "tls://sched.example.org:443"
    assert check_address("tcp://[::1]:8786") == "tcp://[::1]:8786"
    for bad in ("not an address", "tcp://host", "http://host:80", "host:0", "host:70000",
                "local host:1"):
        with pytest.raises(InputError, match="malformed"):
            map_tasks(abs, [1], scheduler=bad)
    with pytest.raises(InputError, match="distributed.Client"):
        map_tasks(abs, [1], scheduler=42)
    with pytest.raises(ConfigError, match="n_workers"):
        map_tasks(abs, [1], scheduler="local", n_workers=0)


def test_unreachable_scheduler_is_retry_later_within_the_timeout():
    address = f"tcp://127.0.0.1:{_free_port()}"
    with pytest.raises(RetryLaterError, match="cannot reach the Dask scheduler") as exc:
        map_tasks(abs, [1, 2], scheduler=address, connect_timeout_s=1.0)
    assert address in str(exc.value) and not isinstance(exc.value, InputError)


def test_digest_sees_one_changed_bit():
    a = {"x": np.linspace(0, 1, 100), "y": np.arange(5)}
    b = {"x": a["x"].copy(), "y": a["y"]}
    b["x"][50] = np.nextafter(b["x"][50], 2.0)
    assert digest_arrays(a) == digest_arrays({"y": a["y"], "x": a["x"]})
    assert digest_arrays(a) != digest_arrays(b)
    assert digest_arrays(a) != digest_arrays({"x": a["x"], "y": a["y"].astype(np.int32)})


def test_selection_uses_the_calibration_span_only():
    def row(label, cal, score):
        r = {"label": label, "kind": "backtest"}
        for sd in ("long", "short"):
            r[f"calibration_{sd}_spearman"], r[f"scoring_{sd}_spearman"] = cal, score
        return r
    rows = [row("a", 0.5, 0.9), row("b", 0.6, 0.1), row("c", None, 1.0),
            {"label": "m", "kind": "model"}]
    sel = select_on_calibration(rows)
    assert sel["label"] == "b" and sel["calibration_mean"] == pytest.approx(0.6)
    assert select_on_calibration([rows[2], rows[3]]) is None
    with pytest.raises(ConfigError):
        select_on_calibration(rows, metric="scoring_long_spearman")


@pytest.mark.parametrize("argv, fix", [
    (["sweep", "--scheduler", "none"], "nothing to sweep"),
    (["sweep", "--window", "Z", "--scheduler", "none"], "unknown window"),
    (["sweep", "--window", "A", "--grid", "leverage", "--scheduler", "none"], "NAME=V1,V2"),
    (["sweep", "--sample", "btcusdt-5m-2025-12", "--grid", "venue=okx"], "--venue"),
    (["sweep", "--sample", "btcusdt-5m-2025-12", "--scheduler", "nowhere"], "malformed"),
])
def test_cli_errors_say_what_to_fix(argv, fix, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(argv + ["--out", str(tmp_path / "o")])
    assert exc.value.code == 2
    assert fix in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # nothing written


def test_cli_unreachable_scheduler_exits_3(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["sweep", "--sample", "btcusdt-5m-2025-12", "--scheduler",
              f"tcp://127.0.0.1:{_free_port()}", "--connect-timeout", "1", "--out",
              str(tmp_path / "o")])
    assert exc.value.code == 3 and "retry later" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cli_backtest_sweep_writes_csv_json_and_selects_on_calibration(synthetic_window,
                                                                       tmp_path, capsys):
    import pandas as pd

    data_dir, _ = synthetic_window
    with pytest.raises(SystemExit) as exc:
        main(["sweep", "--window", "A", "--data-dir", str(data_dir), "--grid",
              "leverage=all-leverage,high-leverage", "--grid", "half_life_hours=0,48",
              "--warmup-hours", "24", "--scheduler", "none", "--out", str(tmp_path), "--json"])
    assert exc.value.code in (0, None)
    out = json.loads(capsys.readouterr().out)
    rows = out["rows"]
    assert [r["label"] for r in rows] == sorted(
        f"A|leverage={lv},half_life_hours={hl}" for lv in ("all-leverage", "high-leverage")
        for hl in ("None", "48.0"))
    table = pd.read_csv(tmp_path / "sweep.csv")
    assert table["label"].tolist() == [r["label"] for r in rows]
    assert np.allclose(table["scoring_short_spearman"], [r["scoring_short_spearman"]
                                                         for r in rows])
    sel = out["selected_on_calibration"]["A"]
    best = max(rows, key=lambda r: (r["calibration_long_spearman"]
                                    + r["calibration_short_spearman"]) / 2)
    assert sel["label"] == best["label"]
    assert json.loads((tmp_path / "sweep.json").read_text())["rows"] == rows


def test_grid_values_use_the_one_parameter_parser():
    g = parse_grid(["band_presets=all-leverage+low-leverage,peer-common",
                    "leverage=10:0.5+25:0.5,high-leverage", "half_life_hours=none,100:6+50:12",
                    "tier_version=latest,2024-10-24"])
    assert g == {"band_presets": [("all-leverage", "low-leverage"), ("peer-common",)],
                 "leverage": ["10:0.5,25:0.5", "high-leverage"],
                 "half_life_hours": [None, "100:6,50:12"],
                 "tier_version": [None, "2024-10-24"]}
    tasks = grid_tasks("A", g)
    assert tasks[0].model().band_presets == ("all-leverage", "low-leverage")


@pytest.mark.parametrize("spec, fix", [
    ("frames=abc", "grid frames must be an integer"),
    ("entry_points=1000000", "grid entry_points must be an integer from 1 to 64"),
    ("half_life_hours=inf", "grid half_life_hours must be > 0 hours"),
    ("bin_usd=inf", "grid bin_usd must be a number of USD"),
    ("leverage=1000:1", "grid leverage must be .*binance 125x"),
    ("side_strength=true", "grid side_strength must be a number from 0 to 1"),
])
def test_bad_grid_text_names_the_grid_key_and_what_is_allowed(spec, fix):
    with pytest.raises(ConfigError, match=fix):
        parse_grid([spec])


def test_native_grid_values_are_checked_like_text():
    for grid, fix in (({"frames": [True]}, "grid frames .*a boolean"),
                      ({"bin_usd": [float("inf")]}, "grid bin_usd"),
                      ({"leverage": [5]}, "grid leverage .*a number, not text"),
                      ({"venue": ["hyperliquid"], "leverage": ["50:1"]}, "40x")):
        with pytest.raises(ConfigError, match=fix):
            grid_tasks("A", grid)
    assert grid_tasks("A", {"half_life_hours": ["0", 24]})[0].model().half_life_hours is None
