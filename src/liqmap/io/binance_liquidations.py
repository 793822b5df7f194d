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

Checks (each a :class:`~liqmap.DataError` naming file, data row and fix): times go through
the bar loaders' checks (:mod:`liqmap.io.validate`: whole Unix milliseconds, between 2000
and 2100, with the unit detected when they are seconds or microseconds); prices positive,
quantities >= 0, and no event above :data:`~liqmap.realized.MAX_EVENT_NOTIONAL_USD`.
Files are read as UTF-8 (a byte-order mark is skipped); a file that is not valid UTF-8
is read as Latin-1, which maps every byte to one character: the fields liqmap uses are
ASCII numbers and ``BUY``/``SELL`` and are checked after decoding, so a stray accented
byte in a field liqmap ignores does no harm and one in a used field is refused by its row.
"""

from __future__ import annotations

import csv
import io
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from liqmap._exceptions import DataError, InputError
from liqmap.io.validate import check_ts_scale, coerce_numeric
from liqmap.realized import (
    LONG_LIQUIDATED,
    MAX_EVENT_NOTIONAL_USD,
    SHORT_LIQUIDATED,
    RealizedLiquidations,
)

__all__ = [
    "FORCEORDER_COLUMNS",
    "SNAPSHOT_COLUMNS",
    "liquidation_file_format",
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


def _text(path: Path) -> str:
    """The file's text: UTF-8 (BOM skipped), else Latin-1 (see the module notes)."""
    if not path.is_file():
        raise DataError("file not found; check the path", source=str(path))
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _rows(path: Path) -> list[list[str]]:
    text = _text(path)
    if "\x00" in text:
        raise DataError("is not a CSV text file (it holds NUL bytes); it may be compressed, "
                        "binary or UTF-16: unzip it or save it as UTF-8 CSV", source=str(path))
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise DataError(f"is not a CSV text file ({exc}); it may be compressed, binary or "
                        "UTF-16: unzip it or save it as UTF-8 CSV", source=str(path)) from None


def liquidation_file_format(path: str | PathLike) -> str:
    """``"snapshot"`` or ``"forceorder"``: which Binance layout the file's first row has.

    Raises
    ------
    InputError
        When the file is missing or its first row fits neither layout.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: file not found; check the path")
    rows = _rows(p)
    first = [c.strip() for c in rows[0]] if rows else []
    if first[:1] == ["time"] or len(first) == len(SNAPSHOT_COLUMNS):
        return "snapshot"
    if first[:1] == ["symbol_stripped"] or len(first) >= len(FORCEORDER_COLUMNS):
        return "forceorder"
    raise InputError(f"{p}: neither a Binance liquidationSnapshot ({len(SNAPSHOT_COLUMNS)} "
                     f"fields) nor a forceOrder recording ({len(FORCEORDER_COLUMNS)} fields); "
                     "give --format")


def _read(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """Read the CSV with or without header; extra trailing fields are ignored.

    Real recordings change shape mid-file (a recorder that later appended a 13th
    field), so rows are cut to the documented columns instead of being rejected.
    """
    rows = _rows(path)
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


def _times(frame: pd.DataFrame, col: str, path: Path) -> np.ndarray:
    """Column ``col`` as Unix ms, through the bar loaders' time checks (unit and range)."""
    check = pd.DataFrame({"ts_ms": frame[col].str.strip().to_numpy(),
                          "_row": frame.index.to_numpy()})
    try:
        check = coerce_numeric(check, str(path))
        check_ts_scale(check, str(path))
    except DataError as exc:
        reason = str(exc).removeprefix(f"{exc.source}, row {exc.row}: ")
        raise DataError(f"column {col!r} (read as ts_ms): {reason}", source=exc.source,
                        row=exc.row) from None
    return check["ts_ms"].to_numpy(dtype=np.int64)


def _check_notional(frame: pd.DataFrame, notional: np.ndarray, path: Path) -> None:
    big = np.flatnonzero(notional > MAX_EVENT_NOTIONAL_USD)
    if big.size:
        pos = int(big[0])
        raise DataError(f"notional {notional[pos]:.6g} USD (quantity x price) is above "
                        f"{MAX_EVENT_NOTIONAL_USD:.0e} USD, far beyond any single liquidation "
                        "ever reported; the quantity is probably in the wrong unit or the row "
                        "is corrupt: fix or delete the row", source=str(path),
                        row=int(frame.index[pos]))


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
    return RealizedLiquidations(ts_ms=ts[pick], side=side[pick],
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
    ts = _times(frame, "time", p)
    price = _fill_price(frame, p)
    qty = _number(frame, "accumulated_fill_quantity", p)
    if contract_value_usd is None:
        notional = qty * price
    else:
        notional = qty * float(contract_value_usd)
        qty = notional / price
    _check_notional(frame, notional, p)
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
    ts = _times(frame, "trade_time_ms", p)
    price = _fill_price(frame, p)
    qty = _number(frame, "accumulated_filled_quantity", p)
    _check_notional(frame, qty * price, p)
    return _build(ts, _sides(frame, p), price, qty, qty * price, venue=venue, symbol=symbol,
                  source=str(p))
