"""Websocket and HTTP plumbing shared by the venue clients (``websockets``, ``httpx``).

A venue stream is an object with ``venue``, ``bar_ms`` and ``async open() -> Connection``;
a :class:`Connection` turns each received message into parsed events
(``LiveBar``, ``LiveLiquidation``, ``OiTick``, ``FundingTick``). The runner owns
reconnects; a connection only reports how it ended:

* :class:`StreamClosed` (``liqmap.RetryLaterError``): the socket dropped or the server
  closed it;
* :class:`RateLimited` (a ``StreamClosed``): HTTP 429/418 on the handshake or a REST
  call, with the server's ``Retry-After`` when given.

>>> isinstance(RateLimited("429", retry_after_s=2.0), StreamClosed)
True
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

from liqmap._exceptions import RetryLaterError
from liqmap.timeutil import UNIT_MS

__all__ = ["Connection", "RateLimited", "StreamClosed", "get_json", "post_json",
           "timeframe_ms"]



class StreamClosed(RetryLaterError):
    """The stream's connection ended (dropped, closed by the server, refused)."""


class RateLimited(StreamClosed):
    """The venue asked us to slow down (HTTP 429/418)."""

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


def timeframe_ms(timeframe: str) -> int:
    """ccxt timeframe (``"1m"``, ``"5m"``, ``"1h"``) in milliseconds.

    >>> timeframe_ms("5m")
    300000
    """
    from liqmap._exceptions import ConfigError

    n, unit = timeframe[:-1], timeframe[-1:]
    if not n.isdigit() or unit not in UNIT_MS or int(n) < 1:
        raise ConfigError(f"timeframe {timeframe!r}: use a ccxt timeframe like '1m', '5m', '1h'")
    return int(n) * UNIT_MS[unit]


class Connection:
    """One open websocket; ``parse(message) -> list of events``; optional keep-alive."""

    def __init__(self, ws: Any, parse: Callable[[Any], list], *,
                 ping: Callable[[], str] | None = None, ping_every_s: float = 20.0) -> None:
        self._ws = ws
        self._parse = parse
        self._pinger = (asyncio.create_task(self._ping_loop(ping, ping_every_s))
                        if ping is not None else None)

    async def _ping_loop(self, ping: Callable[[], str], every_s: float) -> None:
        try:
            while True:
                await asyncio.sleep(every_s)
                await self._ws.send(ping())
        except Exception:  # noqa: BLE001 - the receive side reports the broken socket
            return

    async def next_events(self) -> list:
        """Wait for the next message; its parsed events (may be empty: acks, pongs)."""
        from websockets.exceptions import ConnectionClosed

        try:
            raw = await self._ws.recv()
        except ConnectionClosed as exc:
            raise StreamClosed(f"connection closed ({exc})") from None
        except OSError as exc:
            raise StreamClosed(f"connection lost ({exc})") from None
        return self._parse(json.loads(raw))

    async def send(self, text: str) -> None:
        """Send one text frame."""
        await self._ws.send(text)

    async def close(self) -> None:
        """Close the socket (does not wait long for a server that vanished)."""
        if self._pinger is not None:
            self._pinger.cancel()
        # closing a dead socket may fail in any way
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._ws.close(), 0.25)
        transport = getattr(self._ws, "transport", None)
        if transport is not None and not transport.is_closing():
            transport.abort()  # the peer never answered the close frame


async def open_ws(url: str, *, open_timeout_s: float = 10.0):
    """Connect; handshake refusals become :class:`StreamClosed` / :class:`RateLimited`."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidHandshake, InvalidStatus

    try:
        return await connect(url, open_timeout=open_timeout_s, ping_interval=20.0,
                             ping_timeout=20.0, close_timeout=1.0, max_size=2 ** 22)
    except InvalidStatus as exc:
        code = exc.response.status_code
        if code in (418, 429):
            raise RateLimited(f"{url}: HTTP {code} on connect", retry_after_s=_retry_after(
                exc.response.headers.get("Retry-After"))) from None
        raise StreamClosed(f"{url}: HTTP {code} on connect") from None
    except (TimeoutError, OSError, InvalidHandshake) as exc:
        raise StreamClosed(f"{url}: cannot connect ({exc!r})") from None


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _checked(resp: Any, what: str, hint: str) -> Any:
    """The JSON of an ``httpx`` response; 429/418 -> :class:`RateLimited`, 5xx ->
    :class:`StreamClosed` (retry), other 4xx -> ``InputError`` ending with ``hint``."""
    from liqmap._exceptions import InputError

    if resp.status_code in (418, 429):
        raise RateLimited(f"{what}: HTTP {resp.status_code}",
                          retry_after_s=_retry_after(resp.headers.get("Retry-After")))
    if resp.status_code >= 500:
        raise StreamClosed(f"{what}: HTTP {resp.status_code}")
    if resp.status_code >= 400:
        raise InputError(f"{what}: HTTP {resp.status_code} {resp.text[:200]}; {hint}")
    return resp.json()


async def get_json(client: Any, url: str, params: dict) -> Any:
    """GET ``url`` with ``httpx.AsyncClient``; network errors -> :class:`StreamClosed`,
    status codes as :func:`_checked`."""
    import httpx

    try:
        resp = await client.get(url, params=params)
    except httpx.HTTPError as exc:
        raise StreamClosed(f"GET {url}: {exc!r}") from None
    return _checked(resp, f"GET {url} {params}", "check the symbol and the REST base URL")


async def post_json(client: Any, url: str, body: dict) -> Any:
    """POST a JSON body with ``httpx.AsyncClient``; errors as :func:`get_json`."""
    import httpx

    try:
        resp = await client.post(url, json=body)
    except httpx.HTTPError as exc:
        raise StreamClosed(f"POST {url}: {exc!r}") from None
    return _checked(resp, f"POST {url} {body}",
                    "check the coin, the interval and the REST base URL")
