"""OKX history: ccxt's public REST methods, paged with OKX's limits.

``liqmap download --venue okx`` fetches klines, open interest (``rubik`` statistics, in
contracts: the files carry coins as well), funding and leverage tiers through
:class:`liqmap.venues.CcxtHistory`, configured here. OKX's funding history is bounded with
its exclusive ``after`` cursor (``funding_until="after"``): ccxt 4.5 does not set it from
``until``, and ``before`` alone answers the *latest* settlements.
"""

from __future__ import annotations

from liqmap.venues._shared.spec import VenueConfig

__all__ = ["CCXT"]

#: ccxt exchange ids served by :class:`liqmap.venues.CcxtHistory`: swaps, pages of 100.
CCXT = (VenueConfig("okx", ("swap",), 100, 100, 100, funding_until="after"),)
