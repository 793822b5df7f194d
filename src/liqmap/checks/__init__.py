"""Checks of liqmap's rules and estimates against real data (outer layer).

``liqmap.checks`` may import the core and the I/O layer; the core never imports it.

* :mod:`liqmap.checks.hyperliquid`: the Hyperliquid liquidation rule against the exchange's
  published liquidation prices of real positions.
"""

from __future__ import annotations

from liqmap.checks.hyperliquid import ErrorStats, HyperliquidCheck, check_hyperliquid

__all__ = ["ErrorStats", "HyperliquidCheck", "check_hyperliquid"]
