"""<Venue> history: how ``liqmap download --venue <name>`` fetches it.  (TEMPLATE.)

Through ccxt (most venues): give the venue's :class:`VenueConfig` in :data:`CCXT` (market
types to load, the largest page per request, the funding interval); ccxt parses the
payloads and :class:`liqmap.venues.CcxtHistory` pages, retries and writes day files. Say
here which ``fetch_*`` methods ccxt has for the venue.

A venue with a public file archive also defines ``download_archive(symbol, first, last,
names, out, tally, *, base_url, progress, store, http, retry, sleep)``, as
:func:`liqmap.venues.binance.history.download_archive` does; the registry then sends
``download --venue <NAME>`` there.
"""

from __future__ import annotations

from liqmap.venues._shared.spec import VenueConfig

__all__ = ["CCXT"]

#: ccxt exchange ids served by ``CcxtHistory``, e.g.
#: ``(VenueConfig("<ccxt id>", ("swap",), ohlcv_limit, oi_limit, funding_limit),)``.
CCXT: tuple[VenueConfig, ...] = ()
