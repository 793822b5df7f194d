"""What <Venue> is to liqmap: names, symbols and contract units.  (TEMPLATE: fill me in.)

Say here, with sources: the liqmap venue id(s) and ccxt id(s); how the venue spells a
symbol (``BTC/USDT:USDT`` is ...); what one unit of its sizes and open interest is (coins,
contracts of ``ctVal``, USD per inverse contract). The liquidation rules (formula, tier
table) are not here: they go to :mod:`liqmap.core.liqprice` and :mod:`liqmap.core.tiers`,
and :data:`RULES` names them.

>>> symbol_spec("BTC/USDT:USDT")  # doctest: +SKIP
VenueSpec(venue='template', symbol='BTC/USDT:USDT', venue_symbol='BTCUSDT', ...)
"""

from __future__ import annotations

from collections.abc import Mapping

from liqmap.venues._shared.spec import VenueSpec, spec_of_market

__all__ = ["CCXT_IDS", "ID_EXAMPLES", "NAME", "RULES", "ccxt_symbol", "listed_symbol",
           "spec_from_market", "symbol_spec"]

#: The folder's name: ``liqmap download --venue <NAME>``, ``liqmap live --venue <NAME>``.
NAME = "template"
#: ``liqmap.core`` rules id of linear (False) and inverse (True) markets; a kind without
#: rules is left out (its symbols are refused). Each id must be in ``liqmap.core.tiers.VENUES``.
RULES: dict[bool, str] = {}
#: ccxt exchange ids and the liqmap venue id each one is (``{"<ccxt id>": "<venue id>"}``).
CCXT_IDS: dict[str, str] = {}
#: The venue's own id of BTC per liqmap venue id, for error messages (``{"<id>": "BTCUSDT"}``).
ID_EXAMPLES: dict[str, str] = {}


def ccxt_symbol(ident: str, venue: str) -> str | None:
    """The ccxt symbol of a venue id (the store accepts both spellings), None if not one."""
    raise NotImplementedError("TEMPLATE: convert the venue's own id to a ccxt symbol")


def listed_symbol(symbol: str) -> str:
    """The symbol this venue lists for a user's ccxt symbol (most venues: the same one)."""
    return symbol


def symbol_spec(symbol: str) -> VenueSpec:
    """Built-in contract rules of a ccxt symbol here (``split_symbol``, ``checked_rules``)."""
    raise NotImplementedError("TEMPLATE: build the VenueSpec of a ccxt symbol")


def spec_from_market(market: Mapping) -> VenueSpec:
    """Contract rules from a ccxt market (``exchange.market(symbol)``)."""
    return spec_of_market(NAME, RULES, market, lambda m: m["id"])
