"""The venues liqmap knows, written once: one folder each, gathered in :data:`VENUES`.

Every venue folder (``liqmap/venues/<name>/``, started from ``_template/``; its README
lists what each file defines) is one module here, keyed by its ``NAME``. Everything that
needs the list of venues reads it from this module:

==========================  ==============================================================
``VENUES``                  name -> venue package (``binance``, ``bybit``, ``okx``,
                            ``hyperliquid``)
``VENUE_ALIASES``           ccxt ids accepted for liqmap venue ids (the store's check)
``CCXT_VENUES``             ccxt id -> :class:`VenueConfig` (``download``, ``CcxtHistory``)
``ARCHIVES``                venue -> its public-archive download (``download --venue
                            binance``)
``LIVE_VENUES``             venues with a live client (``liqmap live``, the runner's feeds)
``venue_of``                the folder of a liqmap venue id (``binance-inverse`` ->
                            ``binance``)
``venue_spec``,             contract units of a symbol or a ccxt market on a venue
``spec_from_ccxt_market``
``listed_symbol``           the symbol a venue lists for a user's ccxt symbol
``live_clients``            (stream, REST) client classes of a venue
==========================  ==============================================================

The pure rules (liquidation formulas, tier tables) stay in :mod:`liqmap.core`; a folder
says which of them its markets use (``RULES``; ``tests/venues/test_registry.py`` checks
that each one is in :data:`liqmap.core.tiers.VENUES`).

>>> list(VENUES)
['binance', 'bybit', 'okx', 'hyperliquid']
>>> VENUE_ALIASES
{'binanceusdm': 'binance', 'binancecoinm': 'binance-inverse'}
>>> venue_spec("okx", "BTC/USDT:USDT").contract_size
0.01
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType

from liqmap._exceptions import ConfigError
from liqmap.venues import binance, bybit, hyperliquid, okx
from liqmap.venues._shared.spec import (
    VenueConfig,
    VenueSpec,
    no_rules_error,
    spec_of_market,
    split_symbol,
)

__all__ = ["ARCHIVES", "CCXT_VENUES", "LIVE_VENUES", "VENUES", "VENUE_ALIASES", "listed_symbol",
           "live_clients", "spec_from_ccxt_market", "venue_of", "venue_spec"]

#: Every venue folder, by name (the order of ``liqmap live``'s list and of error messages).
VENUES: dict[str, ModuleType] = {m.NAME: m for m in (binance, bybit, okx, hyperliquid)}

#: liqmap venue id (``liqmap.core`` rules id, as the store keys series) -> its folder.
_BY_VENUE_ID = {rules: m for m in VENUES.values() for rules in m.RULES.values()}
#: ccxt exchange ids accepted for liqmap venue ids (identical spellings left out).
VENUE_ALIASES: dict[str, str] = {ccxt: v for m in VENUES.values()
                                 for ccxt, v in m.CCXT_IDS.items() if ccxt != v}
#: ccxt exchange id -> how :class:`liqmap.venues.CcxtHistory` reaches it.
CCXT_VENUES: dict[str, VenueConfig] = {c.venue: c for m in VENUES.values() for c in m.CCXT}
#: venue name -> its public-archive download (``history.download_archive``), where it has one.
ARCHIVES = {m.NAME: m.download_archive for m in VENUES.values()
            if getattr(m, "download_archive", None) is not None}
#: Venues with a live client (``LIVE_CLIENTS`` in their ``live.py``).
LIVE_VENUES = tuple(n for n, m in VENUES.items() if getattr(m, "LIVE_CLIENTS", None))


def venue_of(venue_id: str) -> ModuleType | None:
    """The folder of a liqmap venue id (``binance``, ``binance-inverse``, ``okx``...), or None.

    >>> venue_of("binance-inverse").NAME
    'binance'
    """
    return _BY_VENUE_ID.get(venue_id)


def venue_spec(venue: str, symbol: str) -> VenueSpec:
    """Built-in contract rules of ``symbol`` on ``venue`` (a folder name).

    Examples
    --------
    >>> venue_spec("binance", "BTC/USD:BTC").to_base(9, 90_000.0)
    0.01
    """
    split_symbol(symbol)
    if venue not in VENUES:
        *first, last = VENUES
        raise ConfigError(f"no contract rules for venue {venue!r}: use {', '.join(first)} or "
                          f"{last}")
    return VENUES[venue].symbol_spec(symbol)


def spec_from_ccxt_market(venue: str, market: Mapping) -> VenueSpec:
    """Contract rules from a ccxt market dict (``exchange.market(symbol)``)."""
    if venue not in VENUES:  # the market's checks first, then: no rules for this venue
        spec_of_market(venue, {}, market, lambda m: "")
        raise no_rules_error(venue, bool(market.get("inverse")))  # pragma: no cover
    return VENUES[venue].spec_from_market(market)


def listed_symbol(venue: str, symbol: str) -> str:
    """The symbol ``venue`` lists for a user's ccxt ``symbol`` (Hyperliquid: USDC perpetuals).

    >>> listed_symbol("hyperliquid", "BTC/USDT:USDT"), listed_symbol("okx", "BTC/USDT:USDT")
    ('BTC/USDC:USDC', 'BTC/USDT:USDT')
    """
    m = VENUES.get(venue)
    return symbol if m is None else m.listed_symbol(symbol)


def live_clients(venue: str) -> tuple[type, type]:
    """``(stream class, REST class)`` of ``venue``; ConfigError naming the venues that have them.

    >>> [c.__name__ for c in live_clients("bybit")]
    ['BybitStream', 'BybitRest']
    """
    if venue not in LIVE_VENUES:
        raise ConfigError(f"no live client for venue {venue!r}: use {', '.join(LIVE_VENUES)}")
    return VENUES[venue].LIVE_CLIENTS
