"""The bar series the engine runs on: one venue, one symbol, aligned arrays.

``Bars`` is the boundary record between loaders (``liqmap.io``) and the model. Open
interest is always held in **base units** (BTC for BTCUSDT); loaders convert from USD or
contracts explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from liqmap._exceptions import DataError

if TYPE_CHECKING:
    from liqmap.core.tiers import TierTable

__all__ = ["Bars"]

_REQUIRED = ("ts_ms", "open", "high", "low", "close", "open_interest")
_OPTIONAL = ("volume", "taker_buy_volume", "taker_delta", "funding_rate")


@dataclass(frozen=True, slots=True)
class Bars:
    """Aligned bar arrays for one venue and symbol.

    Attributes
    ----------
    ts_ms : (T,) int64
        Bar open time, Unix ms, strictly increasing.
    open, high, low, close : (T,) float64
        Prices in quote currency (USD/USDT), positive, ``low <= open, close <= high``.
    open_interest : (T,) float64
        Open interest at bar close, in base units (e.g. BTC).
    volume, taker_buy_volume : (T,) float64 or None
        Base-unit volume and its taker-buy part (optional).
    taker_delta : (T,) float64 or None
        Taker buy minus taker sell volume in the bar, base units (optional; used when
        the source gives the delta but not the volume split).
    funding_rate : (T,) float64 or None
        Last funding rate per 8 h as a fraction (0.0001 = 0.01 %), optional.
    venue, symbol : str
        ccxt venue id and unified symbol (``"BTC/USDT:USDT"``).
    source : str
        Where the bars came from (file name or description).
    repairs : tuple of str
        Safe repairs applied by the loader (opt-in), reported to the user.
    tier_tables : tuple of TierTable
        Margin-tier tables the bars' source holds for their venue: a store's tables fetched
        by ``liqmap tiers --refresh`` (``DuckDBStore.read_bars`` attaches them). The model
        looks them up with the shipped ones, those fetched on or before the bars' last day
        only (``liqmap.model_setup.symbol_tier_table``); empty for files and samples.
    """

    ts_ms: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    open_interest: np.ndarray
    volume: np.ndarray | None = None
    taker_buy_volume: np.ndarray | None = None
    taker_delta: np.ndarray | None = None
    funding_rate: np.ndarray | None = None
    venue: str = "binance"
    symbol: str = "BTC/USDT:USDT"
    source: str = "<arrays>"
    repairs: tuple[str, ...] = field(default=())
    tier_tables: tuple[TierTable, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.ts_ms)
        for name in _REQUIRED + _OPTIONAL:
            arr = getattr(self, name)
            if arr is None:
                continue
            if len(arr) != n:
                raise DataError(
                    f"column {name!r} has {len(arr)} values but ts_ms has {n}; "
                    "give every column the same length",
                    source=self.source,
                )

    def __len__(self) -> int:
        return len(self.ts_ms)

    @property
    def bar_ms(self) -> int:
        """Median bar duration in milliseconds."""
        if len(self.ts_ms) < 2:
            return 0
        return int(np.median(np.diff(self.ts_ms)))

    def window(self, start_ms: int | None = None, end_ms: int | None = None) -> Bars:
        """Bars with ``start_ms <= ts_ms < end_ms`` (either bound optional)."""
        ts = self.ts_ms
        i0 = 0 if start_ms is None else int(np.searchsorted(ts, start_ms, side="left"))
        i1 = len(ts) if end_ms is None else int(np.searchsorted(ts, end_ms, side="left"))
        return self.take(slice(i0, i1))

    def take(self, idx: slice | np.ndarray) -> Bars:
        """A new ``Bars`` with the rows selected by ``idx``."""
        kw: dict[str, Any] = {}
        for name in _REQUIRED + _OPTIONAL:
            arr = getattr(self, name)
            kw[name] = None if arr is None else arr[idx]
        return Bars(**kw, venue=self.venue, symbol=self.symbol, source=self.source,
                    repairs=self.repairs, tier_tables=self.tier_tables)

    def last(self, duration_ms: int) -> Bars:
        """The trailing window of ``duration_ms`` ending at the last bar (inclusive)."""
        if len(self.ts_ms) == 0:
            return self
        end = int(self.ts_ms[-1]) + max(self.bar_ms, 1)
        return self.window(end - duration_ms, end)
