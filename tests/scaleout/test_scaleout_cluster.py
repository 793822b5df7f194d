"""Sweeps on a real LocalCluster (2 worker processes, 1 thread each) give exactly the serial
results: model runs on several venues' rules, backtests (synthetic and real window A), the
CLI pointed at the cluster's address; task errors name the item."""

from __future__ import annotations

import json
import os
import sys

import cloudpickle
import numpy as np
import pytest
from typer.testing import CliRunner

from liqmap._exceptions import InputError
from liqmap.cli import app
from liqmap.scaleout import (
    ModelTask,
    TaskError,
    TaskInputError,
    cluster,
    grid_tasks,
    map_tasks,
    model_grid_tasks,
    run_model_task,
    sweep,
)

# functions defined here travel to the workers by value (this module is not importable there)
cloudpickle.register_pickle_by_value(sys.modules[__name__])

VENUES = ("binance", "bybit", "okx", "hyperliquid")
SAMPLE = "btcusdt-5m-2025-12"
runner = CliRunner()
# one cluster per process: keep this module on one xdist worker under --dist loadgroup
pytestmark = pytest.mark.xdist_group("scaleout_cluster")


@pytest.fixture(scope="module")
def client():
    """One LocalCluster for the module, closed at the end even when a test fails."""
    with cluster("local", n_workers=2) as c:
        c.wait_for_workers(2, timeout=60)
        yield c


def _pid_of(_item):
    return os.getpid()


def _boom_on_three(x):
    if x == 3:
        raise RuntimeError("three is not allowed")
    return x * 10


def _same_results(serial: list, parallel: list) -> None:
    assert [r["label"] for r in serial] == [r["label"] for r in parallel]
    for a, b in zip(serial, parallel):
        assert a["digest"] == b["digest"], a["label"]
        assert a["arrays"].keys() == b["arrays"].keys()
        for name in a["arrays"]:
            assert np.array_equal(a["arrays"][name], b["arrays"][name]), (a["label"], name)
        strip = lambda r: {k: v for k, v in r.items() if k != "arrays"}  # noqa: E731
        assert strip(a) == strip(b), a["label"]


def test_cluster_has_two_single_threaded_worker_processes(client):
    workers = client.scheduler_info()["workers"].values()
    assert len(workers) == 2 and all(w["nthreads"] == 1 for w in workers)
    pids = set(map_tasks(_pid_of, range(8), scheduler=client))
    assert os.getpid() not in pids and 1 <= len(pids) <= 2


def test_model_tasks_on_four_venues_match_serial_bit_for_bit(client):
    tasks = model_grid_tasks(samples=[SAMPLE], venues=VENUES, lookback="3d",
                             base_params={"frames": 60})
    serial = map_tasks(run_model_task, tasks)
    seen = []
    parallel = map_tasks(run_model_task, tasks, scheduler=client,
                         progress=lambda done, total, label: seen.append((done, total, label)))
    _same_results(serial, parallel)
    assert [r["venue"] for r in parallel] == list(VENUES)  # item order kept
    assert len({r["digest"] for r in parallel}) == len(VENUES)  # venue rules differ
    assert [d for d, _, _ in seen] == [1, 2, 3, 4] and {lb for *_, lb in seen} == {
        t.label for t in tasks}
    assert all(r["bars"] == 864 and r["predicted_long_usd"] > 0 for r in parallel)


def test_backtest_sweep_on_synthetic_window_matches_serial(client, synthetic_window):
    data_dir, facts = synthetic_window
    tasks = grid_tasks("A", {"leverage": ["all-leverage", "high-leverage"],
                             "half_life_hours": [None, 48.0]},
                       data_dir=data_dir, warmup_hours=24)
    rows_s, full_s = sweep(tasks, keep_results=True)
    rows_p, full_p = sweep(tasks, scheduler=client, keep_results=True)
    assert rows_s == rows_p
    _same_results(full_s, full_p)
    assert [r["label"] for r in rows_p] == sorted(t.label for t in tasks)
    for r in rows_p:
        assert r["calibration_n_bars"] > 100 and r["scoring_n_bars"] > 100
        assert r["calibration_n_bars"] + r["scoring_n_bars"] == facts["n_hours"] - 24
        assert r["scoring_long_spearman"] is not None


@pytest.mark.shared_data
def test_backtest_sweep_on_window_a_slice_matches_serial(client, shared_data_dir):
    tasks = grid_tasks("A", {"leverage": ["all-leverage", "high-leverage"]},
                       data_dir=shared_data_dir, start_ms=1_769_299_200_000,
                       end_ms=1_770_681_600_000, warmup_hours=24)
    rows_s, full_s = sweep(tasks, keep_results=True)
    rows_p, full_p = sweep(tasks, scheduler=client.scheduler.address, keep_results=True)
    assert rows_s == rows_p
    _same_results(full_s, full_p)
    assert all(r["calibration_n_bars"] > 0 and r["scoring_n_bars"] > 0 for r in rows_p)


def test_task_error_names_the_item(client):
    with pytest.raises(TaskError) as exc:
        map_tasks(_boom_on_three, [1, 2, 3, 4], scheduler=client)
    assert exc.value.index == 2 and exc.value.label == "3"
    assert "task 2 (3)" in str(exc.value) and "three is not allowed" in str(exc.value)
    assert not isinstance(exc.value, InputError)


def test_input_error_in_a_worker_is_a_task_input_error(client, tmp_path):
    good = ModelTask(sample=SAMPLE, venue="okx", lookback="12h", label="good")
    bad = ModelTask(bars_path=str(tmp_path / "missing.csv"), venue="bybit", label="bad-file")
    with pytest.raises(TaskInputError) as exc:
        map_tasks(run_model_task, [good, bad], scheduler=client)
    assert isinstance(exc.value, InputError) and exc.value.label == "bad-file"
    assert "bad-file" in str(exc.value) and "missing.csv" in str(exc.value)


def test_cli_sweep_on_the_cluster_address_matches_in_process(client, tmp_path):
    args = ["sweep", "--sample", SAMPLE, "--venue", "okx", "--venue", "hyperliquid",
            "--lookback", "12h", "--grid", "leverage=all-leverage,high-leverage", "--json"]
    outs = {}
    for name, sched in (("none", "none"), ("cluster", client.scheduler.address)):
        res = runner.invoke(app, args + ["--scheduler", sched, "--out", str(tmp_path / name)])
        assert res.exit_code == 0, res.output
        outs[name] = json.loads(res.stdout)
    assert outs["none"]["rows"] == outs["cluster"]["rows"]
    assert len(outs["cluster"]["rows"]) == 4
    on_disk = json.loads((tmp_path / "cluster" / "sweep.json").read_text())
    assert on_disk["rows"] == outs["cluster"]["rows"]
