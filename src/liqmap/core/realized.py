"""Realized (observed) liquidations: the events a venue reported, as aligned arrays.

``RealizedLiquidations`` is what the liquidation loaders return (Binance
``liquidationSnapshot`` archive files, ``!forceOrder@arr`` recordings, ccxt
``Liquidation`` records). It is used to score estimated liquidation levels against what
actually happened, bar by bar, with :meth:`RealizedLiquidations.per_bar`.

Side convention: ``+1`` means a **long** position was liquidated (the venue's
liquidation order *sold*), ``-1`` means a **short** was liquidated (the order *bought*).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from liqmap._exceptions import DataError

__all__ = ["LONG_LIQUIDATED", "MAX_EVENT_NOTIONAL_USD", "SHORT_LIQUIDATED",
           "RealizedLiquidations"]

LONG_LIQUIDATED = 1
SHORT_LIQUIDATED = -1

#: Largest notional one liquidation event may have before liqmap refuses it as a unit or
#: file error: 10 billion USD. The largest single liquidations venues have reported are
#: in the 100-300 million USD range (whole whale positions on Hyperliquid, Binance and
#: BitMEX), so this leaves a margin of 30x and more, while a quantity given in the wrong
#: unit (satoshi, contracts of 1e-8, a scaled integer) lands far above it
#: (1e15 BTC x 90,000 USD = 9e19 USD).
MAX_EVENT_NOTIONAL_USD = 1e10

_ARRAYS = ("ts_ms", "side", "price", "qty_coin", "notional_usd")


@dataclass(frozen=True, slots=True)
class RealizedLiquidations:
    """Liquidation events of one venue and symbol.

    Attributes
    ----------
    ts_ms : (N,) int64
        Event (trade) time, Unix ms.
    side : (N,) int8
        ``+1`` a long was liquidated, ``-1`` a short was liquidated.
    price : (N,) float64
        Average fill price of the liquidation order, quote currency (USD/USDT).
    qty_coin : (N,) float64
        Filled quantity in base units (e.g. BTC).
    notional_usd : (N,) float64
        Filled notional in quote currency (``qty_coin * price`` for linear contracts).
    venue, symbol : str
        ccxt venue id and unified symbol.
    source : str
        Where the events came from (file name or description).

    Examples
    --------
    >>> import numpy as np
    >>> liq = RealizedLiquidations(
    ...     ts_ms=np.array([1_000, 301_000]), side=np.array([1, -1]),
    ...     price=np.array([100.0, 101.0]), qty_coin=np.array([2.0, 1.0]),
    ...     notional_usd=np.array([200.0, 101.0]))
    >>> liq.per_bar(np.array([0, 300_000]), 300_000)
    (array([200.,   0.]), array([  0., 101.]))
    """

    ts_ms: np.ndarray
    side: np.ndarray
    price: np.ndarray
    qty_coin: np.ndarray
    notional_usd: np.ndarray
    venue: str = "binance"
    symbol: str = "BTC/USDT:USDT"
    source: str = "<arrays>"

    def __post_init__(self) -> None:
        n = len(self.ts_ms)
        for name in _ARRAYS[1:]:
            if len(getattr(self, name)) != n:
                raise DataError(
                    f"column {name!r} has {len(getattr(self, name))} values but ts_ms has {n}; "
                    "give every column the same length",
                    source=self.source,
                )
        bad = np.flatnonzero(~np.isin(np.asarray(self.side), (LONG_LIQUIDATED, SHORT_LIQUIDATED)))
        if bad.size:
            raise DataError(
                f"side must be +1 (long liquidated) or -1 (short liquidated), got "
                f"{self.side[bad[0]]!r}; map SELL to +1 and BUY to -1",
                source=self.source,
                row=int(bad[0]),
            )

    def __len__(self) -> int:
        return len(self.ts_ms)

    @property
    def long_usd(self) -> float:
        """Total notional of liquidated longs, USD."""
        return float(np.sum(self.notional_usd[self.side == LONG_LIQUIDATED]))

    @property
    def short_usd(self) -> float:
        """Total notional of liquidated shorts, USD."""
        return float(np.sum(self.notional_usd[self.side == SHORT_LIQUIDATED]))

    def take(self, idx: slice | np.ndarray) -> RealizedLiquidations:
        """A new record with the events selected by ``idx``."""
        kw = {name: getattr(self, name)[idx] for name in _ARRAYS}
        return RealizedLiquidations(**kw, venue=self.venue, symbol=self.symbol, source=self.source)

    def window(self, start_ms: int | None = None, end_ms: int | None = None) -> RealizedLiquidations:
        """Events with ``start_ms <= ts_ms < end_ms`` (either bound optional)."""
        keep = np.ones(len(self), dtype=bool)
        if start_ms is not None:
            keep &= self.ts_ms >= start_ms
        if end_ms is not None:
            keep &= self.ts_ms < end_ms
        return self.take(keep)

    def per_bar(self, bar_ts_ms: np.ndarray, bar_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """Total liquidated notional per bar and side.

        An event at ``t`` counts in bar ``i`` when ``bar_ts_ms[i] <= t < bar_ts_ms[i] + bar_ms``;
        events outside every bar are ignored.

        Parameters
        ----------
        bar_ts_ms : (T,) int64
            Bar open times, Unix ms, strictly increasing.
        bar_ms : int
            Bar duration in ms.

        Returns
        -------
        long_usd, short_usd : (T,) float64
            Notional of liquidated longs and of liquidated shorts in each bar.
        """
        bar_ts = np.asarray(bar_ts_ms, dtype=np.int64)
        n_bars = len(bar_ts)
        if n_bars == 0 or len(self) == 0:
            return np.zeros(n_bars), np.zeros(n_bars)
        ts = np.asarray(self.ts_ms, dtype=np.int64)
        idx = np.searchsorted(bar_ts, ts, side="right") - 1
        inside = idx >= 0
        inside[inside] &= ts[inside] < bar_ts[idx[inside]] + int(bar_ms)
        notional = np.asarray(self.notional_usd, dtype=np.float64)
        out = []
        for side in (LONG_LIQUIDATED, SHORT_LIQUIDATED):
            sel = inside & (self.side == side)
            out.append(np.bincount(idx[sel], weights=notional[sel], minlength=n_bars))
        return out[0], out[1]
