"""Fetch a venue's current maintenance-margin tiers through ccxt (``liqmap tiers --refresh``).

Bybit and OKX linear (USDT) perpetuals only: their ccxt ``fetch_market_leverage_tiers`` is
public (no API key). The answer becomes a :class:`~liqmap.core.tiers.TierTable` through
:func:`~liqmap.core.tiers.tiers_from_leverage_tiers`, versioned by the fetch date (UTC), which
``DuckDBStore.write_tier_table`` keeps and ``get_tier_table(..., stored=...)`` looks up.

Errors: the venue unreachable after retries -> :class:`liqmap.RetryLaterError`; a refused
request or an unknown symbol -> :class:`liqmap.InputError`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from liqmap._exceptions import InputError
from liqmap.core.tiers import TierTable, check_venue, tiers_from_leverage_tiers
from liqmap.venues._shared.http import RetryPolicy
from liqmap.venues.ccxt_history import CcxtHistory, make_exchange

__all__ = ["REFRESH_VENUES", "fetch_tier_table", "refresh_symbols"]

REFRESH_VENUES = ("bybit", "okx")
_QUOTE = "USDT"


def refresh_symbols(venue: str, symbol: str | None) -> tuple[str, str]:
    """``(venue-native, ccxt unified)`` symbols of a linear USDT perpetual on ``venue``.

    >>> refresh_symbols("okx", "ETH-USDT-SWAP"), refresh_symbols("bybit", "BTC/USDT:USDT")
    (('ETH-USDT-SWAP', 'ETH/USDT:USDT'), ('BTCUSDT', 'BTC/USDT:USDT'))
    """
    check_venue(venue)
    if venue not in REFRESH_VENUES:
        raise InputError(f"--refresh fetches bybit and okx tiers only (public ccxt "
                         f"fetch_market_leverage_tiers), not {venue!r}; use --venue bybit or okx")
    sym = (symbol or f"BTC/{_QUOTE}:{_QUOTE}").upper()
    if sym.endswith(f"/{_QUOTE}:{_QUOTE}"):
        base = sym.split("/")[0]
    elif venue == "okx" and sym.endswith(f"-{_QUOTE}-SWAP"):
        base = sym[: -len(f"-{_QUOTE}-SWAP")]
    elif venue == "bybit" and sym.endswith(_QUOTE) and "-" not in sym and "/" not in sym:
        base = sym[: -len(_QUOTE)]
    else:
        raise InputError(f"--refresh needs a {venue} linear USDT perpetual, got {symbol!r}; "
                         "give e.g. BTC/USDT:USDT")
    if not base.isalnum():
        raise InputError(f"cannot read a coin from symbol {symbol!r}; give e.g. BTC/USDT:USDT")
    native = f"{base}-{_QUOTE}-SWAP" if venue == "okx" else f"{base}{_QUOTE}"
    return native, f"{base}/{_QUOTE}:{_QUOTE}"


def fetch_tier_table(venue: str, symbol: str | None = None, *, rest_url: str | None = None,
                     now_ms: int | None = None, retry: RetryPolicy = RetryPolicy(attempts=3),
                     sleep: Callable[[float], None] | None = None) -> TierTable:
    """The venue's current tier table of ``symbol``, versioned by the fetch date (UTC).

    Parameters
    ----------
    venue : {"bybit", "okx"}
    symbol : str, optional
        Venue-native or ccxt symbol of a USDT perpetual; default BTC.
    rest_url : str, optional
        Send the requests to this scheme+host instead of the venue's (a mirror, a loopback).
    now_ms : int, optional
        Fetch time (Unix ms) that dates the table; default the clock.
    """
    native, unified = refresh_symbols(venue, symbol)
    hist = CcxtHistory(make_exchange(venue, api_url=rest_url), retry=retry,
                       sleep=sleep if sleep is not None else time.sleep)
    market = hist.market(unified)
    records = hist.fetch_leverage_tiers(unified)
    okx = venue == "okx"
    ct = float(market.get("contractSize") or 1.0) if okx else 1.0
    tiers = tiers_from_leverage_tiers(records, size_scale=ct)
    stamp = int(time.time() * 1000) if now_ms is None else int(now_ms)
    day = datetime.fromtimestamp(stamp / 1000, UTC).strftime("%Y-%m-%d")
    last = max(records, key=lambda r: float(r.get("minNotional") or 0))  # parsed: not empty
    cap = last.get("maxNotional")
    where = rest_url or "the venue"
    source = (f"{venue} {native} tiers fetched {day} from {where} through ccxt "
              f"fetch_market_leverage_tiers ({len(records)} tiers"
              f"{', sizes in contracts x ctVal ' + format(ct, 'g') if okx else ''}); every "
              f"tier from that answer, the last one's cap ({cap}) extended to infinity.")
    return TierTable(venue=venue, symbol=native, version=day, source=source, tiers=tiers,
                     contract_size=ct, notional_unit="coin" if okx else "usd", verified=True)
