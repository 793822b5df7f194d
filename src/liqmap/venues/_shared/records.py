"""Wire records: what a venue's live client emits (closed bars, liquidations, ticks).

Venue payloads are parsed into these at the edge (each venue's ``live.py``); nothing
downstream sees a venue's JSON. Units are in the names; quantities are in base units (BTC
for BTC/USDT:USDT) after the venue's contract rules were applied (its ``VenueSpec``). The
engine's own records (``BarUpdate``, ``GapEvent``) are in :mod:`liqmap.live.records`.

>>> bar = LiveBar(ts_ms=0, open=1.0, high=2.0, low=0.5, close=1.5, volume=3.0,
...               open_interest=10.0)
>>> bar.close_ms(300_000)
300000
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from liqmap._exceptions import DataError
from liqmap.core.bars import Bars
from liqmap.core.realized import RealizedLiquidations

__all__ = ["FundingTick", "LiveBar", "LiveLiquidation", "OiTick", "bars_from_live",
           "live_from_bars", "realized_from_live"]


@dataclass(frozen=True, slots=True)
class LiveBar:
    """One closed bar of one venue and symbol.

    Attributes
    ----------
    ts_ms : int
        Bar open time, Unix ms.
    open, high, low, close : float
        Prices, quote currency (USD/USDT).
    volume : float
        Base-unit volume.
    open_interest : float
        Open interest at the bar's close, base units (NaN until attached).
    taker_buy_volume : float or None
        Taker-buy part of the volume, base units.
    funding_rate : float or None
        Last funding rate per 8 h (fraction).
    venue, symbol : str
        ccxt venue id and unified symbol.
    source : str
        ``"stream"`` or ``"rest"`` (how the bar reached the runner).
    """

    ts_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    open_interest: float = float("nan")
    taker_buy_volume: float | None = None
    funding_rate: float | None = None
    venue: str = "binance"
    symbol: str = "BTC/USDT:USDT"
    source: str = "stream"

    def close_ms(self, bar_ms: int) -> int:
        """Close time of the bar, Unix ms."""
        return int(self.ts_ms) + int(bar_ms)

    def with_oi(self, open_interest: float, funding_rate: float | None = None) -> LiveBar:
        """The same bar with its open interest (and funding) attached."""
        fr = self.funding_rate if funding_rate is None else funding_rate
        return replace(self, open_interest=float(open_interest), funding_rate=fr)


@dataclass(frozen=True, slots=True)
class LiveLiquidation:
    """One realized liquidation event.

    ``side`` is +1 when a long was liquidated (Binance order side ``SELL``, Bybit
    ``allLiquidation`` ``S="Buy"``), -1 when a short was. ``lower_bound`` is True where the
    venue's stream under-reports (Binance sends at most one force order per symbol per
    second, so the sum of events is a lower bound of what was liquidated).
    """

    ts_ms: int
    side: int
    price: float
    qty_coin: float
    notional_usd: float
    venue: str = "binance"
    symbol: str = "BTC/USDT:USDT"
    lower_bound: bool = False


def live_from_bars(bars: Bars, source: str = "rest") -> list[LiveBar]:
    """Split a ``Bars`` series into ``LiveBar`` records (for feeding the runner)."""
    def col(name, i):
        arr = getattr(bars, name)
        return None if arr is None else float(arr[i])

    return [LiveBar(ts_ms=int(bars.ts_ms[i]), open=float(bars.open[i]),
                    high=float(bars.high[i]), low=float(bars.low[i]),
                    close=float(bars.close[i]),
                    volume=col("volume", i) if bars.volume is not None else 0.0,
                    open_interest=float(bars.open_interest[i]),
                    taker_buy_volume=col("taker_buy_volume", i),
                    funding_rate=col("funding_rate", i), venue=bars.venue,
                    symbol=bars.symbol, source=source) for i in range(len(bars))]


def bars_from_live(bars: Sequence[LiveBar], *, source: str = "live") -> Bars:
    """``LiveBar`` records (ascending, one venue and symbol) as a ``Bars`` series."""
    if not bars:
        raise DataError("no bars to convert; pass at least one LiveBar", source=source)

    def arr(name):
        vals = [getattr(b, name) for b in bars]
        return None if any(v is None for v in vals) else np.array(vals, dtype=np.float64)

    return Bars(ts_ms=np.array([b.ts_ms for b in bars], dtype=np.int64), open=arr("open"),
                high=arr("high"), low=arr("low"), close=arr("close"),
                open_interest=arr("open_interest"), volume=arr("volume"),
                taker_buy_volume=arr("taker_buy_volume"), funding_rate=arr("funding_rate"),
                venue=bars[0].venue, symbol=bars[0].symbol, source=source)


def realized_from_live(events: Sequence[LiveLiquidation], *, venue: str, symbol: str,
                       source: str = "live") -> RealizedLiquidations:
    """Liquidation events as ``RealizedLiquidations`` (for a store)."""
    ev = sorted(events, key=lambda e: e.ts_ms)
    return RealizedLiquidations(
        ts_ms=np.array([e.ts_ms for e in ev], dtype=np.int64),
        side=np.array([e.side for e in ev], dtype=np.int8),
        price=np.array([e.price for e in ev], dtype=np.float64),
        qty_coin=np.array([e.qty_coin for e in ev], dtype=np.float64),
        notional_usd=np.array([e.notional_usd for e in ev], dtype=np.float64),
        venue=venue, symbol=symbol, source=source)


@dataclass(frozen=True, slots=True)
class OiTick:
    """Open interest pushed by a stream (Bybit ``tickers``), base units."""

    ts_ms: int
    open_interest: float


@dataclass(frozen=True, slots=True)
class FundingTick:
    """Funding rate pushed by a stream, per 8 h (fraction)."""

    ts_ms: int
    funding_rate: float
