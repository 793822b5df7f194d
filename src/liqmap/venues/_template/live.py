"""<Venue> live clients: websocket stream and REST backfill, parsed at the edge.  (TEMPLATE.)

Document the wire format here, as the other folders do: the stream URL and how to
subscribe and keep alive; each channel's frame and the fields used (which flag says a bar
is closed, which side means a long was liquidated, the units of sizes and open interest);
the REST paths, their paging and limits. Payloads become the wire records of
:mod:`liqmap.venues` (``LiveBar``, ``LiveLiquidation``, ``OiTick``, ``FundingTick``), in
base units through the market's :class:`~liqmap.venues.VenueSpec`; nothing else leaves.

The runner (:class:`liqmap.live.LiveRunner`) needs from the stream ``venue``, ``bar_ms``,
``has_oi_stream`` and ``async open() -> Connection``; from the REST client (a
:class:`~liqmap.venues._shared.rest.RestBars`) ``fetch_ohlcv``,
``fetch_open_interest_history`` and ``fetch_open_interest`` (and ``fetch_liquidations`` where
the venue publishes a liquidation history). End a connection with ``StreamClosed`` /
``RateLimited`` (:mod:`liqmap.venues._shared.ws`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from liqmap.venues._shared.records import LiveBar
from liqmap.venues._shared.rest import RestBars
from liqmap.venues._shared.spec import VenueSpec
from liqmap.venues._shared.ws import Connection, timeframe_ms
from liqmap.venues._template.spec import NAME, symbol_spec

__all__ = ["LIVE_CLIENTS", "TemplateRest", "TemplateStream", "parse_message"]


def parse_message(msg: Any, spec: VenueSpec) -> list:
    """Events (``LiveBar``, ``LiveLiquidation``, ``OiTick``, ``FundingTick``) of one decoded
    message of ``spec``'s symbol; acks and pongs give none."""
    raise NotImplementedError("TEMPLATE: parse one websocket message")


class TemplateStream:
    """Websocket client for one symbol (name it ``<Venue>Stream``)."""

    venue = NAME

    def __init__(self, symbol: str = "BTC/USDT:USDT", timeframe: str = "5m", *,
                 url: str | None = None, spec: VenueSpec | None = None) -> None:
        self.spec = spec or symbol_spec(symbol)
        self.bar_ms = timeframe_ms(timeframe)
        self.url = url
        self.has_oi_stream = False

    async def open(self) -> Connection:
        """Connect (``open_ws``), subscribe, and parse with :func:`parse_message`."""
        raise NotImplementedError("TEMPLATE: connect and subscribe")


class TemplateRest(RestBars):
    """REST backfill for one symbol (name it ``<Venue>Rest``)."""

    venue = NAME

    def __init__(self, symbol: str = "BTC/USDT:USDT", timeframe: str = "5m", *,
                 url: str | None = None, spec: VenueSpec | None = None) -> None:
        self.spec = spec or symbol_spec(symbol)
        self.bar_ms = timeframe_ms(timeframe)
        self.base_url = url

    async def fetch_ohlcv(self, client, since_ms: int, until_ms: int) -> list[LiveBar]:
        """Closed bars opening in ``[since_ms, until_ms]``, paged."""
        raise NotImplementedError("TEMPLATE: page the venue's klines")

    async def fetch_open_interest_history(self, client, since_ms: int,
                                          until_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """Open-interest snapshots ``(ts_ms, base)`` stamped in ``[since_ms, until_ms]``."""
        raise NotImplementedError("TEMPLATE: page the venue's open-interest history")

    async def fetch_open_interest(self, client) -> tuple[int, float]:
        """The current open interest ``(time_ms, base)``."""
        raise NotImplementedError("TEMPLATE: the venue's current open interest")


#: The clients ``liqmap live --venue <NAME>`` builds: (stream, REST backfill).
LIVE_CLIENTS = (TemplateStream, TemplateRest)
