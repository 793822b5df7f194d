"""Live-engine benchmark: time per ``IncrementalModel.update`` on the bundled sample.

Run: ``.venv/bin/python benchmarks/bench_live.py [--warm N] [--json]``.

Prints, measured in this run on this machine:
- mean / median / p99 microseconds per ``update`` (one closed bar through every preset's
  book: side model, entry prices, grid check, compiled step for the central and the band
  presets);
- the batch ``LiquidationModel.run`` over the same bars, its cost per bar, and the ratio
  update / batch-per-bar;
- that the bar-by-bar predictions equal the batch run's (max abs difference).
Target from the issue: <= 1 ms per update.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from liqmap.io.sample import load_sample
from liqmap.live import IncrementalModel
from liqmap.model import LiquidationModel
from liqmap.venues import live_from_bars

TARGET_US = 1000.0


def measure(n_warm: int = 288, bin_usd: float = 50.0) -> dict:
    """Time the updates and the batch run on the default sample; check they agree."""
    bars = load_sample()
    model = LiquidationModel(bin_usd=bin_usd)
    model.run(bars.take(slice(0, 50)))  # compile both paths before timing
    IncrementalModel(model, bars.take(slice(0, 50)))
    t0 = time.perf_counter()
    est = model.run(bars)
    batch_s = time.perf_counter() - t0
    im = IncrementalModel(model, bars.take(slice(0, n_warm)),
                          reference_price_usd=float(np.median(bars.close)))
    stream = live_from_bars(bars.take(slice(n_warm, None)), "stream")
    times = np.empty(len(stream))
    ups = []
    for i, bar in enumerate(stream):
        t = time.perf_counter()
        ups.append(im.update(bar))
        times[i] = time.perf_counter() - t
    us = times * 1e6
    batch_per_bar_us = batch_s / len(bars) * 1e6
    got = np.array([u.predicted_long_usd + u.predicted_short_usd for u in ups])
    want = (est.predicted_long_usd + est.predicted_short_usd)[n_warm:]
    return {
        "bars_updated": len(stream), "presets": len(im.members), "bins": im.grid[2],
        "update_mean_us": float(us.mean()), "update_median_us": float(np.median(us)),
        "update_p99_us": float(np.percentile(us, 99)), "update_max_us": float(us.max()),
        "batch_run_s": batch_s, "batch_per_bar_us": batch_per_bar_us,
        "ratio_update_vs_batch_per_bar": float(us.mean() / batch_per_bar_us),
        "max_abs_diff_usd": float(np.max(np.abs(got - want))),
        "target_us": TARGET_US, "meets_target": bool(np.percentile(us, 99) <= TARGET_US),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warm", type=int, default=288, help="warm-up bars (default one day)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    r = measure(args.warm)
    if args.json:
        print(json.dumps(r, indent=2))
        return
    print(f"incremental update: {r['bars_updated']} bars x {r['presets']} presets, "
          f"{r['bins']} bins")
    print(f"  mean {r['update_mean_us']:.1f} us  median {r['update_median_us']:.1f} us  "
          f"p99 {r['update_p99_us']:.1f} us  max {r['update_max_us']:.1f} us "
          f"(target <= {TARGET_US:.0f} us: {'met' if r['meets_target'] else 'NOT met'})")
    print(f"batch run: {r['batch_run_s'] * 1e3:.1f} ms = {r['batch_per_bar_us']:.2f} us/bar; "
          f"update / batch-per-bar = {r['ratio_update_vs_batch_per_bar']:.1f}x")
    print(f"bar-by-bar vs batch predictions: max |diff| = {r['max_abs_diff_usd']:.3g} USD")


if __name__ == "__main__":
    main()
