"""The loopback venue server every venue's ``loopback.py`` builds on (tests, demos).

One ``websockets`` server on ``127.0.0.1`` answers both the websocket (klines,
liquidations, tickers) and the REST paths used for backfill (plain HTTP GETs are answered
from ``process_request``; Hyperliquid's REST is JSON POSTs, answered by a second, plain
HTTP server on its own port). It replays a ``Bars`` series as closed bars and can misbehave
on purpose, like a real venue:

* ``drop_after``: after streaming that many bars on the first connection, the TCP
  connection is aborted (no close frame);
* ``refuse``: the next that many connection attempts get HTTP 503;
* ``skip``: the next connection resumes that many bars later (those bars are only
  available over REST);
* ``stall``: instead of dropping, the first connection goes silent (stays open);
* ``refuse_status``: 503 by default, 429 to act as a rate limit (``Retry-After: 0``).

``series`` adds more symbols' bars to the REST side (all closed, for ``liqmap scan
--live``): a request naming one of them (the venue's ``symbol_param``) is answered by
:meth:`LoopbackServer.for_symbol`, a copy of the server over that series.

A venue's subclass sets ``venue``, builds its contract rules in ``spec_for`` and answers
in its wire format: ``bar_frames(i)`` (the websocket frames of bar ``i``), ``rest(path,
params)`` (a REST answer, None for an unknown path), optionally ``on_open`` (a subscribe
handshake), ``on_message`` (pings) and ``flush``; and gives its ``ws_url``.

>>> from liqmap.io.sample import load_sample                     # doctest: +SKIP
>>> from liqmap.venues.binance import BinanceLoopback            # doctest: +SKIP
>>> with BinanceLoopback(load_sample(), start=100, drop_after=5) as srv:  # doctest: +SKIP
...     srv.ws_url, srv.rest_url
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import threading
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

import numpy as np

from liqmap.core.bars import Bars
from liqmap.venues._shared.spec import VenueSpec

__all__ = ["LoopbackServer"]


class LoopbackServer:
    """Threaded server; subclasses give the venue's frames and REST answers."""

    venue = ""
    #: The REST query parameter naming the symbol (``symbol``, ``instId``); "" for none.
    symbol_param = ""

    def __init__(self, bars: Bars, *, start: int, drop_after: int | None = None,
                 refuse: int = 0, skip: int = 0, liquidations: Sequence[dict] = (),
                 bar_delay_s: float = 0.0, stall: bool = False,
                 refuse_status: int = 503, series: Sequence[Bars] = ()) -> None:
        self.bars = bars
        self.bar_ms = bars.bar_ms
        self.spec = self.spec_for(bars.symbol)
        #: More symbols served over REST only, by venue symbol (``ETHUSDT``).
        self.series = {self.spec_for(b.symbol).venue_symbol: b for b in series}
        self.start, self.drop_after, self.refuse, self.skip = start, drop_after, refuse, skip
        self.liquidations = list(liquidations)
        self.bar_delay_s = bar_delay_s
        self.stall, self.refuse_status = stall, refuse_status
        self.connections = 0
        self.refused = 0
        self.dropped = False
        self.streamed: list[int] = []
        self._next = start
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.port = 0

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> Self:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("loopback server did not start")
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._stop.set_result, None)
        self._thread.join(10)
        if not self._thread.is_alive():
            self._loop.close()  # else ResourceWarning: unclosed event loop, when collected

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        from websockets.asyncio.server import serve

        self._stop = self._loop.create_future()
        server = await serve(self._handler, "127.0.0.1", 0, process_request=self._http,
                             ping_interval=None, close_timeout=0.2)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop
        server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 1.0)

    @property
    def base(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def rest_url(self) -> str:
        return f"http://{self.base}"

    # ------------------------------------------------------------------ HTTP side
    def _http(self, connection, request):
        parts = urlsplit(request.path)
        if request.headers.get("Upgrade", "").lower() == "websocket":
            if self.dropped and self.refused < self.refuse:
                self.refused += 1
                resp = connection.respond(HTTPStatus(self.refuse_status), "try later\n")
                resp.headers["Retry-After"] = "0"
                return resp
            return None
        params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        body = self.for_symbol(params.get(self.symbol_param, "")).rest(parts.path, params)
        if body is None:
            return connection.respond(HTTPStatus.NOT_FOUND, "unknown path\n")
        resp = connection.respond(HTTPStatus.OK, json.dumps(body))
        resp.headers["Content-Type"] = "application/json"
        return resp

    def for_symbol(self, venue_symbol: str) -> LoopbackServer:
        """The server answering for ``venue_symbol``: itself, or a shallow copy over that
        one of ``series`` (every bar closed, nothing streamed)."""
        bars = self.series.get(venue_symbol)
        if bars is None or venue_symbol == self.spec.venue_symbol:
            return self
        view = copy.copy(self)
        view.bars, view.spec, view._next = bars, self.spec_for(bars.symbol), len(bars)
        return view

    def _rows(self, lo_ms: int, hi_ms: int, limit: int) -> np.ndarray:
        ts = self.bars.ts_ms
        idx = np.flatnonzero((ts >= lo_ms) & (ts <= hi_ms))
        return idx[:limit]

    # ------------------------------------------------------------------ websocket side
    async def _handler(self, ws) -> None:
        self.connections += 1
        first = self.connections == 1
        if not first and self.dropped and self.skip:
            self._next += self.skip  # the bars in between exist only over REST
            self.skip = 0
        await self.on_open(ws)
        sent = 0
        consumer = asyncio.ensure_future(self._read(ws))
        try:
            while self._next < len(self.bars):
                i = self._next
                frames = self.bar_frames(i)
                await self.flush()
                for frame in frames:
                    await ws.send(frame)
                self.streamed.append(int(self.bars.ts_ms[i]))
                self._next += 1
                sent += 1
                await asyncio.sleep(self.bar_delay_s)
                if first and self.drop_after is not None and sent >= self.drop_after:
                    self.dropped = True
                    if self.stall:  # stay connected, send nothing more
                        await consumer
                        return
                    ws.transport.abort()  # no close frame: a dead TCP connection
                    return
            await consumer
        except Exception:  # noqa: BLE001 - the client went away
            return
        finally:
            consumer.cancel()

    async def _read(self, ws) -> None:
        async for msg in ws:
            reply = self.on_message(json.loads(msg))
            if reply is not None:
                await ws.send(json.dumps(reply))

    async def on_open(self, ws) -> None:  # pragma: no cover - overridden
        return None

    def on_message(self, msg: Any) -> Any:
        return None

    async def flush(self) -> None:
        """Wait until frames a bar queued for other sockets are sent (before its candle)."""
        return None

    def spec_for(self, symbol: str) -> VenueSpec:  # pragma: no cover - overridden
        """The venue's contract rules of ``symbol``."""
        raise NotImplementedError

    def bar_frames(self, i: int) -> list[str]:  # pragma: no cover - overridden
        raise NotImplementedError

    def rest(self, path: str, params: dict) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def _liqs_in(self, i: int) -> list[dict]:
        t0 = int(self.bars.ts_ms[i])
        return [e for e in self.liquidations if t0 <= int(e["T"]) < t0 + self.bar_ms]
