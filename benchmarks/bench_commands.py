"""Whole-command benchmark: what a user waits for, measured as whole processes.

Run: ``make bench`` (or ``.venv/bin/python benchmarks/bench_commands.py [--repeats N]``).

Each figure is the median wall time of N runs of a fresh process (interpreter start, imports,
work, shutdown), next to its ratio to the reference measured in the same run:
``python -c "import numpy, pandas"``. Measured:

- the reference; ``liqmap --help`` and three commands' ``--help``;
- ``liqmap heatmap`` on the bundled 30-day sample with PNG + HTML, and with ``--no-plots``;
- ``liqmap heatmap`` on one year of 1-minute bars (525,600 bars, a deterministic random walk
  with open interest written once to a temporary Parquet file in the documented bar layout),
  with plots, and the peak memory (max RSS) of that child process.

Targets from issue #16: heatmap with plots <= 2.5x the reference, ``--no-plots`` <= 1.5x,
``--help`` <= 0.5x; the 1-year command <= 3 s and <= 600 MB. The table prints whether each
is met; nothing here fails on a missed target (a benchmark reports, it does not judge).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

PY = sys.executable
LIQMAP = str(Path(PY).with_name("liqmap"))
YEAR_BARS = 525_600


@dataclass(frozen=True, slots=True)
class Run:
    """One measured command: median wall seconds, the largest child max RSS, last stdout."""

    seconds: float
    rss_mb: float
    stdout: str


def run_once(cmd: list[str], cwd: str) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) of this child alone (``os.wait4``) and its stdout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stderr[-3000:]}")
    return wall, usage.ru_maxrss / 1024, stdout


def measure(cmd: list[str], repeats: int, cwd: str) -> Run:
    """The median of ``repeats`` runs (after one untimed warm-up run: disk cache, pyc)."""
    run_once(cmd, cwd)
    runs = [run_once(cmd, cwd) for _ in range(repeats)]
    return Run(statistics.median(r[0] for r in runs), max(r[1] for r in runs), runs[-1][2])


def year_file(folder: Path, n: int = YEAR_BARS, seed: int = 16) -> Path:
    """One year of 1-minute bars: a BTC-like random walk with open interest and taker flow,
    in the documented layout (``ts_ms,open,high,low,close,volume,open_interest,
    taker_buy_volume``), the same bytes on every run."""
    rng = np.random.default_rng(seed)
    close = 60_000 * np.exp(np.cumsum(rng.standard_t(4, n) * 0.0007))
    open_ = np.r_[close[0], close[:-1]]
    wick = np.abs(rng.normal(0, 0.0006, (2, n)))
    vol = rng.gamma(2.0, 50.0, n)
    frame = pd.DataFrame({
        "ts_ms": 1_700_000_000_000 + 60_000 * np.arange(n, dtype=np.int64),
        "open": open_, "high": np.maximum(open_, close) * (1 + wick[0]),
        "low": np.minimum(open_, close) * (1 - wick[1]), "close": close, "volume": vol,
        "open_interest": np.maximum(90_000 + np.cumsum(rng.normal(0, 40, n)), 1000.0),
        "taker_buy_volume": vol * rng.uniform(0.3, 0.7, n),
    })
    path = folder / "year-1m.parquet"
    frame.to_parquet(path, index=False)
    return path


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="runs per light command")
    ap.add_argument("--heavy-repeats", type=int, default=3, help="runs per heatmap command")
    ap.add_argument("--skip-year", action="store_true", help="leave out the 1-year command")
    args = ap.parse_args()
    rows: list[tuple[str, Run, str, bool | None]] = []
    with tempfile.TemporaryDirectory() as tmp:
        cwd = tmp
        ref = measure([PY, "-c", "import numpy, pandas"], args.repeats, cwd)

        def add(name: str, cmd: list[str], repeats: int, target: float | None) -> Run:
            run = measure(cmd, repeats, cwd)
            ratio = run.seconds / ref.seconds
            rows.append((name, run, f"<= {target}x" if target else "",
                         None if target is None else ratio <= target))
            return run

        add("liqmap --help", [LIQMAP, "--help"], args.repeats, 0.5)
        for cmd in ("heatmap", "map", "backtest", "serve"):
            add(f"liqmap {cmd} --help", [LIQMAP, cmd, "--help"], args.repeats, 0.5)
        add("heatmap 30d, PNG + HTML", [LIQMAP, "heatmap", "--out", str(Path(tmp) / "plots")],
            args.heavy_repeats, 2.5)
        nop = add("heatmap 30d, --no-plots", [LIQMAP, "heatmap", "--no-plots", "--json"],
                  args.heavy_repeats, 1.5)
        year = None
        if not args.skip_year:
            path = year_file(Path(tmp))
            year = measure([LIQMAP, "heatmap", "--input", str(path), "--lookback", "1y",
                            "--side-model", "taker", "--out", str(Path(tmp) / "year"),
                            "--json"], max(1, args.heavy_repeats - 1), cwd)
    print(f"whole processes, median of {args.repeats} (heatmaps {args.heavy_repeats}); "
          f"reference: python -c 'import numpy, pandas' = {ref.seconds:.3f} s")
    print(f"{'command':<28}{'seconds':>9}{'ratio':>8}  {'target':<10}verdict")
    print(f"{'reference (numpy, pandas)':<28}{ref.seconds:>9.3f}{1.0:>7.2f}x")
    for name, run, target, ok in rows:
        print(f"{name:<28}{run.seconds:>9.3f}{run.seconds / ref.seconds:>7.2f}x  {target:<10}"
              f"{'' if ok is None else _verdict(ok)}")
    _print_engine("30d --no-plots", nop.stdout)
    if year is not None:
        ok_s, ok_mb = year.seconds <= 3.0, year.rss_mb <= 600
        print(f"{'heatmap 1y 1m, plots':<28}{year.seconds:>9.3f}"
              f"{year.seconds / ref.seconds:>7.2f}x  <= 3 s     {_verdict(ok_s)}")
        print(f"{'  peak memory of the child':<28}{year.rss_mb:>7.0f} MB{'':>7}<= 600 MB  "
              f"{_verdict(ok_mb)}")
        _print_engine("1y", year.stdout)


def _print_engine(name: str, stdout: str) -> None:
    """The command's own accounting (``--json``): kernel seconds, load/compile seconds."""
    try:
        summary = json.loads(stdout)
    except ValueError:
        return
    parts = [f"{key} {summary[key]:.3f} s" for key in ("engine_seconds", "load_seconds")
             if isinstance(summary.get(key), (int, float))]
    if parts:
        print(f"  {name}: " + ", ".join(parts))


if __name__ == "__main__":
    main()
