"""Binance's own files: archive bars into ``Bars``, liquidation events into
``RealizedLiquidations``.

**Bars** from the public archive (data.binance.vision, USD-M futures; one CSV per day or
month, as in the archive's zips, which :mod:`liqmap.venues.binance.history` downloads):

* ``klines``: ``open_time, open, high, low, close, volume, close_time, quote_volume,
  count, taker_buy_volume, taker_buy_quote_volume, ignore``. Recent files start with
  this header line, older ones have none; both are accepted.
* ``metrics``: ``create_time`` (``YYYY-MM-DD HH:MM:SS`` UTC), ``symbol,
  sum_open_interest`` (base units), ``sum_open_interest_value`` (USD), then four
  long/short-ratio columns that are not used.
* ``fundingRate``: ``calc_time`` (ms), ``funding_interval_hours, last_funding_rate``.

Alignment (see :mod:`liqmap.io._align`): a metrics row stamped ``t`` is the OI at ``t``,
so a bar takes the snapshot at its close; a bar takes the last funding settled at or
before its close, rescaled to a rate per 8 h.

**Liquidations** into :class:`~liqmap.core.realized.RealizedLiquidations`, from two layouts:

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
quantities >= 0, and no event above :data:`~liqmap.core.realized.MAX_EVENT_NOTIONAL_USD`.
Files are read as UTF-8 (a byte-order mark is skipped); a file that is not valid UTF-8
is read as Latin-1, which maps every byte to one character: the fields liqmap uses are
ASCII numbers and ``BUY``/``SELL`` and are checked after decoding, so a stray accented
byte in a field liqmap ignores does no harm and one in a used field is refused by its row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from liqmap._exceptions import DataError, InputError
from liqmap.core.bars import Bars
from liqmap.core.realized import (
    LONG_LIQUIDATED,
    MAX_EVENT_NOTIONAL_USD,
    SHORT_LIQUIDATED,
    RealizedLiquidations,
)
from liqmap.io import OI_STAMP_JITTER_MS, asof_at_close, funding_to_8h, read_csv_file
from liqmap.io.validate import bars_from_frame, check_ts_scale, coerce_numeric
from liqmap.timeutil import MS_PER_MINUTE

__all__ = [
    "FORCEORDER_COLUMNS",
    "FUNDING_COLUMNS",
    "KLINE_COLUMNS",
    "METRICS_COLUMNS",
    "SNAPSHOT_COLUMNS",
    "liquidation_file_format",
    "load_binance_bars",
    "load_forceorder_csv",
    "load_liquidation_snapshot",
    "read_funding",
    "read_klines",
    "read_metrics",
]

KLINE_COLUMNS = ("open_time", "open", "high", "low", "close", "volume", "close_time",
                 "quote_volume", "count", "taker_buy_volume", "taker_buy_quote_volume",
                 "ignore")
METRICS_COLUMNS = ("create_time", "symbol", "sum_open_interest", "sum_open_interest_value",
                   "count_toptrader_long_short_ratio", "sum_toptrader_long_short_ratio",
                   "count_long_short_ratio", "sum_taker_long_short_vol_ratio")
FUNDING_COLUMNS = ("calc_time", "funding_interval_hours", "last_funding_rate")

PathArg = str | PathLike | Sequence[str | PathLike]


def _paths(arg: PathArg) -> list[Path]:
    if isinstance(arg, (str, PathLike)):
        return [Path(arg)]
    return [Path(p) for p in arg]


def _read_csv(path: Path, columns: Sequence[str], *, header_optional: bool = False) -> pd.DataFrame:
    """Read an archive CSV, with or without its header line; keep only ``columns``."""
    if not path.is_file():
        raise DataError("file not found; check the path", source=str(path))
    first = read_csv_file(path, nrows=0).columns
    if header_optional and first[0] != columns[0]:
        frame = read_csv_file(path, header=None)
        if frame.shape[1] < len(columns):
            raise DataError(
                f"has {frame.shape[1]} columns, a headerless archive file has "
                f"{len(columns)} ({', '.join(columns)}); check that this is the right file",
                source=str(path),
            )
        frame = frame.iloc[:, : len(columns)]
        frame.columns = list(columns)
    else:
        frame = read_csv_file(path)
    if len(frame) == 0:
        raise DataError("has no data rows (only a header); download it again",
                        source=str(path))
    frame["_file"] = str(path)
    frame["_row"] = np.arange(len(frame))
    return frame


def _require(frame: pd.DataFrame, needed: Sequence[str], path: Path, kind: str) -> None:
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(
            f"missing column(s) {missing} of a Binance {kind} file; the file has "
            f"{[c for c in frame.columns if not c.startswith('_')]}. Pass the {kind} file "
            "from data.binance.vision unchanged",
            source=str(path),
        )


def _numeric(frame: pd.DataFrame, col: str, path: Path) -> np.ndarray:
    values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise DataError(
            f"column {col!r} is empty or not a number ({frame[col].iat[bad[0]]!r}); fix the row",
            source=str(path), row=int(bad[0]),
        )
    return values


def read_klines(path: PathArg) -> pd.DataFrame:
    """Archive klines (with or without header) as canonical bar columns.

    Returns ``ts_ms, open, high, low, close, volume, taker_buy_volume, close_ms`` plus
    ``_file``/``_row`` (for error messages). ``close_ms = close_time + 1``. Values are
    not validated here; :func:`load_binance_bars` does that.
    """
    parts = []
    for p in _paths(path):
        raw = _read_csv(p, KLINE_COLUMNS, header_optional=True)
        _require(raw, KLINE_COLUMNS[:7], p, "klines")
        part = raw[["open", "high", "low", "close", "volume", "_file", "_row"]].copy()
        part["ts_ms"] = raw["open_time"]
        part["close_ms"] = _numeric(raw, "close_time", p).astype(np.int64) + 1
        if "taker_buy_volume" in raw:
            part["taker_buy_volume"] = raw["taker_buy_volume"]
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _create_time_ms(frame: pd.DataFrame, path: Path) -> np.ndarray:
    col = frame["create_time"]
    numeric = pd.to_numeric(col, errors="coerce")
    if numeric.notna().all():
        return numeric.to_numpy(dtype=np.int64)
    stamps = pd.to_datetime(col, utc=True, errors="coerce", format="mixed")
    bad = np.flatnonzero(stamps.isna().to_numpy())
    if bad.size:
        raise DataError(
            f"create_time {col.iat[bad[0]]!r} is not a 'YYYY-MM-DD HH:MM:SS' time; fix the row",
            source=str(path), row=int(bad[0]),
        )
    epoch = pd.Timestamp(0, tz="UTC")
    return ((stamps - epoch) // pd.Timedelta(milliseconds=1)).to_numpy(dtype=np.int64)


def read_metrics(path: PathArg) -> pd.DataFrame:
    """Archive ``metrics`` files as ``ts_ms, oi_base, oi_usd`` (stamp = OI snapshot time)."""
    parts = []
    for p in _paths(path):
        raw = _read_csv(p, METRICS_COLUMNS)
        _require(raw, METRICS_COLUMNS[:4], p, "metrics")
        parts.append(pd.DataFrame({
            "ts_ms": _create_time_ms(raw, p),
            "oi_base": _numeric(raw, "sum_open_interest", p),
            "oi_usd": _numeric(raw, "sum_open_interest_value", p),
        }))
    return pd.concat(parts, ignore_index=True).sort_values("ts_ms", kind="stable")


def read_funding(path: PathArg) -> pd.DataFrame:
    """Archive ``fundingRate`` files as ``ts_ms, rate_8h`` (settlement time, rate per 8 h)."""
    parts = []
    for p in _paths(path):
        raw = _read_csv(p, FUNDING_COLUMNS)
        _require(raw, FUNDING_COLUMNS, p, "fundingRate")
        hours = _numeric(raw, "funding_interval_hours", p)
        bad = np.flatnonzero(hours <= 0)
        if bad.size:
            raise DataError("funding_interval_hours must be positive (8 for BTCUSDT); fix the row",
                            source=str(p), row=int(bad[0]))
        parts.append(pd.DataFrame({
            "ts_ms": _numeric(raw, "calc_time", p).astype(np.int64),
            "rate_8h": funding_to_8h(_numeric(raw, "last_funding_rate", p), hours),
        }))
    return pd.concat(parts, ignore_index=True).sort_values("ts_ms", kind="stable")


def _first_nan_error(bars: pd.DataFrame, values: np.ndarray, what: str, fix: str) -> None:
    bad = np.flatnonzero(np.isnan(values))
    if bad.size:
        pos = int(bad[0])
        when = pd.Timestamp(int(bars["close_ms"].iat[pos]), unit="ms", tz="UTC").isoformat()
        raise DataError(f"no {what} for the bar closing at {when}; {fix}",
                        source=str(bars["_file"].iat[pos]), row=int(bars["_row"].iat[pos]))


def _attach_oi(bars: pd.DataFrame, metrics: pd.DataFrame, max_oi_age_ms: int | None) -> None:
    ts = metrics["ts_ms"].to_numpy()
    step = int(np.median(np.diff(ts))) if len(ts) > 1 else 0
    bar_ms = int((bars["close_ms"] - pd.to_numeric(bars["ts_ms"], errors="coerce")).median())
    age = 2 * max(step, bar_ms) if max_oi_age_ms is None else max_oi_age_ms
    oi = asof_at_close(bars["close_ms"].to_numpy(), ts, metrics["oi_base"].to_numpy(),
                       jitter_ms=OI_STAMP_JITTER_MS, max_age_ms=age)
    _first_nan_error(bars, oi, f"open-interest snapshot within {age // MS_PER_MINUTE} min "
                               "before the close",
                     "add the metrics file(s) covering that day (OI at close is the "
                     "snapshot stamped at the close)")
    bars["open_interest"] = oi


def _attach_funding(bars: pd.DataFrame, funding: pd.DataFrame) -> None:
    rate = asof_at_close(bars["close_ms"].to_numpy(), funding["ts_ms"].to_numpy(),
                         funding["rate_8h"].to_numpy())
    _first_nan_error(bars, rate, "funding settlement at or before the close",
                     "add the previous month's fundingRate file, or load without funding")
    bars["funding_rate"] = rate


def load_binance_bars(klines: PathArg, metrics: PathArg, funding: PathArg | None = None, *,
                      repair: bool = False, venue: str = "binance",
                      symbol: str = "BTC/USDT:USDT", gaps: str = "warn",
                      max_oi_age_ms: int | None = None) -> Bars:
    """Bars from Binance archive klines + metrics (+ fundingRate) files.

    Parameters
    ----------
    klines, metrics, funding : path or sequence of paths
        Archive CSVs (unzipped); several daily files may be given per kind.
    repair : bool
        Drop exact duplicate klines rows, sort by time and replace a lone price or
        open-interest jump by its neighbours' value (reported in ``Bars.repairs``).
    venue, symbol : str
        ccxt venue id and unified symbol.
    gaps : {"warn", "ignore", "error"}
        How missing bars are reported.
    max_oi_age_ms : int, optional
        Oldest OI snapshot accepted for a bar close; default twice the longer of the
        bar and the metrics step (one missing snapshot is bridged, two are an error).

    Returns
    -------
    Bars
        OI from ``sum_open_interest`` (base units) at bar close; funding per 8 h.

    Examples
    --------
    >>> bars = load_binance_bars("BTCUSDT-5m-2025-12-01.csv",
    ...                          "BTCUSDT-metrics-2025-12-01.csv")  # doctest: +SKIP
    """
    bars = read_klines(klines)
    _attach_oi(bars, read_metrics(metrics), max_oi_age_ms)
    if funding is not None:
        _attach_funding(bars, read_funding(funding))
    source = "+".join(str(p) for p in _paths(klines))
    return bars_from_frame(bars.drop(columns="close_ms"), source=source, venue=venue,
                           symbol=symbol, oi_unit="base", repair=repair, gaps=gaps)


# ----------------------------------------------------------------------------- liquidations
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
