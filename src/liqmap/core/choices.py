"""The core's named choices as plain constants: no numpy, no numba.

The outer layers name these choices before any array exists (the command line's help, the
parameter parser): importing them here keeps ``liqmap --help`` from loading the numeric
core. The modules that use them re-export them (``liqmap.core.book.POLICY_*``,
``liqmap.core.sides.SIDE_MODELS``).

>>> SIDE_MODELS[0], POLICY_PROPORTIONAL
('neutral', 1)
"""

from __future__ import annotations

__all__ = ["POLICY_LEVERAGE_FIRST", "POLICY_NET", "POLICY_NONE", "POLICY_PROPORTIONAL",
           "SIDE_MODELS"]

SIDE_MODELS = ("neutral", "candle", "taker", "funding")
"""Which side of new open interest is the aggressive one (``liqmap.core.sides``)."""

POLICY_NONE = 0
"""Open-interest falls leave the book alone."""
POLICY_PROPORTIONAL = 1
"""Every level shrinks by ``oi[t] / oi[t-1]``: closed positions are a random draw of all."""
POLICY_NET = 2
"""As proportional, but the fall is first netted against the bar's predicted liquidations."""
POLICY_LEVERAGE_FIRST = 3
"""The book's share of the fall is taken from the highest-leverage channels first."""
