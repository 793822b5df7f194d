"""Benchmark ``liqmap.scaleout.scan`` in-process against 2 local Dask workers.

The scan: a generated market (``--symbols`` x the four venues, default 30 x 4 = 120
symbol-venue runs, 30 days of 5-minute bars each; generated data, not market data), one
model run and the map figures per series. Times, each measured in this run on this machine:

- the serial scan (after one warm-up run loads the compiled kernels in this process);
- the cluster's start and the workers' warm-up (imports, kernel load), apart;
- the scan on the warm cluster; the speed-up is serial / that;
- the per-task overhead: a no-op task's round trip on the same cluster (``map_tasks`` over
  ``--noop`` items), and the scan's own: (wall x workers - work in tasks) / tasks.

Checks that the rows are identical (their JSON, byte for byte) and fails only on a
mismatch: a benchmark, not a timed test. The target speed-up (1.5x with 2 workers) is
printed with the result, met or not, and the load average beside it: on a 2-CPU machine two
workers gain only what other processes leave of the second CPU.

Run: ``.venv/bin/python benchmarks/bench_scan.py [--symbols N] [--bars N] [--n-workers N]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from liqmap.scaleout import cluster, generated_market, map_tasks, scan
from liqmap.scaleout.market import GeneratedSeries
from liqmap.scaleout.scan import scan_item, scan_row

TARGET = 1.5


def _noop(x):
    return x


def _warm() -> int:
    """Import and load the kernels in a worker (the same run as in this process)."""
    from liqmap.model import LiquidationModel

    scan_row(scan_item(GeneratedSeries("BTC", "binance", n_bars=300)), LiquidationModel())
    return os.getpid()


def _rows_json(res) -> str:
    return json.dumps(list(res.rows), allow_nan=False, sort_keys=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--symbols", type=int, default=30)
    ap.add_argument("--bars", type=int, default=8640, help="5-minute bars per series")
    ap.add_argument("--n-workers", type=int, default=2)
    ap.add_argument("--noop", type=int, default=200, help="no-op tasks timed for overhead")
    args = ap.parse_args()
    market = generated_market(args.symbols, n_bars=args.bars)
    print(f"scan of a GENERATED market: {args.symbols} symbols x 4 venues = {len(market)} "
          f"symbol-venue runs, {args.bars} bars each; {os.cpu_count()} CPU(s), load "
          f"average {os.getloadavg()[0]:.2f} before the run (other processes share the CPUs)")

    _warm()
    t0 = time.perf_counter()
    serial = scan(market)
    t_serial = time.perf_counter() - t0
    print(f"serial:            {t_serial:7.2f} s  ({serial.n_tasks} tasks of up to "
          f"{serial.batch_size} series; {1e3 * t_serial / len(market):.1f} ms per series)")

    t0 = time.perf_counter()
    with cluster("local", n_workers=args.n_workers) as client:
        client.wait_for_workers(args.n_workers, timeout=120)
        t_start = time.perf_counter() - t0
        t1 = time.perf_counter()
        client.run(_warm)
        t_warm = time.perf_counter() - t1
        t1 = time.perf_counter()
        map_tasks(_noop, range(args.noop), scheduler=client)
        noop_ms = 1e3 * (time.perf_counter() - t1) / args.noop
        t1 = time.perf_counter()
        par = scan(market, scheduler=client, n_workers=args.n_workers)
        t_par = time.perf_counter() - t1
    scan_ms = 1e3 * max(0.0, t_par * args.n_workers - par.task_seconds) / par.n_tasks
    speedup = t_serial / t_par
    print(f"cluster start:     {t_start:7.2f} s  ({args.n_workers} worker processes)")
    print(f"workers warm-up:   {t_warm:7.2f} s  (imports, compiled kernels)")
    print(f"{args.n_workers} local workers:   {t_par:7.2f} s  ({par.n_tasks} tasks of up to "
          f"{par.batch_size} series)")
    print(f"speed-up:          {speedup:7.2f}x  (target >= {TARGET}x: "
          f"{'met' if speedup >= TARGET else 'NOT met'}); with start and warm-up counted "
          f"{t_serial / (t_start + t_warm + t_par):.2f}x")
    print(f"per-task overhead: {noop_ms:7.2f} ms  (no-op round trip, {args.noop} tasks); "
          f"scan tasks {scan_ms:.1f} ms each beyond their work "
          f"({1e3 * par.task_seconds / par.n_tasks:.0f} ms of work per task)")
    same = _rows_json(serial) == _rows_json(par)
    print(f"rows identical:    {same} ({len(serial.rows)} rows); load average now "
          f"{os.getloadavg()[0]:.2f}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
