"""Loopback <Venue> server (tests, demos): its wire format on 127.0.0.1.  (TEMPLATE.)

Built on :class:`liqmap.venues._shared.loopback.LoopbackServer`, which replays a ``Bars``
series and misbehaves on purpose (``drop_after``, ``refuse``, ``skip``, ``stall``). Give the
frames of each bar as the venue sends them (an open bar first, then the closed one) and
the REST answers the client's backfill asks for, from the same bars.
"""

from __future__ import annotations

from typing import Any

from liqmap.venues._shared.loopback import LoopbackServer
from liqmap.venues._shared.spec import VenueSpec
from liqmap.venues._template.spec import NAME, symbol_spec

__all__ = ["TemplateLoopback"]


class TemplateLoopback(LoopbackServer):
    """The venue's websocket and REST paths (name it ``<Venue>Loopback``)."""

    venue = NAME

    def spec_for(self, symbol: str) -> VenueSpec:
        return symbol_spec(symbol)

    @property
    def ws_url(self) -> str:
        return f"ws://{self.base}"

    def bar_frames(self, i: int) -> list[str]:
        raise NotImplementedError("TEMPLATE: the websocket frames of bar i")

    def rest(self, path: str, params: dict) -> Any:
        raise NotImplementedError("TEMPLATE: the REST answer of path (None if unknown)")
