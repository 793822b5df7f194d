"""Hyperliquid history: ccxt's public REST methods, paged with Hyperliquid's limits.

``liqmap download --venue hyperliquid`` fetches klines and funding (settled every hour)
through :class:`liqmap.venues.CcxtHistory`, configured here. ccxt has no open-interest
history, leverage tiers or liquidations for Hyperliquid (the venue publishes only the
current open interest: see :mod:`liqmap.venues.hyperliquid.live`); the window C recordings
are read by :mod:`liqmap.venues.hyperliquid.files`.
"""

from __future__ import annotations

from liqmap.venues._shared.spec import VenueConfig

__all__ = ["CCXT"]

#: ccxt exchange ids served by :class:`liqmap.venues.CcxtHistory`: swaps, pages of 5000
#: klines and 500 records, funding every hour.
CCXT = (VenueConfig("hyperliquid", ("swap",), 5000, 500, 500, 1.0),)
