"""Benchmark the cascade simulator: one cascade and the +-30 % curve on a 1-year book.

Generates its own book (5,000 bins over +-60 % of price, two venues), times the compiled
kernel and its plain NumPy twin in the same run, checks both give the same results and
prints the times against the targets (one cascade <= 5 ms, the curve in 0.5 % steps
<= 100 ms). A benchmark, not a timed test: it never fails on speed, only on a mismatch.

Run: ``.venv/bin/python benchmarks/bench_cascade.py``
"""

from __future__ import annotations

import time

import numpy as np

from liqmap.cascade import CascadeSimulator
from liqmap.core.impact import SqrtImpact
from liqmap.core.records import LiqMap

P0 = 90_000.0
BINS = 5_000
SHOCKS = np.arange(-30.0, 30.5, 0.5)
TARGET_ONE_MS, TARGET_CURVE_MS = 5.0, 100.0


def year_book(seed: int = 0) -> dict[str, LiqMap]:
    """Two venues' maps shaped like a 1-year book: dense near price, heavy-tailed clusters."""
    rng = np.random.default_rng(seed)
    bins = np.linspace(0.4 * P0, 1.6 * P0, BINS)
    d = np.abs(bins / P0 - 1)
    out = {}
    for venue, scale in (("binance", 4e6), ("hyperliquid", 1e6)):
        w = rng.gamma(0.4, 1.0, BINS) * scale * np.exp(-d / 0.15)
        out[venue] = LiqMap(0, P0, bins, np.where(bins < P0, w, 0.0),
                            np.where(bins > P0, w, 0.0), venue=venue)
    return out


def _time(fn, repeat: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1e3, out


def main() -> None:
    maps = year_book()
    impact = SqrtImpact(0.8, 0.0196, 1.2e10)
    fast = CascadeSimulator(impact)
    ref = CascadeSimulator(impact, engine="reference")
    fast.run(maps, 3.0)  # compile / load the cache
    one_ms, a = _time(lambda: fast.run(maps, 3.0), 50)
    one_ref_ms, b = _time(lambda: ref.run(maps, 3.0), 3)
    curve_ms, ca = _time(lambda: fast.amplification_curve(maps, SHOCKS), 5)
    curve_ref_ms, cb = _time(lambda: ref.amplification_curve(maps, SHOCKS), 1)
    np.testing.assert_allclose(a.price_usd, b.price_usd, rtol=1e-9)
    np.testing.assert_allclose(a.liq_short_usd, b.liq_short_usd, rtol=1e-9, atol=1e-3)
    np.testing.assert_allclose(ca.move_pct, cb.move_pct, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ca.liquidated_long_usd, cb.liquidated_long_usd, rtol=1e-9)
    n_levels = sum(int((m.long_usd > 0).sum() + (m.short_usd > 0).sum()) for m in maps.values())
    print(f"book: {BINS} bins x 2 venues, {n_levels} levels; +3% cascade: {a.t_s.size} steps, "
          f"move {a.move_pct:+.2f}%")
    print(f"one cascade   numba {one_ms:8.3f} ms  reference {one_ref_ms:9.3f} ms  "
          f"x{one_ref_ms / one_ms:6.1f}  target <= {TARGET_ONE_MS:g} ms  "
          f"{'OK' if one_ms <= TARGET_ONE_MS else 'SLOW'}")
    print(f"+-30% curve   numba {curve_ms:8.3f} ms  reference {curve_ref_ms:9.3f} ms  "
          f"x{curve_ref_ms / curve_ms:6.1f}  target <= {TARGET_CURVE_MS:g} ms  "
          f"{'OK' if curve_ms <= TARGET_CURVE_MS else 'SLOW'}  ({SHOCKS.size} shocks)")
    print("outputs match: yes")


if __name__ == "__main__":
    main()
