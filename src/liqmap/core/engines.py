"""The one switch between a compiled kernel and its plain reference twin.

Every kernel of the core has a numba version and a plain-Python/NumPy twin with the same
semantics (parity-tested): the level book (``liqmap.core.book.run_book``), its per-bar step
(``liqmap.core.incremental.step_book``) and the cascade (``liqmap.core.cascade_kernels.simulate``).
Each of them, and each estimator built on them (``LiquidationModel.run``,
``IncrementalModel``, ``CascadeSimulator``), picks one with the same keyword
``engine="numba" | "reference"``, checked here with one message.

>>> check_engine("reference")
'reference'
>>> check_engine("fast")  # doctest: +ELLIPSIS
Traceback (most recent call last):
liqmap._exceptions.ConfigError: unknown engine 'fast'; use 'numba' or 'reference'
"""

from __future__ import annotations

from liqmap._exceptions import ConfigError

__all__ = ["ENGINES", "check_engine"]

ENGINES = ("numba", "reference")
"""``"numba"``: the compiled kernel (the default); ``"reference"``: its plain twin (slow;
for checks)."""


def check_engine(engine: str) -> str:
    """``engine`` if it names a kernel (:data:`ENGINES`), else ``ConfigError``."""
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}; use 'numba' or 'reference'")
    return engine
