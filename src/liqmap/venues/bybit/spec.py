"""What Bybit is to liqmap: names, symbols and contract units.

liqmap venue and ccxt id ``bybit``. Linear perpetuals (``BTC/USDT:USDT`` is ``BTCUSDT``)
have one base coin per contract; inverse perpetuals (``BTC/USD:BTC`` is ``BTCUSD``) one USD
per contract. Bybit's liquidation rules (linear only) are in :mod:`liqmap.core.liqprice`.

>>> symbol_spec("BTC/USDT:USDT").venue_symbol
'BTCUSDT'
>>> ccxt_symbol("BTCUSD", "bybit")
'BTC/USD:BTC'
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from liqmap.venues._shared.spec import (
    VenueSpec,
    checked_rules,
    linear_ccxt_symbol,
    spec_of_market,
    split_symbol,
)

__all__ = ["CCXT_IDS", "ID_EXAMPLES", "INVERSE_CONTRACT_USD", "NAME", "RULES", "ccxt_symbol",
           "listed_symbol", "spec_from_market", "symbol_spec"]

#: The folder's name: ``liqmap download --venue bybit``, ``live --venue bybit``.
NAME = "bybit"
#: ``liqmap.core`` rules of linear markets (inverse ones have none in liqmap yet).
RULES = {False: "bybit"}
#: ccxt exchange ids and the liqmap venue each one is.
CCXT_IDS = {"bybit": "bybit"}
#: The venue's own id of BTC, per liqmap venue (for error messages).
ID_EXAMPLES = {"bybit": "BTCUSDT"}
#: USD value of one inverse contract (``BTCUSD``).
INVERSE_CONTRACT_USD = 1.0

_INVERSE_ID = re.compile(r"([A-Z0-9]+?)USD")


def ccxt_symbol(ident: str, venue: str) -> str | None:
    """The ccxt symbol of a Bybit id (``BTCUSDT``, inverse ``BTCUSD``), None if not one."""
    upper = ident.upper()
    found = linear_ccxt_symbol(upper)
    if found is not None:
        return found
    m = _INVERSE_ID.fullmatch(upper)
    return None if m is None else f"{m.group(1)}/USD:{m.group(1)}"


def listed_symbol(symbol: str) -> str:
    """The symbol Bybit lists for ``symbol``: the same one."""
    return symbol


def symbol_spec(symbol: str) -> VenueSpec:
    """Built-in contract rules of a ccxt symbol on Bybit (linear perpetuals)."""
    base, quote, settle = split_symbol(symbol)
    inverse = settle == base
    rules = checked_rules(NAME, RULES, inverse)
    return VenueSpec(venue=NAME, symbol=symbol, venue_symbol=f"{base}{quote}",
                     contract_size=INVERSE_CONTRACT_USD if inverse else 1.0, inverse=inverse,
                     rules=rules)


def spec_from_market(market: Mapping) -> VenueSpec:
    """Contract rules from a ccxt market (``exchange.market(symbol)``)."""
    return spec_of_market(NAME, RULES, market, lambda m: m["id"])
