"""What Hyperliquid is to liqmap: names, symbols and contract units.

liqmap venue and ccxt id ``hyperliquid``. Perpetuals are USDC-margined: ccxt's
``BTC/USDC:USDC`` is the coin ``BTC`` on the venue. Sizes, volume and open interest are in
coins; margin and prices are in USDC, taken as USD one for one (liqmap's USD figures for
Hyperliquid are USDC). Hyperliquid's liquidation rules are in :mod:`liqmap.core.liqprice`.

>>> symbol_spec("ETH/USDC:USDC").venue_symbol
'ETH'
>>> listed_symbol("BTC/USDT:USDT")
'BTC/USDC:USDC'
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from liqmap._exceptions import ConfigError
from liqmap.venues._shared.spec import VenueSpec, spec_of_market, split_symbol

__all__ = ["CCXT_IDS", "ID_EXAMPLES", "NAME", "RULES", "SZ_DECIMALS", "ccxt_symbol",
           "listed_symbol", "size_decimals", "spec_from_market", "symbol_spec"]

#: The folder's name: ``liqmap download --venue hyperliquid``, ``live --venue hyperliquid``.
NAME = "hyperliquid"
#: ``liqmap.core`` rules of its (linear) perpetuals.
RULES = {False: "hyperliquid"}
#: ccxt exchange ids and the liqmap venue each one is.
CCXT_IDS = {"hyperliquid": "hyperliquid"}
#: The venue's own id of BTC, per liqmap venue (for error messages).
ID_EXAMPLES = {"hyperliquid": "BTC"}
#: Size decimals (``szDecimals``: sizes are multiples of 10**-n coin) of the built-in coins,
#: from the venue's ``meta`` universe recorded 2026-09-25
#: (``tests/core/fixtures/hyperliquid_meta_eth_sol_2026-09-25.json``).
SZ_DECIMALS = {"BTC": 5, "ETH": 4, "SOL": 2}

_COIN = re.compile(r"[A-Za-z0-9]+")


def ccxt_symbol(ident: str, venue: str) -> str | None:
    """The ccxt symbol of a Hyperliquid coin (``BTC``, ``kPEPE``), None if not one."""
    if not _COIN.fullmatch(ident):
        return None
    return f"{ident.upper() if ident == ident.lower() else ident}/USDC:USDC"


def listed_symbol(symbol: str) -> str:
    """The symbol Hyperliquid lists for ``symbol``: USDC perpetuals only, so a linear
    ``BASE/QUOTE:QUOTE`` becomes ``BASE/USDC:USDC``; anything else is kept."""
    base, _, rest = symbol.partition("/")
    quote, _, settle = rest.partition(":")
    if base and quote and settle == quote:
        return f"{base}/USDC:USDC"
    return symbol


def symbol_spec(symbol: str) -> VenueSpec:
    """Hyperliquid perpetual: ``BTC/USDC:USDC`` <-> coin ``BTC``; sizes and OI in coins."""
    base, quote, settle = split_symbol(symbol)
    if quote != "USDC" or settle != "USDC":
        raise ConfigError(f"symbol {symbol!r}: Hyperliquid perpetuals are USDC-margined; use "
                          f"'{base}/USDC:USDC' (ccxt's Hyperliquid symbol)")
    return VenueSpec(venue=NAME, symbol=symbol, venue_symbol=base, contract_size=1.0,
                     inverse=False, rules=RULES[False])


def size_decimals(symbol: str) -> int:
    """Size decimals of a Hyperliquid coin (``ETH``) or ccxt symbol (``ETH/USDC:USDC``).

    >>> size_decimals("ETH/USDC:USDC"), size_decimals("SOL")
    (4, 2)
    """
    coin = symbol.partition("/")[0]
    if coin not in SZ_DECIMALS:
        raise ConfigError(f"Hyperliquid szDecimals of {symbol!r} is not built in (known: "
                          f"{', '.join(SZ_DECIMALS)}); read it from the venue's meta universe")
    return SZ_DECIMALS[coin]


def spec_from_market(market: Mapping) -> VenueSpec:
    """Contract rules from a ccxt market (the coin is its ``baseName``, else ``base``)."""
    return spec_of_market(NAME, RULES, market, lambda m: m.get("baseName") or m["base"])
