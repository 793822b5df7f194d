"""Compile the numba kernels once and keep them in numba's on-disk cache.

``make install`` runs ``python -m liqmap.cli.warm``: each compiled kernel (the level book,
its live step, the cascade and its impact walks) runs once on a slice of the bundled
sample, through the same estimators the commands use, so the argument types are theirs.
The kernels are ``@njit(cache=True)``: numba writes what it compiled next to their source
(``liqmap/core/__pycache__``, inside the package) and every later process loads it
(``Estimate.load_seconds``) instead of compiling again (several seconds on a fresh
install). Running it again is cheap: it loads what is cached.

Then it builds the level book ahead of time (:mod:`liqmap.core.aot`, about 15 s): with that
module present, a command that draws a map does not import numba at all. When it cannot be
built (no ``numba.pycc``, no C compiler, a read-only package folder) it says why and the
commands use numba's cached kernel, with the same results.
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


def build_aot() -> str:
    """Build the ahead-of-time level book; one line saying what happened."""
    from liqmap.core.aot import build_book_aot

    t0 = time.perf_counter()
    try:
        path = build_book_aot()
    except Exception as exc:  # noqa: BLE001 - any failure leaves the JIT path, which works
        return f"level book (ahead of time) not built ({type(exc).__name__}: {exc}); numba's cache is used"
    return f"{'level book (AOT)':22s} built in {time.perf_counter() - t0:6.2f} s: {path.name}"


def main() -> None:
    """Warm the kernels, build the ahead-of-time book, and say how long each took."""
    for name, s in warm_kernels().items():
        print(f"liqmap: {name:22s} ready in {s:6.2f} s", file=sys.stderr)
    print(f"liqmap: {build_aot()}", file=sys.stderr)


if __name__ == "__main__":
    main()
