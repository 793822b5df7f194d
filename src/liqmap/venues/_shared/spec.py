"""The shapes a venue folder fills in: contract units (:class:`VenueSpec`) and ccxt reach
(:class:`VenueConfig`), with the symbol helpers several venues share.

Venues quote sizes and open interest in their own units:

* **linear contracts** (Binance USDⓈ-M, Bybit linear, Hyperliquid): quantity x contract
  size (1 base coin on Binance and Bybit USDT perpetuals; Hyperliquid sizes are coins);
* **OKX swaps**: contracts x ``ctVal`` (0.01 BTC for BTC-USDT-SWAP);
* **inverse contracts** (Binance COIN-M, Bybit inverse, OKX USD swaps): each contract is
  worth a fixed USD amount (100 USD on Binance COIN-M BTCUSD, 1 USD on Bybit BTCUSD), so
  base = contracts x contract value USD / price.

Each venue's ``spec.py`` builds its :class:`VenueSpec` from a ccxt symbol
(``symbol_spec``) or a ccxt market (``spec_from_market``, through :func:`spec_of_market`);
:func:`liqmap.venues.venue_spec` picks the venue.

>>> spec = VenueSpec("okx", "BTC/USDT:USDT", "BTC-USDT-SWAP", contract_size=0.01, rules="okx")
>>> spec.to_base(100.0, 90_000.0)
1.0
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from liqmap._exceptions import ConfigError
from liqmap.io.oi_units import convert_oi_to_base

__all__ = ["VenueConfig", "VenueSpec", "checked_rules", "linear_ccxt_symbol", "no_rules_error",
           "spec_of_market", "split_symbol"]

_LINEAR_ID = re.compile(r"([A-Z0-9]+?)(USDT|USDC|BUSD)(?:_(\d{6}))?")


@dataclass(frozen=True, slots=True)
class VenueSpec:
    """Contract rules of one venue and symbol.

    Attributes
    ----------
    venue : str
        ccxt venue id (``"binance"``, ``"bybit"``, ``"okx"``).
    symbol : str
        ccxt unified symbol (``"BTC/USDT:USDT"``; inverse ``"BTC/USD:BTC"``).
    venue_symbol : str
        The venue's own id (``"BTCUSDT"``, ``"BTC-USDT-SWAP"``).
    contract_size : float
        Base coin per contract (linear), or USD per contract (inverse).
    inverse : bool
        Inverse (coin-margined) contract.
    rules : str
        ``LiquidationModel(venue=...)`` rules for this market.
    """

    venue: str
    symbol: str
    venue_symbol: str
    contract_size: float = 1.0
    inverse: bool = False
    rules: str = "binance"

    def to_base(self, qty: float, price_usd: float) -> float:
        """A venue quantity (contracts or coin) in base coin at ``price_usd``."""
        return float(self.to_base_array(np.array([qty]), np.array([price_usd]))[0])

    def to_base_array(self, qty: np.ndarray, price_usd: np.ndarray) -> np.ndarray:
        """Vector form of :meth:`to_base` (reuses ``liqmap.io.oi_units``)."""
        if self.inverse:
            usd = np.asarray(qty, float) * self.contract_size
            return convert_oi_to_base(usd, price_usd, oi_unit="usd")
        return convert_oi_to_base(qty, price_usd, oi_unit="contracts",
                                  contract_size=self.contract_size)


@dataclass(frozen=True, slots=True)
class VenueConfig:
    """How one venue is reached through ccxt.

    Attributes
    ----------
    venue : str
        liqmap venue id (also the ccxt exchange id).
    market_types : tuple of str
        ccxt ``options["fetchMarkets"]["types"]`` to load (perpetuals only: loading spot
        and options markets costs many requests and is not needed).
    ohlcv_limit, oi_limit, funding_limit : int
        Largest page the venue returns per request.
    funding_interval_h : float
        Hours between funding settlements when the market does not say.
    funding_until : str
        How a funding page's upper bound reaches the venue: ``"until"`` (ccxt's own
        param) or ``"after"`` (OKX's exclusive ``after`` cursor, which ccxt 4.5 does not
        set from ``until``: without it OKX answers ``before`` alone with its *latest*
        settlements, and every older window comes back empty).
    """

    venue: str
    market_types: tuple[str, ...]
    ohlcv_limit: int
    oi_limit: int
    funding_limit: int
    funding_interval_h: float = 8.0
    funding_until: str = "until"


def split_symbol(symbol: str) -> tuple[str, str, str]:
    """``(base, quote, settle)`` of a ccxt perpetual symbol; ConfigError otherwise.

    >>> split_symbol("BTC/USD:BTC")
    ('BTC', 'USD', 'BTC')
    """
    base, _, rest = symbol.partition("/")
    quote, _, settle = rest.partition(":")
    if not base or not quote or not settle:
        raise ConfigError(f"symbol {symbol!r}: use a ccxt perpetual symbol like "
                          "'BTC/USDT:USDT' (linear) or 'BTC/USD:BTC' (inverse)")
    return base, quote, settle


def linear_ccxt_symbol(ident: str) -> str | None:
    """ccxt symbol of a linear id ``BASEQUOTE`` (``_YYMMDD`` when dated), upper case; else None.

    >>> linear_ccxt_symbol("BTCUSDT"), linear_ccxt_symbol("BTCUSDT_250328")
    ('BTC/USDT:USDT', 'BTC/USDT:USDT-250328')
    """
    m = _LINEAR_ID.fullmatch(ident)
    if m is None:
        return None
    base, quote, when = m.groups()
    return f"{base}/{quote}:{quote}" + (f"-{when}" if when else "")


def checked_rules(venue: str, rules: Mapping[bool, str], inverse: bool) -> str:
    """The ``liqmap.core`` rules id of a linear or inverse market of ``venue``.

    ``rules`` maps ``inverse`` to the rules id (a venue's ``RULES``); ConfigError when
    liqmap has no rules for that kind of market.
    """
    if inverse not in rules:
        raise ConfigError(f"{venue} inverse contracts have no liquidation rules in liqmap yet; "
                          "use a linear symbol like 'BTC/USDT:USDT'")
    return rules[inverse]


def spec_of_market(venue: str, rules: Mapping[bool, str], market: Mapping,
                   venue_symbol: Callable[[Mapping], object]) -> VenueSpec:
    """Contract rules from a ccxt market dict (``exchange.market(symbol)``).

    ``rules`` maps ``inverse`` to the ``liqmap.core`` rules id (a venue's ``RULES``);
    ``venue_symbol(market)`` is the venue's own id of the market.
    """
    size = market.get("contractSize")
    if size is None or not float(size) > 0:
        raise ConfigError(f"market {market.get('symbol')!r} has no contractSize; load the "
                          "exchange's markets first")
    inverse = bool(market.get("inverse"))
    if inverse not in rules:
        raise no_rules_error(venue, inverse)
    return VenueSpec(venue=venue, symbol=str(market["symbol"]),
                     venue_symbol=str(venue_symbol(market)),
                     contract_size=float(size), inverse=inverse, rules=rules[inverse])


def no_rules_error(venue: str, inverse: bool) -> ConfigError:
    """The error for a market whose liquidation rules liqmap does not have."""
    return ConfigError(f"no liquidation rules for {venue} {'inverse' if inverse else ''} "
                       "markets; use binance, bybit, okx or hyperliquid linear perpetuals")
