"""Studies over a window of bars: market state and level reaction / magnet tests.

- :mod:`liqmap.studies.market_state`: open-interest flush, realized liquidations per day,
  funding reset, long/short imbalance trend ("the $9B flush", "funding has reset").
- :mod:`liqmap.studies.reaction`: what price does when it reaches a map cluster, against
  random levels at the same distance, and whether the largest cluster draws price.
"""

from __future__ import annotations

from liqmap.studies.market_state import MarketState, OIFlush, market_state

__all__ = ["MarketState", "OIFlush", "market_state"]
