"""A generated market: deterministic random-walk bars with open interest, for demos and tests.

**Not market data.** Every series made here says so: its ``Bars.source`` starts with
``"generated"``, and ``liqmap scan --generated N`` labels its table and JSON as generated.

A market of ``N`` symbols is the bases ``BTC``, ``ETH``, ``SOL`` (at about their 2026
prices), then ``GEN004``, ``GEN005``, ... (prices drawn log-uniformly from 0.05 to 500 USD),
each on the four venues of :data:`MARKET_VENUES` (USDT-margined ccxt symbols on binance,
bybit and okx, USDC on hyperliquid). A series is a function of ``(seed, base, venue)`` only:

- close: a geometric random walk (per-bar volatility drawn per symbol, 0.15 % .. 0.6 %),
  shared by the symbol's venues up to a small venue basis;
- high/low: the bar's open/close widened by a half-normal wick;
- open interest (base units): a random walk around ``oi_usd / price`` with its own drift,
  so it rises and falls (positions open and close);
- volume: proportional to the range; taker-buy volume a noisy share of it.

:class:`GeneratedSeries` names one series (small: it travels to a Dask worker, which builds
the bars there with :meth:`GeneratedSeries.bars`).

>>> s = generated_market(2, n_bars=300)
>>> len(s), s[0].label, s[0].bars().source.startswith("generated")
(8, 'generated:BTC/USDT:USDT@binance', True)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from liqmap._exceptions import ConfigError
from liqmap.core.bars import Bars
from liqmap.core.timeunits import MS_PER_MINUTE

__all__ = ["DEFAULT_BARS", "DEFAULT_SEED", "MARKET_VENUES", "GeneratedSeries",
           "generated_market", "market_symbol"]

#: The venues of a generated market (each symbol is listed on all four).
MARKET_VENUES = ("binance", "bybit", "okx", "hyperliquid")
#: Bars per generated series: 3 days of 5-minute bars.
DEFAULT_BARS = 864
DEFAULT_SEED = 17
_BAR_MS = 5 * MS_PER_MINUTE
_START_MS = 1_780_272_000_000  # 2026-06-01T00:00:00Z
_KNOWN = {"BTC": 90_000.0, "ETH": 3_000.0, "SOL": 150.0}
MAX_SYMBOLS = 999


def market_symbol(base: str, venue: str) -> str:
    """The ccxt symbol of ``base``'s perpetual on ``venue`` (USDC on hyperliquid).

    >>> market_symbol("ETH", "okx"), market_symbol("ETH", "hyperliquid")
    ('ETH/USDT:USDT', 'ETH/USDC:USDC')
    """
    quote = "USDC" if venue == "hyperliquid" else "USDT"
    return f"{base}/{quote}:{quote}"


def _rng(seed: int, *parts: str) -> np.random.Generator:
    """A generator keyed by the seed and names (stable across processes and Pythons)."""
    key = hashlib.sha256("|".join((str(seed), *parts)).encode()).digest()
    return np.random.default_rng(int.from_bytes(key[:8], "little"))


@dataclass(frozen=True, slots=True)
class GeneratedSeries:
    """One generated series: ``base`` on ``venue``, ``n_bars`` 5-minute bars.

    Attributes
    ----------
    base : str
        Base currency (``BTC``, ``GEN004``, ...).
    venue : str
        One of :data:`MARKET_VENUES`.
    seed : int
        The market's seed; the same seed gives the same bars on any machine.
    n_bars : int
        Number of bars (at least 2).
    """

    base: str
    venue: str
    seed: int = DEFAULT_SEED
    n_bars: int = DEFAULT_BARS

    def __post_init__(self) -> None:
        if self.venue not in MARKET_VENUES:
            raise ConfigError(f"generated venue {self.venue!r} unknown; use one of "
                              f"{', '.join(MARKET_VENUES)}")
        if isinstance(self.n_bars, bool) or not isinstance(self.n_bars, int) or self.n_bars < 2:
            raise ConfigError(f"n_bars must be an integer >= 2, got {self.n_bars!r}")

    @property
    def symbol(self) -> str:
        """The ccxt symbol on this venue."""
        return market_symbol(self.base, self.venue)

    @property
    def label(self) -> str:
        """``generated:<symbol>@<venue>``."""
        return f"generated:{self.symbol}@{self.venue}"

    def bars(self) -> Bars:
        """The series' bars (deterministic in ``seed``, ``base``, ``venue`` and ``n_bars``)."""
        n = self.n_bars
        sym = _rng(self.seed, self.base)
        p0 = _KNOWN.get(self.base, float(np.exp(sym.uniform(np.log(0.05), np.log(500.0)))))
        vol = sym.uniform(0.0015, 0.006)
        close = p0 * np.exp(np.cumsum(sym.normal(0.0, vol, n)))  # the symbol's own walk
        ven = _rng(self.seed, self.base, self.venue)
        close = close * (1.0 + ven.normal(0.0, 2e-4, n))  # venue basis
        open_ = np.r_[close[0] * (1.0 - ven.normal(0.0, vol)), close[:-1]]
        wick = np.abs(ven.normal(0.0, vol / 2, (2, n)))
        high = np.maximum(open_, close) * (1.0 + wick[0])
        low = np.minimum(open_, close) * (1.0 - wick[1])
        oi_usd = sym.uniform(2e7, 2e9) * ven.uniform(0.3, 1.0)
        drift = np.linspace(0.0, ven.normal(0.0, 0.1), n)
        oi = oi_usd / p0 * np.exp(np.cumsum(ven.normal(0.0, 0.004, n)) + drift)
        volume = oi * (high / low - 1.0) * ven.uniform(2.0, 6.0)
        taker_buy = volume * np.clip(ven.normal(0.5, 0.08, n), 0.05, 0.95)
        return Bars(ts_ms=_START_MS + _BAR_MS * np.arange(n, dtype=np.int64), open=open_,
                    high=high, low=low, close=close, open_interest=oi, volume=volume,
                    taker_buy_volume=taker_buy, venue=self.venue, symbol=self.symbol,
                    source=f"generated market (seed {self.seed}, not market data): "
                           f"{self.symbol} on {self.venue}")


def _bases(n_symbols: int) -> list[str]:
    head = list(_KNOWN)[:n_symbols]
    return head + [f"GEN{i:03d}" for i in range(len(head) + 1, n_symbols + 1)]


def generated_market(n_symbols: int, *, venues: tuple[str, ...] | list[str] = MARKET_VENUES,
                     seed: int = DEFAULT_SEED, n_bars: int = DEFAULT_BARS
                     ) -> list[GeneratedSeries]:
    """``n_symbols`` x ``venues`` generated series, by symbol then venue.

    Parameters
    ----------
    n_symbols : int
        Symbols (1 .. 999): BTC, ETH, SOL, then GEN004, GEN005, ...
    venues : sequence of str
        A subset of :data:`MARKET_VENUES` (default all four).
    seed : int
        The market's seed.
    n_bars : int
        5-minute bars per series.

    Raises
    ------
    ConfigError
        ``n_symbols`` out of range, an unknown venue, or fewer than 2 bars.
    """
    if isinstance(n_symbols, bool) or not isinstance(n_symbols, int) \
            or not 1 <= n_symbols <= MAX_SYMBOLS:
        raise ConfigError(f"a generated market has 1 to {MAX_SYMBOLS} symbols, got {n_symbols!r}")
    return [GeneratedSeries(b, v, seed, n_bars) for b in _bases(n_symbols) for v in venues]
