"""Liquidation cascades: the simulator, its set-up on market data, and the impact calibration.

- :mod:`liqmap.cascade.simulator`: ``CascadeSimulator(...).run(maps, shock_pct)`` ->
  ``CascadeResult``; ``.curve()`` -> ``CurveResult``; ``replay``; ``default_impact``.
- :mod:`liqmap.cascade.run`: the simulator set up for the bars a map was built from
  (``simulator_for``, ``cascade_for``, ``replay_window``), the one answer of the CLI and
  the API.
- :mod:`liqmap.cascade.impact_fit`: the impact constants calibrated on window C's
  Hyperliquid trades and L2 books, and the shipped preset.

The step kernels and venue rules are pure and live in the core (``liqmap.core``); this
package re-exports the simulator's public names only, so importing it loads neither the
model nor the loaders.
"""

from __future__ import annotations

from liqmap.cascade.simulator import (
    CascadeResult,
    CascadeSimulator,
    CurveResult,
    default_impact,
    replay,
)

__all__ = ["CascadeResult", "CascadeSimulator", "CurveResult", "default_impact", "replay"]
