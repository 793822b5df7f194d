"""Binance public-archive files (data.binance.vision, USD-M futures) into ``Bars``.

Layouts read (one CSV per day or month, as in the archive's zips):

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
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from liqmap._exceptions import DataError
from liqmap.bars import Bars
from liqmap.io._align import OI_STAMP_JITTER_MS, asof_at_close, funding_to_8h
from liqmap.io._frame import read_csv_file
from liqmap.io.validate import bars_from_frame
from liqmap.timeutil import MS_PER_MINUTE

__all__ = [
    "FUNDING_COLUMNS",
    "KLINE_COLUMNS",
    "METRICS_COLUMNS",
    "load_binance_bars",
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
