"""Per-venue contract rules: what one unit of a venue's quantity is, in base coin.

Venues quote sizes and open interest in their own units:

* **linear contracts** (Binance USDⓈ-M, Bybit linear, Hyperliquid): quantity x contract
  size (1 base coin on Binance and Bybit USDT perpetuals; Hyperliquid sizes are coins, its
  USDC-margined perpetuals are named ``BTC/USDC:USDC`` in ccxt and ``BTC`` on the venue);
* **OKX swaps**: contracts x ``ctVal`` (0.01 BTC for BTC-USDT-SWAP);
* **inverse contracts** (Binance COIN-M, Bybit inverse, OKX USD swaps): each contract is
  worth a fixed USD amount (100 USD on Binance COIN-M BTCUSD, 1 USD on Bybit BTCUSD), so
  base = contracts x contract value USD / price.

``venue_spec`` gives the built-in rules for common symbols; ``spec_from_ccxt_market``
reads them from a ccxt market (``contractSize``, ``inverse``).

>>> spec = venue_spec("okx", "BTC/USDT:USDT")
>>> spec.to_base(100.0, 90_000.0)
1.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from liqmap._exceptions import ConfigError
from liqmap.io.oi_units import convert_oi_to_base

__all__ = ["LIVE_VENUES", "VenueSpec", "spec_from_ccxt_market", "venue_spec"]

#: Venues with a live stream client in ``liqmap.live``; others need a ccxt stream.
LIVE_VENUES = ("binance", "bybit", "okx", "hyperliquid")


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


def _split(symbol: str) -> tuple[str, str, str]:
    base, _, rest = symbol.partition("/")
    quote, _, settle = rest.partition(":")
    if not base or not quote or not settle:
        raise ConfigError(f"symbol {symbol!r}: use a ccxt perpetual symbol like "
                          "'BTC/USDT:USDT' (linear) or 'BTC/USD:BTC' (inverse)")
    return base, quote, settle


_INVERSE_USD = {"binance": 100.0, "bybit": 1.0, "okx": 100.0}
_RULES = {("binance", False): "binance", ("binance", True): "binance-inverse",
          ("bybit", False): "bybit", ("okx", False): "okx",
          ("hyperliquid", False): "hyperliquid"}
_OKX_CTVAL = {"BTC": 0.01, "ETH": 0.1}


def venue_spec(venue: str, symbol: str) -> VenueSpec:
    """Built-in contract rules of ``symbol`` on ``venue``.

    Examples
    --------
    >>> venue_spec("binance", "BTC/USD:BTC").to_base(9, 90_000.0)
    0.01
    """
    base, quote, settle = _split(symbol)
    inverse = settle == base
    if venue == "hyperliquid":
        return _hyperliquid_spec(symbol, base, quote, settle)
    if venue not in ("binance", "bybit", "okx"):
        raise ConfigError(f"no contract rules for venue {venue!r}: use binance, bybit, okx "
                          "or hyperliquid")
    if (venue, inverse) not in _RULES:
        raise ConfigError(f"{venue} inverse contracts have no liquidation rules in liqmap yet; "
                          "use a linear symbol like 'BTC/USDT:USDT'")
    if venue == "okx":
        vs = f"{base}-{quote}-SWAP"
        size = _INVERSE_USD["okx"] if inverse else _OKX_CTVAL.get(base)
        if size is None:
            raise ConfigError(f"OKX ctVal of {symbol} is not built in; build the spec with "
                              "spec_from_ccxt_market(exchange.market(symbol))")
    else:
        vs = f"{base}{quote}" + ("_PERP" if inverse and venue == "binance" else "")
        size = _INVERSE_USD[venue] if inverse else 1.0
    return VenueSpec(venue=venue, symbol=symbol, venue_symbol=vs, contract_size=float(size),
                     inverse=inverse, rules=_RULES[(venue, inverse)])


def _hyperliquid_spec(symbol: str, base: str, quote: str, settle: str) -> VenueSpec:
    """Hyperliquid perpetual: ``BTC/USDC:USDC`` <-> coin ``BTC``; sizes and OI in coins.

    Margin and prices are in USDC, taken as USD one for one (liqmap's USD figures for
    Hyperliquid are USDC).
    """
    if quote != "USDC" or settle != "USDC":
        raise ConfigError(f"symbol {symbol!r}: Hyperliquid perpetuals are USDC-margined; use "
                          f"'{base}/USDC:USDC' (ccxt's Hyperliquid symbol)")
    return VenueSpec(venue="hyperliquid", symbol=symbol, venue_symbol=base, contract_size=1.0,
                     inverse=False, rules="hyperliquid")


def spec_from_ccxt_market(venue: str, market: Mapping) -> VenueSpec:
    """Contract rules from a ccxt market dict (``exchange.market(symbol)``)."""
    size = market.get("contractSize")
    if size is None or not float(size) > 0:
        raise ConfigError(f"market {market.get('symbol')!r} has no contractSize; load the "
                          "exchange's markets first")
    inverse = bool(market.get("inverse"))
    rules = _RULES.get((venue, inverse))
    if rules is None:
        raise ConfigError(f"no liquidation rules for {venue} {'inverse' if inverse else ''} "
                          "markets; use binance, bybit, okx or hyperliquid linear perpetuals")
    vs = market["id"] if venue != "hyperliquid" else market.get("baseName") or market["base"]
    return VenueSpec(venue=venue, symbol=str(market["symbol"]), venue_symbol=str(vs),
                     contract_size=float(size), inverse=inverse, rules=rules)
