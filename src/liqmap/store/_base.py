"""The storage interface: what every store (DuckDB by default) offers the rest of liqmap.

SQL stays behind this interface. Records in and out are liqmap's own domain records
(:class:`liqmap.core.bars.Bars`, :class:`liqmap.core.realized.RealizedLiquidations`,
:class:`MapSnapshot`), never data frames or venue payloads.

Rules every implementation keeps:

- Each ``write_*`` call is one transaction: all of its rows are committed, or none is.
- Writes are idempotent upserts on the natural key (``venue, symbol, ts_ms`` for bars,
  snapshots and per-bar predictions; ``venue, symbol, ts_ms, side, price, qty_coin`` for
  realized liquidations, so Binance snapshot files that repeat every row are stored once).
- Reads return rows sorted by ``ts_ms``; an empty selection returns an empty record, not None.
- Venue and symbol are checked and stored canonically (:func:`liqmap.store.canonical_series`:
  a known venue id, ccxt ids as aliases; a ccxt symbol, venue ids converted).
- Every check runs before the write's transaction begins. Bad input raises
  :class:`liqmap.InputError`; so does a store file that is damaged, not a DuckDB file, a
  directory or not writable. A store locked by another process, or a transient I/O
  failure, raises :class:`liqmap.RetryLaterError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from liqmap.core.bars import Bars
from liqmap.core.realized import RealizedLiquidations

__all__ = ["MapSnapshot", "SeriesInfo", "Store", "SuspectRows"]


@dataclass(frozen=True, slots=True)
class MapSnapshot:
    """A liquidation map saved at one time, replayable later.

    Attributes
    ----------
    venue, symbol : str
        ccxt venue id and unified symbol (``"binance"``, ``"BTC/USDT:USDT"``).
    ts_ms : int
        Time of the map (close of the last bar it saw), Unix ms.
    price_usd : float
        Reference (last close) price at ``ts_ms``.
    price_bins_usd : (B,) float64
        Bin centres, ascending.
    long_usd, short_usd : (B,) float64
        Estimated notional whose liquidation price lies in each bin.
    params : dict
        The model parameters that produced the map (JSON-ready).
    """

    venue: str
    symbol: str
    ts_ms: int
    price_usd: float
    price_bins_usd: np.ndarray
    long_usd: np.ndarray
    short_usd: np.ndarray
    params: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    """What a store holds for one venue and symbol."""

    table: str
    venue: str
    symbol: str
    rows: int
    first_ts_ms: int
    last_ts_ms: int


@dataclass(frozen=True, slots=True)
class SuspectRows:
    """Stored rows of one table and series that today's input checks would refuse.

    ``examples_ts_ms`` holds the first few of their times (empty for a name problem);
    ``reason`` says what is wrong with them.
    """

    table: str
    venue: str
    symbol: str
    rows: int
    examples_ts_ms: tuple[int, ...]
    reason: str


@runtime_checkable
class Store(Protocol):
    """Small storage interface; :class:`liqmap.store.DuckDBStore` is the default."""

    def write_bars(self, bars: Bars) -> int:
        """Upsert bars (OHLC, open interest, volume, funding); return rows written."""

    def read_bars(self, venue: str, symbol: str, start_ms: int | None = None,
                  end_ms: int | None = None) -> Bars:
        """Bars with ``start_ms <= ts_ms < end_ms`` (with the venue's stored tier tables,
        ``Bars.tier_tables``); InputError when none are stored."""

    def write_realized(self, liq: RealizedLiquidations) -> int:
        """Insert realized liquidations, de-duplicated; return rows newly stored."""

    def read_realized(self, venue: str, symbol: str, start_ms: int | None = None,
                      end_ms: int | None = None) -> RealizedLiquidations:
        """Realized liquidations with ``start_ms <= ts_ms < end_ms`` (may be empty)."""

    def write_snapshot(self, snap: MapSnapshot) -> int:
        """Upsert one map snapshot; return 1."""

    def read_snapshots(self, venue: str, symbol: str, start_ms: int | None = None,
                       end_ms: int | None = None) -> list[MapSnapshot]:
        """Snapshots with ``start_ms <= ts_ms < end_ms``, oldest first."""

    def write_predictions(self, rows) -> int:
        """Upsert per-bar predictions (``BarPrediction`` records); return rows written."""

    def read_predictions(self, venue: str, symbol: str, start_ms: int | None = None,
                         end_ms: int | None = None) -> list:
        """Predictions (``BarPrediction``) with ``start_ms <= ts_ms < end_ms``, oldest first."""

    def record_run(self, kind: str, params: dict, summary: dict, *, run_id: str | None = None,
                   ts_ms: int | None = None) -> str:
        """Record a model/backtest run; return its id (``run_id``, ``ts_ms``: new id, now,
        unless given, as a Parquet import restores them)."""

    def list_runs(self, kind: str | None = None) -> list[dict]:
        """Recorded runs, newest first: ``{"run_id", "kind", "ts_ms", "params", "summary"}``."""

    def series(self) -> list[SeriesInfo]:
        """What is stored, per table, venue and symbol."""

    def close(self) -> None:
        """Release the database."""
