"""What OKX is to liqmap: names, symbols and contract units.

liqmap venue and ccxt id ``okx``. Swaps are named ``BTC-USDT-SWAP`` (``BTC/USDT:USDT``) and
``BTC-USD-SWAP`` (inverse ``BTC/USD:BTC``). Sizes are **contracts**: one BTC-USDT-SWAP
contract is ``ctVal`` = 0.01 BTC. OKX's liquidation rules (linear only) are in
:mod:`liqmap.core.liqprice`.

>>> symbol_spec("BTC/USDT:USDT").to_base(250.0, 90_000.0)
2.5
>>> ccxt_symbol("eth-usd-swap", "okx")
'ETH/USD:ETH'
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from liqmap._exceptions import ConfigError
from liqmap.venues._shared.spec import VenueSpec, checked_rules, spec_of_market, split_symbol

__all__ = ["CCXT_IDS", "CTVAL", "ID_EXAMPLES", "INVERSE_CONTRACT_USD", "NAME", "RULES",
           "ccxt_symbol", "listed_symbol", "spec_from_market", "symbol_spec"]

#: The folder's name: ``liqmap download --venue okx``, ``live --venue okx``.
NAME = "okx"
#: ``liqmap.core`` rules of linear markets (inverse ones have none in liqmap yet).
RULES = {False: "okx"}
#: ccxt exchange ids and the liqmap venue each one is.
CCXT_IDS = {"okx": "okx"}
#: The venue's own id of BTC, per liqmap venue (for error messages).
ID_EXAMPLES = {"okx": "BTC-USDT-SWAP"}
#: Base coin per linear swap contract (``ctVal``) of the built-in symbols, as OKX's
#: instrument list gives them (recorded 2026-09-25, ``tests/core/fixtures/
#: okx_instruments_swap_2026-09-25.json``; no SOL-USDT-SWAP entry was recorded).
CTVAL = {"BTC": 0.01, "ETH": 0.1}
#: USD value of one inverse swap contract (``BTC-USD-SWAP``).
INVERSE_CONTRACT_USD = 100.0

_ID = re.compile(r"([A-Z0-9]+)-(USDT|USDC|USD)-SWAP")


def ccxt_symbol(ident: str, venue: str) -> str | None:
    """The ccxt symbol of an OKX swap id (``BTC-USDT-SWAP``), None if not one."""
    m = _ID.fullmatch(ident.upper())
    if m is None:
        return None
    base, quote = m.groups()
    return f"{base}/USD:{base}" if quote == "USD" else f"{base}/{quote}:{quote}"


def listed_symbol(symbol: str) -> str:
    """The symbol OKX lists for ``symbol``: the same one."""
    return symbol


def symbol_spec(symbol: str) -> VenueSpec:
    """Built-in contract rules of a ccxt symbol on OKX (``ctVal`` of :data:`CTVAL`)."""
    base, quote, settle = split_symbol(symbol)
    inverse = settle == base
    rules = checked_rules(NAME, RULES, inverse)
    size = INVERSE_CONTRACT_USD if inverse else CTVAL.get(base)
    if size is None:
        known = ", ".join(f"{b}/{quote}:{quote}" for b in CTVAL)
        raise ConfigError(f"OKX ctVal of {symbol} is not built in (known: {known}); build the "
                          "spec with spec_from_ccxt_market(exchange.market(symbol))")
    return VenueSpec(venue=NAME, symbol=symbol, venue_symbol=f"{base}-{quote}-SWAP",
                     contract_size=float(size), inverse=inverse, rules=rules)


def spec_from_market(market: Mapping) -> VenueSpec:
    """Contract rules from a ccxt market (``exchange.market(symbol)``: ctVal is its
    ``contractSize``)."""
    return spec_of_market(NAME, RULES, market, lambda m: m["id"])
