"""Checks of liqmap's rules and estimates against real data (outer layer).

``liqmap.checks`` may import the core and the I/O layer; the core never imports it.

* :mod:`liqmap.checks.hyperliquid_positions`: the Hyperliquid liquidation rule against the
  exchange's published liquidation prices of real positions.
* :mod:`liqmap.checks.hyperliquid_crossed`: the same positions' measured leverage next to the
  presets, and what became of positions whose liquidation price the price path crossed.
"""

from __future__ import annotations

from liqmap.checks.hyperliquid_positions import ErrorStats, HyperliquidCheck, check_hyperliquid

__all__ = ["ErrorStats", "HyperliquidCheck", "check_hyperliquid"]
