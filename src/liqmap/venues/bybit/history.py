"""Bybit history: ccxt's public REST methods, paged with Bybit's limits.

``liqmap download --venue bybit`` fetches klines (``fetch_ohlcv``), open interest
(``fetch_open_interest_history``), funding (``fetch_funding_rate_history``) and leverage
tiers through :class:`liqmap.venues.CcxtHistory`, configured here. ccxt has no
liquidation history for Bybit (``fetchLiquidations``).
"""

from __future__ import annotations

from liqmap.venues._shared.spec import VenueConfig

__all__ = ["CCXT"]

#: ccxt exchange ids served by :class:`liqmap.venues.CcxtHistory`: linear and inverse
#: perpetuals; pages of 1000 klines, 200 open-interest and 200 funding records.
CCXT = (VenueConfig("bybit", ("linear", "inverse"), 1000, 200, 200),)
