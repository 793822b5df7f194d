"""Benchmark a sweep run in-process against the same sweep on a Dask LocalCluster.

The sweep: model runs of both bundled samples under four venues' rules over a small grid
(leverage preset x half-life), full bars, band over the presets; plus, when the shared data
folder is present, window A backtests over the same grid. Times the serial run, the cluster
start, and the sweep on the cluster, prints the ratio serial / cluster (both measured in this
run, on this machine) and whether every result matches bit for bit (digests and arrays). A
benchmark, not a timed test: it fails only on a mismatch.

Run: ``.venv/bin/python benchmarks/bench_scaleout.py [--n-workers N] [--scheduler ADDRESS]``
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from liqmap.io.sample import list_samples
from liqmap.scaleout import cluster, grid_tasks, map_tasks, model_grid_tasks, run_task
from liqmap.scorecard.data import default_data_dir

VENUES = ("binance", "bybit", "okx", "hyperliquid")
# 4 x 4 points: with 2 samples x 4 venues, 128 model runs (the issue asks for >= 100), plus
# 16 window-A backtests when the shared data are there
GRID = {"leverage": ["all-leverage", "high-leverage", "peer-common", "low-leverage"],
        "half_life_hours": [None, 24.0, 168.0, 720.0]}
TARGET = 1.5


def _noop(x):
    return x


def build_tasks() -> list:
    tasks = model_grid_tasks(samples=list(list_samples()), venues=VENUES, grid=GRID)
    root = default_data_dir()
    if (root / "raw" / "coinglass_ismethanhtung").is_dir():
        tasks += grid_tasks("A", GRID, data_dir=root)
    return tasks


def same(a: list, b: list) -> bool:
    for x, y in zip(a, b, strict=True):
        if x["digest"] != y["digest"] or x.get("heatmap_digest") != y.get("heatmap_digest"):
            return False
        if x["arrays"].keys() != y["arrays"].keys():
            return False
        if not all(np.array_equal(x["arrays"][k], y["arrays"][k]) for k in x["arrays"]):
            return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-workers", type=int, default=None,
                    help="LocalCluster workers (default min(2, CPUs))")
    ap.add_argument("--scheduler", default="local", help="local or tcp://HOST:PORT")
    args = ap.parse_args()
    tasks = build_tasks()
    n_bt = sum(t.label.startswith("A|") for t in tasks)
    print(f"{len(tasks)} tasks ({len(tasks) - n_bt} model runs, {n_bt} window-A backtests); "
          f"{os.cpu_count()} CPUs")
    map_tasks(run_task, tasks[:1])  # compile/load kernels in this process first
    t0 = time.perf_counter()
    serial = map_tasks(run_task, tasks)
    t_serial = time.perf_counter() - t0
    t0 = time.perf_counter()
    with cluster(args.scheduler, n_workers=args.n_workers) as client:
        t_start = time.perf_counter() - t0
        n_workers = len(client.scheduler_info()["workers"])
        map_tasks(run_task, tasks[:n_workers], scheduler=client)  # warm the workers
        t0 = time.perf_counter()
        parallel = map_tasks(run_task, tasks, scheduler=client)
        t_cluster = time.perf_counter() - t0
        t0 = time.perf_counter()
        client.gather(client.map(_noop, range(200), pure=False))
        t_noop = (time.perf_counter() - t0) / 200
    ok = same(serial, parallel)
    print(f"serial            {t_serial:8.2f} s")
    print(f"cluster start     {t_start:8.2f} s  ({n_workers} workers, {args.scheduler})")
    print(f"cluster sweep     {t_cluster:8.2f} s  (workers warmed)")
    speed = t_serial / t_cluster
    print(f"speed-up serial / cluster: {speed:.2f}x "
          f"(with start-up: {t_serial / (t_cluster + t_start):.2f}x); target >= {TARGET}x: "
          f"{'met' if speed >= TARGET else 'NOT met'}")
    print(f"per-task overhead {t_noop * 1000:8.2f} ms  (no-op round trip, 200 tasks); work "
          f"per task {t_serial / len(tasks) * 1000:.1f} ms serial; load average "
          f"{os.getloadavg()[0]:.2f}")
    print(f"results identical (digests and arrays, {len(tasks)} tasks): {ok}")
    if not ok:
        raise SystemExit("MISMATCH between serial and cluster results")


if __name__ == "__main__":
    main()
