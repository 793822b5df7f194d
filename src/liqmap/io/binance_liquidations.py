"""Binance liquidation events into :class:`~liqmap.realized.RealizedLiquidations`.

Two layouts:

* the archive's ``liquidationSnapshot`` files (data.binance.vision), header
  ``time, side, order_type, time_in_force, original_quantity, price, average_price,
  order_status, last_fill_quantity, accumulated_fill_quantity``. The archive writes
  many orders twice, as identical rows; exact repeats are dropped.
* recordings of the ``!forceOrder@arr`` websocket stream in the stripped-symbol layout
  of ``raw/binance_forceorder_samples`` (``USDT`` removed from every field, so ``BTC``
  means ``BTCUSDT``): ``symbol_stripped, side, order_type, time_in_force,
  original_quantity, price, average_price, order_status, last_filled_quantity,
  accumulated_filled_quantity, trade_time_ms, usd_size_z_times_p``.

In both, ``side`` is the liquidation *order's* side: ``SELL`` closes a long (a long was
liquidated, ``+1``), ``BUY`` closes a short (``-1``). Quantity is the accumulated filled
quantity; price the average fill price (the order price when no fill price is given).
"""

from __future__ import annotations

import csv
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from liqmap._exceptions import DataError
from liqmap.realized import LONG_LIQUIDATED, SHORT_LIQUIDATED, RealizedLiquidations

__all__ = [
    "FORCEORDER_COLUMNS",
    "SNAPSHOT_COLUMNS",
    "load_forceorder_csv",
    "load_liquidation_snapshot",
]

SNAPSHOT_COLUMNS = ("time", "side", "order_type", "time_in_force", "original_quantity",
                    "price", "average_price", "order_status", "last_fill_quantity",
                    "accumulated_fill_quantity")
FORCEORDER_COLUMNS = ("symbol_stripped", "side", "order_type", "time_in_force",
                      "original_quantity", "price", "average_price", "order_status",
                      "last_filled_quantity", "accumulated_filled_quantity", "trade_time_ms",
                      "usd_size_z_times_p")

_SIDES = {"SELL": LONG_LIQUIDATED, "BUY": SHORT_LIQUIDATED}


def _read(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """Read the CSV with or without header; extra trailing fields are ignored.

    Real recordings change shape mid-file (a recorder that later appended a 13th
    field), so rows are cut to the documented columns instead of being rejected.
    """
    if not path.is_file():
        raise DataError("file not found; check the path", source=str(path))
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if rows and rows[0] and rows[0][0].strip() == columns[0]:
        header = [c.strip() for c in rows[0]]
        missing = [c for c in columns if c not in header]
        if missing:
            raise DataError(f"missing column(s) {missing}; expected {', '.join(columns)}",
                            source=str(path))
        rows = rows[1:]
    for i, row in enumerate(rows):
        if len(row) < len(columns):
            raise DataError(f"has {len(row)} fields, expected {len(columns)}: "
                            f"{', '.join(columns)}; fix or delete the row",
                            source=str(path), row=i)
    return pd.DataFrame([r[: len(columns)] for r in rows], columns=list(columns), dtype=str)


def _number(frame: pd.DataFrame, col: str, path: Path, *, positive: bool = False) -> np.ndarray:
    values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values) | (values <= 0 if positive else values < 0)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        need = "a positive number" if positive else "a number >= 0"
        raise DataError(f"column {col!r} must be {need}, got {frame[col].iat[pos]!r}; fix the row",
                        source=str(path), row=int(frame.index[pos]))
    return values


def _sides(frame: pd.DataFrame, path: Path) -> np.ndarray:
    text = frame["side"].str.strip().str.upper()
    bad = np.flatnonzero(~text.isin(list(_SIDES)).to_numpy())
    if bad.size:
        raise DataError(f"side must be BUY or SELL, got {frame['side'].iat[bad[0]]!r}; fix the row",
                        source=str(path), row=int(frame.index[bad[0]]))
    return text.map(_SIDES).to_numpy(dtype=np.int8)


def _fill_price(frame: pd.DataFrame, path: Path) -> np.ndarray:
    avg = pd.to_numeric(frame["average_price"], errors="coerce").to_numpy(dtype=np.float64)
    order = _number(frame, "price", path, positive=True)
    return np.where(np.isfinite(avg) & (avg > 0), avg, order)


def _build(ts: np.ndarray, side: np.ndarray, price: np.ndarray, qty: np.ndarray,
           notional: np.ndarray, *, venue: str, symbol: str, source: str) -> RealizedLiquidations:
    keep = qty > 0
    order = np.argsort(ts[keep], kind="stable")
    pick = np.flatnonzero(keep)[order]
    return RealizedLiquidations(ts_ms=ts[pick].astype(np.int64), side=side[pick],
                                price=price[pick], qty_coin=qty[pick],
                                notional_usd=notional[pick], venue=venue, symbol=symbol,
                                source=source)


def load_liquidation_snapshot(path: str | PathLike, *, symbol: str = "BTC/USDT:USDT",
                              venue: str = "binance",
                              contract_value_usd: float | None = None) -> RealizedLiquidations:
    """Liquidations from an archive ``liquidationSnapshot`` CSV (exact repeats dropped).

    Parameters
    ----------
    path : str or path-like
        The unzipped CSV (with or without header).
    symbol, venue : str
        Recorded on the result.
    contract_value_usd : float, optional
        For inverse (COIN-M) files, whose quantities are contracts of a fixed USD value
        (100 for ``BTCUSD_PERP``): notional is ``qty x contract_value_usd`` and the coin
        quantity ``notional / price``. Leave None for linear files (quantity in coin).

    Returns
    -------
    RealizedLiquidations
        Sorted by time; orders with zero filled quantity are left out.
    """
    p = Path(path)
    frame = _read(p, SNAPSHOT_COLUMNS).drop_duplicates()
    ts = _number(frame, "time", p, positive=True)
    price = _fill_price(frame, p)
    qty = _number(frame, "accumulated_fill_quantity", p)
    if contract_value_usd is None:
        notional = qty * price
    else:
        notional = qty * float(contract_value_usd)
        qty = notional / price
    return _build(ts, _sides(frame, p), price, qty, notional, venue=venue, symbol=symbol,
                  source=str(p))


def load_forceorder_csv(path: str | PathLike, *, symbol_stripped: str = "BTC",
                        symbol: str = "BTC/USDT:USDT",
                        venue: str = "binance") -> RealizedLiquidations:
    """Liquidations of one symbol from a stripped-symbol ``!forceOrder@arr`` recording.

    Parameters
    ----------
    path : str or path-like
        CSV in the layout of ``raw/binance_forceorder_samples`` (header optional).
    symbol_stripped : str
        Symbol as written in the file, with ``USDT`` removed (``"BTC"`` = BTCUSDT).
    symbol, venue : str
        ccxt names recorded on the result.

    Notes
    -----
    The stream pushes at most one liquidation per symbol per second, so a recording
    undercounts; use it for shapes and timing, not totals.
    """
    p = Path(path)
    frame = _read(p, FORCEORDER_COLUMNS)
    frame = frame[frame["symbol_stripped"].str.strip() == symbol_stripped]
    ts = _number(frame, "trade_time_ms", p, positive=True)
    price = _fill_price(frame, p)
    qty = _number(frame, "accumulated_filled_quantity", p)
    return _build(ts, _sides(frame, p), price, qty, qty * price, venue=venue, symbol=symbol,
                  source=str(p))
