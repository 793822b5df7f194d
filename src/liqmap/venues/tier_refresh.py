"""Fetch a venue's current maintenance-margin tiers through ccxt (``liqmap tiers --refresh``).

Bybit and OKX linear (USDT) perpetuals: their ccxt ``fetch_market_leverage_tiers`` is public
(no API key); the answer becomes a :class:`~liqmap.core.tiers.TierTable` through
:func:`~liqmap.core.tiers.tiers_from_leverage_tiers`. Hyperliquid perpetuals: its margin
tables are public in the ``meta`` answer of ``POST /info {"type": "meta"}`` (ccxt
``publicPostInfo``; ccxt has no leverage tiers for Hyperliquid): the coin's
``universe[i].marginTableId`` names one of ``marginTables``, read by
:func:`~liqmap.core.tiers.tiers_from_margin_table`; an id below :data:`FLAT_TABLES_BELOW` is
an implicit single-tier table at that leverage (not listed in ``marginTables``). Binance is
refused: its brackets come only from a signed (API-key) call. A table is versioned by the
fetch date (UTC), which ``DuckDBStore.write_tier_table`` keeps and
``get_tier_table(..., stored=...)`` looks up.

Errors: the venue unreachable after retries -> :class:`liqmap.RetryLaterError`; a refused
request or an unknown symbol -> :class:`liqmap.InputError`; a malformed answer (a table id
that is not an integer, lower bounds not increasing) -> :class:`liqmap.DataError`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from liqmap._exceptions import ConfigError, DataError, InputError
from liqmap.core.tiers import (
    TierTable,
    check_venue,
    tiers_from_leverage_tiers,
    tiers_from_margin_table,
)
from liqmap.venues._shared.http import RetryPolicy
from liqmap.venues.ccxt_history import CcxtHistory, make_exchange
from liqmap.venues.hyperliquid.spec import ccxt_symbol as hl_ccxt_symbol

__all__ = ["FLAT_TABLES_BELOW", "REFRESH_VENUES", "fetch_tier_table", "refresh_symbols"]

REFRESH_VENUES = ("bybit", "okx", "hyperliquid")
_QUOTE = "USDT"
_HL_QUOTE = "USDC"
#: The ``POST /info`` body whose answer holds Hyperliquid's margin tables.
_HL_META_REQUEST = {"type": "meta"}
_HL_NAMES_SHOWN = 40
#: Hyperliquid margin table ids below this are implicit single-tier tables whose id is the
#: max leverage (``marginTableId`` 20: 20x at every size); meta does not list them (public
#: SDKs: ``FLAT_TABLES_BELOW = 50``).
FLAT_TABLES_BELOW = 50


def refresh_symbols(venue: str, symbol: str | None) -> tuple[str, str]:
    """``(venue-native, ccxt unified)`` symbols of a linear perpetual on ``venue``: USDT on
    Bybit and OKX, USDC on Hyperliquid (the coin, as the venue names it).

    >>> refresh_symbols("okx", "ETH-USDT-SWAP"), refresh_symbols("bybit", "BTC/USDT:USDT")
    (('ETH-USDT-SWAP', 'ETH/USDT:USDT'), ('BTCUSDT', 'BTC/USDT:USDT'))
    >>> refresh_symbols("hyperliquid", "eth"), refresh_symbols("hyperliquid", "kPEPE/USDC:USDC")
    (('ETH', 'ETH/USDC:USDC'), ('kPEPE', 'kPEPE/USDC:USDC'))
    """
    check_venue(venue)
    if venue not in REFRESH_VENUES:
        raise InputError(
            f"--refresh cannot fetch {venue} tiers: Binance gives its leverage brackets only "
            "through a signed call (/fapi/v1/leverageBracket, /dapi/v2/leverageBracket need "
            "an API key, which liqmap does not use); use --venue bybit, okx or hyperliquid, "
            f"or the shipped {venue} tables (liqmap tiers --venue {venue}, without --refresh)")
    if venue == "hyperliquid":
        return _hyperliquid_symbols(symbol)
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


def _hyperliquid_symbols(symbol: str | None) -> tuple[str, str]:
    """Hyperliquid coin and ccxt symbol of ``symbol`` (``ETH`` or ``ETH/USDC:USDC``)."""
    coin, slash, rest = (symbol or "BTC").partition("/")
    unified = hl_ccxt_symbol(coin, "hyperliquid")
    if unified is None or (slash and rest.upper() != f"{_HL_QUOTE}:{_HL_QUOTE}"):
        raise InputError(f"--refresh needs a hyperliquid USDC perpetual, got {symbol!r}; give "
                         "the coin (ETH) or the ccxt symbol (ETH/USDC:USDC)")
    return unified.split("/")[0], unified


def fetch_tier_table(venue: str, symbol: str | None = None, *, rest_url: str | None = None,
                     now_ms: int | None = None, retry: RetryPolicy = RetryPolicy(attempts=3),
                     sleep: Callable[[float], None] | None = None) -> TierTable:
    """The venue's current tier table of ``symbol``, versioned by the fetch date (UTC).

    Parameters
    ----------
    venue : {"bybit", "okx", "hyperliquid"}
    symbol : str, optional
        Venue-native or ccxt symbol of a USDT (Bybit, OKX) or USDC (Hyperliquid: the coin,
        ``ETH``) perpetual; default BTC.
    rest_url : str, optional
        Send the requests to this scheme+host instead of the venue's (a mirror, a loopback).
    now_ms : int, optional
        Fetch time (Unix ms) that dates the table; default the clock.
    """
    native, unified = refresh_symbols(venue, symbol)
    hist = CcxtHistory(make_exchange(venue, api_url=rest_url), retry=retry,
                       sleep=sleep if sleep is not None else time.sleep)
    stamp = int(time.time() * 1000) if now_ms is None else int(now_ms)
    where = rest_url or "the venue"
    if venue == "hyperliquid":
        return _hyperliquid_table(hist, native, stamp, where)
    market = hist.market(unified)
    records = hist.fetch_leverage_tiers(unified)
    okx = venue == "okx"
    ct = float(market.get("contractSize") or 1.0) if okx else 1.0
    tiers = tiers_from_leverage_tiers(records, size_scale=ct)
    day = datetime.fromtimestamp(stamp / 1000, UTC).strftime("%Y-%m-%d")
    last = max(records, key=lambda r: float(r.get("minNotional") or 0))  # parsed: not empty
    cap = last.get("maxNotional")
    source = (f"{venue} {native} tiers fetched {day} from {where} through ccxt "
              f"fetch_market_leverage_tiers ({len(records)} tiers"
              f"{', sizes in contracts x ctVal ' + format(ct, 'g') if okx else ''}); every "
              f"tier from that answer, the last one's cap ({cap}) extended to infinity.")
    return TierTable(venue=venue, symbol=native, version=day, source=source, tiers=tiers,
                     contract_size=ct, notional_unit="coin" if okx else "usd", verified=True)


def _hyperliquid_table(hist: CcxtHistory, coin: str, stamp: int, where: str) -> TierTable:
    """``coin``'s margin table from Hyperliquid's ``meta`` answer (ccxt ``publicPostInfo``)."""
    what = 'hyperliquid POST /info {"type": "meta"}'
    meta = hist.call("publicPostInfo", dict(_HL_META_REQUEST))
    universe = meta.get("universe") if isinstance(meta, Mapping) else None
    if not isinstance(universe, list):
        raise DataError(f"the answer has no universe list ({str(meta)[:120]!r}); is --rest-url "
                        "a Hyperliquid API?", source=what)
    assets = [a for a in universe if isinstance(a, Mapping) and isinstance(a.get("name"), str)]
    asset = next((a for a in assets if a["name"] == coin), None)
    if asset is None:  # Hyperliquid spells some coins mixed-case (kPEPE): match ignoring case
        same = [a for a in assets if a["name"].upper() == coin.upper()]
        asset = same[0] if len(same) == 1 else None
    if asset is None:
        names = [a["name"] for a in assets]
        shown = ", ".join(names[:_HL_NAMES_SHOWN])
        more = f" ... ({len(names)} in all)" if len(names) > _HL_NAMES_SHOWN else ""
        raise InputError(f"hyperliquid lists no perpetual {coin!r} in its meta universe; "
                         f"known symbols: {shown or 'none'}{more}")
    name, table_id = str(asset["name"]), asset.get("marginTableId")
    if table_id is not None and not _is_id(table_id):
        raise DataError(f"universe entry {name!r}: marginTableId must be an integer table id, "
                        f"got {str(table_id)[:60]!r}; is --rest-url a Hyperliquid API?",
                        source=what)
    tables = _margin_tables(meta.get("marginTables"), what)
    day = datetime.fromtimestamp(stamp / 1000, UTC).strftime("%Y-%m-%d")
    at = datetime.fromtimestamp(stamp / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    delisted = " (listed as delisted)" if asset.get("isDelisted") else ""
    head = f"hyperliquid {name}{delisted} margin table {table_id}"
    rule = ("MMR = half the initial margin at each tier's max leverage (Hyperliquid docs "
            "'Margin tiers'), deduction by the recurrence; the last tier open-ended.")
    req = f"from {what} (ccxt publicPostInfo) to {where}, fetched {at}"
    if table_id in tables:
        table = tables[table_id]
        margin_tiers = table.get("marginTiers") if isinstance(table, Mapping) else None
        if not isinstance(margin_tiers, list):
            raise DataError(f"margin table {table_id} has no marginTiers list", source=what)
        try:
            tiers = tiers_from_margin_table(margin_tiers)
        except ConfigError as exc:
            raise DataError(f"margin table {table_id} is malformed: {exc}", source=what) from None
        desc = table.get("description", "")
        steps = ", ".join(f"{t.floor_usd:,.0f}+ {t.max_leverage:g}x" for t in tiers)
        source = (f"{head} {desc!r} {req}: {len(tiers)} tiers ({steps} USDC notional); "
                  f"every tier from that answer. {rule}")
        verified = True
    elif (table_id is not None and 0 < table_id < FLAT_TABLES_BELOW
          and _lev(asset, name, what) == table_id):  # implicit: one tier at id x
        tiers = tiers_from_margin_table([{"lowerBound": "0.0", "maxLeverage": table_id}])
        source = (f"{head} {req}: implicit single-tier table {table_id} (ids below "
                  f"{FLAT_TABLES_BELOW} are not listed in meta): {table_id}x at every size, "
                  f"as the universe entry's maxLeverage ({table_id}x) says. {rule}")
        verified = True
    else:  # the answer names a table it does not list: one tier at the coin's max leverage
        lev = _lev(asset, name, what)
        tiers = tiers_from_margin_table([{"lowerBound": "0.0", "maxLeverage": lev}])
        why = ("the answer names no margin table" if table_id is None
               else "that table is not listed in marginTables")
        source = (f"{head} {req}: {why}, so one tier at "
                  f"the universe entry's maxLeverage ({lev:g}x) is applied to every size, NOT "
                  f"verified as the venue's table. {rule}")
        verified = False
    return TierTable(venue="hyperliquid", symbol=name, version=day, source=source,
                     tiers=tiers, notional_unit="usd", verified=verified)


def _is_id(value: Any) -> bool:
    """An integer table id (not a bool, not a float or a string)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _lev(asset: Mapping, name: str, what: str) -> float:
    """The universe entry's ``maxLeverage`` (a number > 0), or a DataError naming it."""
    lev = asset.get("maxLeverage")
    if (isinstance(lev, int | float) and not isinstance(lev, bool) and math.isfinite(lev)
            and lev > 0):
        return float(lev)
    raise DataError(f"universe entry {name!r}: maxLeverage must be a number > 0, got "
                    f"{str(lev)[:60]!r}", source=what)


def _margin_tables(raw: Any, what: str) -> dict[int, Any]:
    """``{id: table}`` from meta's ``marginTables`` (``[[id, {...}], ...]``); an id that is
    not an integer, or one listed twice, is a DataError."""
    if raw is None:
        return {}
    if not isinstance(raw, list) or not all(isinstance(e, list | tuple) and len(e) == 2
                                            for e in raw):
        raise DataError(f"marginTables must be a list of [id, table] pairs, got {str(raw)[:120]!r}",
                        source=what)
    out: dict[int, Any] = {}
    for tid, tbl in raw:
        if not _is_id(tid):
            raise DataError(f"marginTables: a table id must be an integer, got "
                            f"{str(tid)[:60]!r}", source=what)
        if tid in out:
            raise DataError(f"marginTables lists table id {tid} twice", source=what)
        out[tid] = tbl
    return out
