"""Checks and conversions between liqmap records and column batches (no SQL here).

Every ``write_*`` of a store first turns its record into a validated batch of columns
with the functions below, so bad input raises :class:`liqmap.InputError` before anything
touches the database. Reads turn fetched columns back into records.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from liqmap._exceptions import InputError
from liqmap.core.bars import Bars
from liqmap.core.realized import (
    LONG_LIQUIDATED,
    MAX_EVENT_NOTIONAL_USD,
    SHORT_LIQUIDATED,
    RealizedLiquidations,
)
from liqmap.io.validate import TS_MS_RANGE, check_ts_scale
from liqmap.store._base import MapSnapshot
from liqmap.store._names import canonical_series

__all__ = [
    "BAR_OPTIONAL",
    "BAR_REQUIRED",
    "REALIZED_KEY",
    "bars_batch",
    "bars_from_columns",
    "TS_MS_RANGE",
    "check_names",
    "check_ts_ms",
    "name_problem",
    "normalise_liquidation_side",
    "realized_batch",
    "realized_from_columns",
    "snapshot_from_row",
    "snapshot_row",
    "to_json",
    "whole_ms",
]

BAR_REQUIRED = ("open", "high", "low", "close", "open_interest")
BAR_OPTIONAL = ("volume", "taker_buy_volume", "taker_delta", "funding_rate")
REALIZED_KEY = ("ts_ms", "side", "price", "qty_coin")
#: Unix ms a stored time may have (2000-01-01 .. 2100-01-01), the bar loaders' range.


#: venue order side or position side -> liqmap side (+1 long liquidated, -1 short)
_SIDE_WORDS = {"sell": LONG_LIQUIDATED, "long": LONG_LIQUIDATED,
               "buy": SHORT_LIQUIDATED, "short": SHORT_LIQUIDATED}


def _side_of(value: Any) -> int:
    side = _SIDE_WORDS.get(str(value).strip().lower())
    if side is None:
        raise InputError(f"unknown liquidation side {value!r}; use the liquidation order's side "
                         "('sell' closes a long, 'buy' closes a short) or the liquidated "
                         "position's side ('long' / 'short')")
    return side


def normalise_liquidation_side(order_side: str | Iterable[str]) -> int | np.ndarray:
    """Map a venue's liquidation side to liqmap's convention.

    liqmap's ``side`` is the liquidated *position*: ``+1`` a long was liquidated, ``-1`` a
    short. Venues report the liquidation *order's* side (Binance ``forceOrder``: ``SELL``
    closes a long, ``BUY`` closes a short); ccxt ``Liquidation`` records of some venues
    give the position side (``long`` / ``short``). Both spellings are accepted, in any
    case, with surrounding spaces ignored.

    Parameters
    ----------
    order_side : str or iterable of str
        ``"sell"``/``"long"`` -> +1, ``"buy"``/``"short"`` -> -1.

    Returns
    -------
    int or (N,) int8 ndarray
        One side for one string, an array for an iterable.

    Raises
    ------
    InputError
        On any other value (the message lists the accepted ones).

    Examples
    --------
    >>> normalise_liquidation_side("SELL"), normalise_liquidation_side("short")
    (1, -1)
    >>> normalise_liquidation_side(["BUY", "sell"])
    array([-1,  1], dtype=int8)
    """
    if isinstance(order_side, (str, bytes)):
        return _side_of(order_side.decode() if isinstance(order_side, bytes) else order_side)
    return np.array([_side_of(v) for v in order_side], dtype=np.int8)


def check_names(venue: Any, symbol: Any, what: str) -> tuple[str, str]:
    """The canonical ``(venue, symbol)`` of a record (see :mod:`liqmap.store._names`).

    InputError when either is empty; ConfigError (an InputError) when the venue is not
    known or the symbol is neither a ccxt symbol nor the venue's id.
    """
    for name, value in (("venue", venue), ("symbol", symbol)):
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{what} need a {name} (ccxt id / unified symbol such as "
                             f"'binance', 'BTC/USDT:USDT'), got {value!r}; set it on the record")
    return canonical_series(venue, symbol)


def name_problem(venue: str, symbol: str) -> str | None:
    """Why a stored ``(venue, symbol)`` is not canonical (an older liqmap stored it), or None."""
    try:
        canon = canonical_series(venue, symbol)
    except InputError as exc:
        return str(exc)
    if canon != (venue, symbol):
        return f"stored as {venue} {symbol}, canonical {canon[0]} {canon[1]}"
    return None


def check_ts_ms(ts: np.ndarray, source: str, *, full_range: bool = False,
                rows: np.ndarray | None = None) -> None:
    """DataError on a timestamp no store row may have.

    Always refused: times after 2100 (microseconds or nanoseconds taken for ms; such rows
    cannot even be shown). With ``full_range`` (files: Parquet imports), times before
    2000 too (seconds taken for ms). The message is the bar loaders' one
    (:mod:`liqmap.io.validate`), with the detected unit and how to convert.
    """
    ts = np.asarray(ts, dtype=np.int64)
    bad = (ts > TS_MS_RANGE[1]) | ((ts < TS_MS_RANGE[0]) if full_range else False)
    if bad.any():
        idx = np.flatnonzero(bad)
        where = idx if rows is None else np.asarray(rows)[idx]
        check_ts_scale(pd.DataFrame({"ts_ms": ts[idx], "_row": where}), source)


def whole_ms(value: Any, name: str, what: str) -> int:
    """One whole number of milliseconds from ``value`` (an int, or a float with no fraction);
    ``what`` names the record in the message ("prediction binance BTC/USDT:USDT at ...")."""
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not ok and isinstance(value, (float, np.floating)) and math.isfinite(value):
        ok = float(value).is_integer()
    if not ok:
        raise InputError(f"{what}: {name} must be a whole number of milliseconds, "
                         f"got {value!r}; set it to an int")
    return int(value)


def _int_ms(values: Any, what: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        out = arr.astype(np.int64)
    else:
        arr = arr.astype(np.float64)
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise InputError(f"{what}: ts_ms must be whole Unix milliseconds, row {pos} is "
                             f"{float(arr[pos])}; fix or drop that row")
        out = arr.astype(np.int64)
    check_ts_ms(out, what)
    return out


def _floats(values: Any) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(values, dtype=np.float64))


def bars_batch(bars: Bars) -> pa.Table:
    """A validated column batch of ``bars`` (``None`` optional columns become nulls)."""
    check_names(bars.venue, bars.symbol, "bars")
    ts = _int_ms(bars.ts_ms, f"bars {bars.source}")
    back = np.flatnonzero(np.diff(ts) <= 0)
    if back.size:
        i = int(back[0]) + 1
        raise InputError(f"bars {bars.source}: ts_ms must be strictly increasing in one batch; "
                         f"row {i} ({ts[i]}) does not follow row {i - 1} ({ts[i - 1]}); sort "
                         "and drop duplicate bars (loaders do this with repair=True)")
    cols: dict[str, Any] = {"ts_ms": ts}
    for name in BAR_REQUIRED:
        cols[name] = _floats(getattr(bars, name))
    for name in BAR_OPTIONAL:
        arr = getattr(bars, name)
        cols[name] = pa.nulls(len(ts), pa.float64()) if arr is None else _floats(arr)
    return pa.table(cols)


def _optional(values: np.ndarray) -> np.ndarray | None:
    """Fetched column with NULLs: all NULL -> None, else NULL -> NaN."""
    if isinstance(values, np.ma.MaskedArray):
        if values.size and np.all(np.ma.getmaskarray(values)):
            return None
        return np.ma.filled(values.astype(np.float64), np.nan)
    return np.asarray(values, dtype=np.float64)


def bars_from_columns(cols: dict[str, np.ndarray], venue: str, symbol: str,
                      source: str, tier_tables: tuple = ()) -> Bars:
    """``Bars`` from fetched columns (``ts_ms`` + required + optional), carrying the
    store's ``tier_tables`` of the venue."""
    # required columns as arrays, optional ones as arrays or None (Bars checks them)
    kw: dict[str, Any] = {name: np.asarray(cols[name], dtype=np.float64) for name in BAR_REQUIRED}
    for name in BAR_OPTIONAL:
        kw[name] = _optional(cols[name]) if len(cols["ts_ms"]) else None
    return Bars(ts_ms=np.asarray(cols["ts_ms"], dtype=np.int64), **kw, venue=venue,
                symbol=symbol, source=source, tier_tables=tuple(tier_tables))


def realized_batch(liq: RealizedLiquidations) -> pa.Table:
    """A validated batch of ``liq``, de-duplicated on the natural key (first row wins)."""
    check_names(liq.venue, liq.symbol, "realized liquidations")
    ts = _int_ms(liq.ts_ms, f"realized liquidations {liq.source}")
    side = np.asarray(liq.side).astype(np.int8)
    price, qty, notional = _floats(liq.price), _floats(liq.qty_coin), _floats(liq.notional_usd)
    bad = ~(np.isfinite(price) & (price > 0) & np.isfinite(qty) & (qty >= 0)
            & np.isfinite(notional))
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise InputError(f"realized liquidations {liq.source}: row {pos} has price "
                         f"{float(price[pos])}, qty_coin {float(qty[pos])}, notional_usd "
                         f"{float(notional[pos])};"
                         " price must be > 0 and quantities finite >= 0; fix or drop the row")
    big = np.flatnonzero(np.abs(notional) > MAX_EVENT_NOTIONAL_USD)
    if big.size:
        pos = int(big[0])
        raise InputError(f"realized liquidations {liq.source}: row {pos} has notional_usd "
                         f"{float(notional[pos]):.6g} (qty_coin {float(qty[pos]):.6g} at price "
                         f"{float(price[pos]):.6g}), above the {MAX_EVENT_NOTIONAL_USD:.0e} USD "
                         "no single liquidation comes near; the quantity is probably in the "
                         "wrong unit (contracts, or a scaled integer): fix or drop the row")
    order = np.lexsort((qty, price, side, ts))  # stable: the first of equal rows comes first
    keys = (ts[order], side[order], price[order], qty[order])
    first = np.ones(len(order), dtype=bool)
    if len(order) > 1:
        same = np.logical_and.reduce([k[1:] == k[:-1] for k in keys])
        first[1:] = ~same
    pick = order[first]
    return pa.table({"ts_ms": ts[pick], "side": side[pick], "price": price[pick],
                     "qty_coin": qty[pick], "notional_usd": notional[pick]})


def realized_from_columns(cols: dict[str, np.ndarray], venue: str, symbol: str,
                          source: str) -> RealizedLiquidations:
    """``RealizedLiquidations`` from fetched columns."""
    return RealizedLiquidations(
        ts_ms=np.asarray(cols["ts_ms"], dtype=np.int64),
        side=np.asarray(cols["side"], dtype=np.int8),
        price=np.asarray(cols["price"], dtype=np.float64),
        qty_coin=np.asarray(cols["qty_coin"], dtype=np.float64),
        notional_usd=np.asarray(cols["notional_usd"], dtype=np.float64),
        venue=venue, symbol=symbol, source=source)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def to_json(obj: Any, what: str) -> str:
    """``obj`` as a JSON string (numpy values allowed); InputError when it cannot be."""
    try:
        return json.dumps(obj, sort_keys=True, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} must be JSON-ready (numbers, strings, lists, dicts): "
                         f"{exc}; convert the value first") from None


def snapshot_row(snap: MapSnapshot) -> tuple:
    """A validated row ``(venue, symbol, ts_ms, price_usd, bins, long, short, params)``."""
    venue, symbol = check_names(snap.venue, snap.symbol, "map snapshots")
    ts = int(_int_ms([snap.ts_ms], "map snapshot")[0])
    arrays = [_floats(a) for a in (snap.price_bins_usd, snap.long_usd, snap.short_usd)]
    if any(a.ndim != 1 for a in arrays) or len({len(a) for a in arrays}) != 1:
        raise InputError(f"map snapshot at {ts}: price_bins_usd, long_usd and short_usd must be "
                         f"1-D of one length, got shapes {[a.shape for a in arrays]}")
    if not all(np.isfinite(a).all() for a in arrays) or not math.isfinite(snap.price_usd):
        raise InputError(f"map snapshot at {ts}: prices and notionals must be finite numbers")
    if np.any(np.diff(arrays[0]) <= 0):
        raise InputError(f"map snapshot at {ts}: price_bins_usd must be strictly ascending")
    if not isinstance(snap.params, dict):
        raise InputError(f"map snapshot at {ts}: params must be a dict, got "
                         f"{type(snap.params).__name__}")
    params = to_json(snap.params, "map snapshot params")
    return (venue, symbol, ts, float(snap.price_usd),
            *(a.tolist() for a in arrays), params)


def snapshot_from_row(row: tuple) -> MapSnapshot:
    """Inverse of :func:`snapshot_row`."""
    venue, symbol, ts, price, bins, long_usd, short_usd, params = row
    return MapSnapshot(venue=venue, symbol=symbol, ts_ms=int(ts), price_usd=float(price),
                       price_bins_usd=np.asarray(bins, dtype=np.float64),
                       long_usd=np.asarray(long_usd, dtype=np.float64),
                       short_usd=np.asarray(short_usd, dtype=np.float64),
                       params=json.loads(params))
