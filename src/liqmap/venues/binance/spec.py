"""What Binance futures are to liqmap: names, symbols and contract units.

Two markets, one folder: USDⓈ-M (linear, liqmap venue ``binance``, ccxt ``binanceusdm``)
and COIN-M (inverse, liqmap venue ``binance-inverse``, ccxt ``binancecoinm``). Their
liquidation rules (formulas, tier tables) are in :mod:`liqmap.core.liqprice` and
:mod:`liqmap.core.tiers`.

Symbols: ``BTC/USDT:USDT`` is ``BTCUSDT`` (dated ``BTCUSDT_250328``); ``BTC/USD:BTC`` is
``BTCUSD_PERP`` (dated ``BTCUSD_250328``). Sizes: one base coin per USDⓈ-M contract; a
COIN-M contract is worth a fixed USD amount.

>>> symbol_spec("BTC/USD:BTC").to_base(9, 90_000.0)
0.01
>>> ccxt_symbol("BTCUSD_PERP", "binance-inverse")
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

#: The folder's name: ``liqmap download --venue binance`` (the archive), ``live --venue``.
NAME = "binance"
#: ``liqmap.core`` rules of linear (False) and inverse (True) markets; also the store's ids.
RULES = {False: "binance", True: "binance-inverse"}
#: ccxt exchange ids and the liqmap venue each one is.
CCXT_IDS = {"binanceusdm": "binance", "binancecoinm": "binance-inverse"}
#: The venue's own id of BTC, per liqmap venue (for error messages).
ID_EXAMPLES = {"binance": "BTCUSDT", "binance-inverse": "BTCUSD_PERP"}
#: USD value of one COIN-M contract as the live clients count it (right for BTCUSD_PERP;
#: the archive loader uses 10 USD for the other coins, see ``history.COINM_CONTRACT_USD``).
INVERSE_CONTRACT_USD = 100.0

_CM_ID = re.compile(r"([A-Z0-9]+?)USD_(PERP|\d{6})")


def ccxt_symbol(ident: str, venue: str) -> str | None:
    """The ccxt symbol of a Binance id (``BTCUSDT``, ``BTCUSD_PERP``), None if not one.

    >>> ccxt_symbol("BTCUSDT_250328", "binance")
    'BTC/USDT:USDT-250328'
    """
    upper = ident.upper()
    m = _CM_ID.fullmatch(upper)
    if m is not None:
        base, when = m.groups()
        return f"{base}/USD:{base}" + ("" if when == "PERP" else f"-{when}")
    return linear_ccxt_symbol(upper)


def listed_symbol(symbol: str) -> str:
    """The symbol Binance lists for ``symbol``: the same one."""
    return symbol


def symbol_spec(symbol: str) -> VenueSpec:
    """Built-in contract rules of a ccxt symbol on Binance.

    >>> symbol_spec("BTC/USDT:USDT").venue_symbol
    'BTCUSDT'
    """
    base, quote, settle = split_symbol(symbol)
    inverse = settle == base
    rules = checked_rules(NAME, RULES, inverse)
    return VenueSpec(venue=NAME, symbol=symbol,
                     venue_symbol=f"{base}{quote}" + ("_PERP" if inverse else ""),
                     contract_size=INVERSE_CONTRACT_USD if inverse else 1.0, inverse=inverse,
                     rules=rules)


def spec_from_market(market: Mapping) -> VenueSpec:
    """Contract rules from a ccxt market (``exchange.market(symbol)``)."""
    return spec_of_market(NAME, RULES, market, lambda m: m["id"])
