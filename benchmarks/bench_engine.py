"""Engine benchmark: one year of 1-minute bars through the level book.

Run: ``make bench`` (or ``.venv/bin/python benchmarks/bench_engine.py [--bars N]``).

Prints, measured in this run on this machine:
- engine time of the compiled kernel on N bars (crossing, OI removal and decay all on), bars/s;
- the plain NumPy reference twin on a slice, per-bar time, and the speed ratio;
- that both give the same output on the slice;
- the whole ``liqmap heatmap`` command on the same year (Parquet input, PNG + HTML + JSON),
  its wall time and the peak memory (max RSS) of that process.
Targets from the issue: engine <= 1 s, whole command <= 10 s, memory <= 1 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from liqmap.core.bars import Bars
from liqmap.model import LiquidationModel


def synth_bars(n: int, seed: int = 1) -> Bars:
    """A random-walk BTC-like market with open interest and taker flow, 1-minute bars."""
    rng = np.random.default_rng(seed)
    ret = rng.standard_t(4, n) * 0.0007
    close = 60_000 * np.exp(np.cumsum(ret))
    open_ = np.r_[close[0], close[:-1]]
    wick = np.abs(rng.normal(0, 0.0006, (2, n)))
    high = np.maximum(open_, close) * (1 + wick[0])
    low = np.minimum(open_, close) * (1 - wick[1])
    oi = 90_000 + np.cumsum(rng.normal(0, 40, n))
    vol = rng.gamma(2.0, 50.0, n)
    return Bars(ts_ms=1_700_000_000_000 + 60_000 * np.arange(n, dtype=np.int64), open=open_,
                high=high, low=low, close=close, open_interest=np.maximum(oi, 1000.0),
                volume=vol, taker_buy_volume=vol * rng.uniform(0.3, 0.7, n),
                source="synthetic 1m")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bars", type=int, default=525_600)
    ap.add_argument("--ref-bars", type=int, default=3_000)
    ap.add_argument("--skip-cli", action="store_true")
    args = ap.parse_args()
    bars = synth_bars(args.bars)
    model = LiquidationModel(leverage="all-leverage", side_model="taker",
                             oi_policy="proportional", half_life_hours="100:24,50:48,25:72",
                             band="none")
    model.run(bars.take(slice(0, 2000)))  # compile (cached after the first run)
    t0 = time.perf_counter()
    est = model.run(bars)
    wall = time.perf_counter() - t0
    eng = est.engine_seconds_central
    print(f"bars                      {args.bars:,}")
    print(f"engine seconds (compiled) {eng:.3f}   bars/s {args.bars / eng:,.0f}   "
          f"target <= 1.0 s: {'OK' if eng <= 1.0 else 'MISSED'}")
    print(f"model.run wall seconds    {wall:.3f} (inputs, grid, frames included)")
    _reference_ratio(model, bars, args.ref_bars, eng / args.bars)
    if not args.skip_cli:
        _cli_run(bars)


def _reference_ratio(model, bars, n_ref, fast_per_bar) -> None:
    sub = bars.take(slice(0, n_ref))
    fast = model.run(sub)
    ref = model.run(sub, engine="reference")
    same = all(np.allclose(getattr(fast, k), getattr(ref, k), rtol=1e-9, atol=1e-6)
               for k in ("predicted_long_usd", "predicted_short_usd"))
    same &= np.allclose(fast.final_map.long_usd, ref.final_map.long_usd, rtol=1e-9, atol=1e-6)
    ref_per_bar = ref.engine_seconds_central / n_ref
    print(f"reference twin            {ref_per_bar * 1e6:,.1f} us/bar on {n_ref:,} bars; "
          f"compiled {fast_per_bar * 1e6:,.2f} us/bar; ratio {ref_per_bar / fast_per_bar:,.0f}x")
    print(f"outputs match on the slice: {same}")
    if not same:
        raise SystemExit("compiled kernel and reference twin disagree")


def _cli_run(bars: Bars) -> None:
    liqmap = Path(sys.executable).with_name("liqmap")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "year.parquet"
        pd.DataFrame({"ts_ms": bars.ts_ms, "open": bars.open, "high": bars.high,
                      "low": bars.low, "close": bars.close, "volume": bars.volume,
                      "taker_buy_volume": bars.taker_buy_volume,
                      "open_interest": bars.open_interest}).to_parquet(path)
        cmd = [str(liqmap), "heatmap", "--input", str(path), "--lookback", "1y",
               "--side-model", "taker", "--out", tmp, "--json"]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"liqmap heatmap failed:\n{proc.stderr}")
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        out = json.loads(proc.stdout)
        print(f"liqmap heatmap (1y, 1m)   {wall:.2f} s wall, engine {out['engine_seconds']:.3f} s,"
              f" peak RSS {rss_mb:,.0f} MB; targets <= 10 s: "
              f"{'OK' if wall <= 10 else 'MISSED'}, <= 1024 MB: "
              f"{'OK' if rss_mb <= 1024 else 'MISSED'}")


if __name__ == "__main__":
    main()
