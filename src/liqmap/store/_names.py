"""Venue and symbol names as the store keeps them: liqmap venue ids and ccxt symbols.

A stored series is keyed by ``(venue, symbol)``. Every write checks both and stores the
canonical spelling, so that what one command stores, the map API and the dashboard find:

- **venue**: one of :data:`liqmap.core.tiers.VENUES`, the venues whose liquidation rules
  liqmap has (a map of any other venue cannot be computed, and the API refuses it). ccxt
  exchange ids are accepted as aliases (:data:`liqmap.venues.VENUE_ALIASES`, from the
  venue folders: ``binanceusdm`` -> ``binance``, ``binancecoinm`` -> ``binance-inverse``),
  in any case and with surrounding spaces.
- **symbol**: a ccxt unified perpetual symbol (``BTC/USDT:USDT``, inverse ``BTC/USD:BTC``,
  dated ``BTC/USDT:USDT-250328``) or the venue's own id, converted to the ccxt symbol by
  the venue's folder (``ccxt_symbol`` in ``liqmap.venues.<venue>.spec``):
  ``BTCUSDT`` / ``BTCUSD_PERP`` (Binance), ``BTCUSDT`` / ``BTCUSD`` (Bybit),
  ``BTC-USDT-SWAP`` (OKX), ``BTC`` (Hyperliquid, USDC-margined).

Nothing here touches a database; the names are checked before any write begins.
"""

from __future__ import annotations

import re

from liqmap._exceptions import ConfigError
from liqmap.core.tiers import VENUES
from liqmap.venues import VENUE_ALIASES, venue_of

__all__ = ["canonical_series", "canonical_symbol", "canonical_venue"]

_CCXT = re.compile(r"([A-Za-z0-9]+)/([A-Za-z0-9]+)(?::([A-Za-z0-9]+)(-\d{6})?)?")


def _known() -> str:
    aliases = ", ".join(f"{a} -> {v}" for a, v in VENUE_ALIASES.items())
    return f"{', '.join(VENUES)} (ccxt ids accepted: {aliases})"


def canonical_venue(venue: object) -> str:
    """liqmap's id of ``venue``: a known venue id or a ccxt alias, in any case.

    Raises
    ------
    ConfigError
        On an empty or unknown venue; the message lists the known ones.

    Examples
    --------
    >>> canonical_venue("Binance"), canonical_venue("binanceusdm"), canonical_venue(" OKX ")
    ('binance', 'binance', 'okx')
    """
    if not isinstance(venue, str) or not venue.strip():
        raise ConfigError(f"the venue is empty ({venue!r}); give one of {_known()}")
    key = venue.strip().lower()
    key = VENUE_ALIASES.get(key, key)
    if key not in VENUES:
        raise ConfigError(f"unknown venue {venue!r}; use one of {_known()}")
    return key


def _from_ccxt(symbol: str) -> str | None:
    m = _CCXT.fullmatch(symbol)
    if m is None:
        return None
    if m.group(3) is None:
        raise ConfigError(f"symbol {symbol!r} is a spot symbol; liqmap maps perpetual futures: "
                          f"use {symbol}:{m.group(2)} (linear) or {m.group(1)}/USD:{m.group(1)} "
                          "(inverse)")
    return symbol.upper() if symbol == symbol.lower() else symbol


def _from_id(venue: str, ident: str) -> str | None:
    folder = venue_of(venue)
    return None if folder is None else folder.ccxt_symbol(ident, venue)


def canonical_symbol(symbol: object, venue: str) -> str:
    """The ccxt unified symbol of ``symbol`` (a ccxt symbol or ``venue``'s own id).

    ``venue`` must already be canonical (see :func:`canonical_venue`).

    Raises
    ------
    ConfigError
        On an empty symbol, a spot symbol or a spelling that is neither form.

    Examples
    --------
    >>> canonical_symbol("BTCUSDT", "binance"), canonical_symbol("BTC-USD-SWAP", "okx")
    ('BTC/USDT:USDT', 'BTC/USD:BTC')
    >>> canonical_symbol("BTCUSD_PERP", "binance-inverse"), canonical_symbol("BTC", "hyperliquid")
    ('BTC/USD:BTC', 'BTC/USDC:USDC')
    """
    folder = venue_of(venue)
    example = folder.ID_EXAMPLES.get(venue, "BTCUSDT") if folder is not None else "BTCUSDT"
    forms = (f"a ccxt perpetual symbol such as BTC/USDT:USDT (inverse BTC/USD:BTC) or the "
             f"{venue} id such as {example}")
    if not isinstance(symbol, str) or not symbol.strip():
        raise ConfigError(f"the symbol is empty ({symbol!r}); give {forms}")
    text = symbol.strip()
    found = _from_ccxt(text) if "/" in text else _from_id(venue, text)
    if found is None:
        raise ConfigError(f"symbol {symbol!r} is not understood for {venue}; give {forms}")
    return found


def canonical_series(venue: object, symbol: object) -> tuple[str, str]:
    """``(venue, symbol)`` as the store keeps them; ConfigError saying what is allowed.

    Examples
    --------
    >>> canonical_series("BinanceUSDM", "btcusdt")
    ('binance', 'BTC/USDT:USDT')
    """
    name = canonical_venue(venue)
    return name, canonical_symbol(symbol, name)
