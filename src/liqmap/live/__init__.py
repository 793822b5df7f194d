"""Live mode: backfill over REST, stream closed bars and liquidations, update per bar.

==========================  ==============================================================
``IncrementalModel``        a ``LiquidationModel`` advanced one closed bar at a time
``LiveRunner``              backfill, stream, reconnect, fill gaps, one model per venue
``VenueFeed``, ``Backoff``  a venue's stream + REST clients; reconnect delays
``venue_feeds``             the feeds of named venues (clients from the venue registry)
``BarUpdate``, ``GapEvent`` what a bar did to a model; a gap filled over REST
``RecordingSink``,          where the runner sends bars, gaps and liquidations
``StoreSink``, ``TeeSink``
==========================  ==============================================================

The venue clients (``BinanceStream``/``BinanceRest``, ``BybitStream``, ``OkxStream``,
``HyperliquidStream``, ...), their wire records (``LiveBar``, ``LiveLiquidation``), contract
units (``venue_spec``) and loopback servers are in each venue's folder under
:mod:`liqmap.venues` (``liqmap.venues.binance.live``, ``liqmap.venues.binance.loopback``...).
"""

from __future__ import annotations

from liqmap.live.engine import IncrementalModel
from liqmap.live.records import BarUpdate, GapEvent
from liqmap.live.runner import Backoff, LiveRunner, VenueFeed, venue_feeds
from liqmap.live.sinks import RecordingSink, StoreSink, TeeSink

__all__ = [
    "Backoff",
    "BarUpdate",
    "GapEvent",
    "IncrementalModel",
    "LiveRunner",
    "RecordingSink",
    "StoreSink",
    "TeeSink",
    "VenueFeed",
    "venue_feeds",
]
