"""Compile the numba kernels once and keep them in numba's on-disk cache.

``make install`` runs ``python -m liqmap.cli.warm``: each compiled kernel (the level book,
its live step, the cascade and its impact walks) runs once on a slice of the bundled
sample, through the same estimators the commands use, so the argument types are theirs.
The kernels are ``@njit(cache=True)``: numba writes what it compiled next to their source
(``liqmap/core/__pycache__``, inside the package) and every later process loads it
(``Estimate.load_seconds``) instead of compiling again (several seconds on a fresh
install). Running it again is cheap: it loads what is cached.
"""

from __future__ import annotations

import sys
import time
from typing import Any

__all__ = ["main", "warm_kernels"]


def warm_kernels(sample: str = "btcusdt-5m-2025-12", n_bars: int = 400) -> dict[str, float]:
    """Run each compiled kernel once on ``n_bars`` bars of ``sample``; seconds per kernel."""
    from liqmap.cascade import CascadeSimulator
    from liqmap.io.sample import load_sample
    from liqmap.live import IncrementalModel
    from liqmap.model import LiquidationModel

    bars = load_sample(sample).take(slice(0, n_bars))
    seconds: dict[str, float] = {}

    def timed(name: str, fn) -> Any:
        t0 = time.perf_counter()
        out = fn()
        seconds[name] = time.perf_counter() - t0
        return out

    est = timed("level book", lambda: LiquidationModel().run(bars))
    timed("level book (vendor)", lambda: LiquidationModel(convention="vendor").run(bars))
    timed("live step", lambda: IncrementalModel(LiquidationModel(), bars))
    for impact in ("sqrt", "depth"):
        timed(f"cascade ({impact})",
              lambda i=impact: CascadeSimulator(i).run({bars.venue: est.final_map}, 3.0))
    return seconds


def main() -> None:
    """Warm the kernels and say how long each took."""
    for name, s in warm_kernels().items():
        print(f"liqmap: {name:22s} ready in {s:6.2f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
