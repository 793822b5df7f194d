"""Server-sent events: ``GET /api/v1/stream`` pushes an ``update`` when the data change.

The stream sends one ``update`` event on connect and another each time the source's data
version changes (live mode: a collector appending bars to the store), with the new map's
headline numbers; between them a ``: heartbeat`` comment every ``heartbeat_s`` keeps
proxies from closing the connection. A source that is down produces an ``error`` event
with the reason, and the stream keeps polling until it recovers.

Wire format (one event)::

    event: update
    data: {"venue": "binance", "symbol": "BTC/USDT:USDT", "ts_ms": ..., "price_usd": ...,
           "total_long_usd": ..., "total_short_usd": ..., "data_version": "..."}

>>> format_event("update", {"a": 1})
'event: update\\ndata: {"a":1}\\n\\n'
"""

from __future__ import annotations

import asyncio
import time

import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi.responses import StreamingResponse

from liqmap.service.render import dumps
from liqmap.service.runtime import Unavailable

__all__ = ["format_event", "stream_routes", "update_payload"]


def format_event(event: str, data: dict) -> str:
    """One SSE event (``event:`` and a single-line JSON ``data:``)."""
    return f"event: {event}\ndata: {dumps(data).decode()}\n\n"


def update_payload(view) -> dict:
    """The headline numbers of a view's last map."""
    m = view.final_map
    return {"venue": view.key.venue, "symbol": view.key.symbol, "ts_ms": int(m.ts_ms),
            "price_usd": float(m.price_usd), "total_long_usd": float(np.sum(m.long_usd)),
            "total_short_usd": float(np.sum(m.short_usd)), "data_version": view.version}


async def _events(request: Request, svc, venue, symbol, lookback):
    sent_version, last_beat = None, time.monotonic()
    while not await request.is_disconnected():
        try:
            cat = await svc.guard.get()
            if cat.version != sent_version:
                view = await svc.view(venue, symbol, lookback)
                sent_version = cat.version
                last_beat = time.monotonic()
                yield format_event("update", update_payload(view))
        except Unavailable as exc:
            yield format_event("error", {"detail": exc.reason,
                                         "retry_after_s": exc.retry_after_s})
        except Exception as exc:  # a bad parameter: say so once and end the stream
            yield format_event("error", {"detail": str(getattr(exc, "detail", exc))})
            return
        if time.monotonic() - last_beat >= svc.heartbeat_s:
            last_beat = time.monotonic()
            yield ": heartbeat\n\n"
        await asyncio.sleep(svc.stream_poll_s)


def stream_routes(app: FastAPI, svc) -> None:
    """Register ``/api/v1/stream``."""

    @app.get("/api/v1/stream", tags=["live"], response_class=StreamingResponse,
             responses={200: {"content": {"text/event-stream": {}},
                              "description": "update events (JSON data) and heartbeats"}})
    async def stream(request: Request, venue: str | None = Query(None),
                     symbol: str | None = Query(None), lookback: str = Query("7d")):
        """Server-sent events: ``update`` on connect and whenever the data version changes."""
        await svc.key(venue, symbol, lookback)  # bad parameters: 422 before streaming
        return StreamingResponse(_events(request, svc, venue, symbol, lookback),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache",
                                          "X-Accel-Buffering": "no"})
