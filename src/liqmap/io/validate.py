"""The one input validation every bar loader goes through.

:func:`bars_from_frame` takes a table with the canonical columns (``ts_ms, open, high,
low, close, open_interest`` and optionally ``volume, taker_buy_volume, taker_delta,
funding_rate``), checks it, applies opt-in safe repairs, converts open interest to base
units and returns a :class:`~liqmap.core.bars.Bars`. Every problem raises
:class:`~liqmap.DataError` naming the file, the zero-based data row (header excluded)
and what to change.

Checks, in order: missing columns; empty or non-numeric values; ``ts_ms`` in seconds or
microseconds; prices that are not positive; duplicate timestamps (exact duplicate rows
are dropped when ``repair=True``, conflicting ones are always an error); timestamps out
of order (sorted when ``repair=True``); a lone price jump no market makes (a 100x tick;
interpolated from the neighbours when ``repair=True``, see :mod:`liqmap.io.plausibility`);
``high < low``; open or close outside ``[low, high]``; negative open interest or volume;
taker-buy volume above volume; a lone open-interest jump (a 10,000x glitch row;
interpolated when ``repair=True``); open interest in the wrong unit for the market (see
:func:`liqmap.io.oi_units.check_oi_unit`); gaps (listed, not an error unless
``gaps="error"``).

A loader that merges several files passes ``_file`` and ``_row`` columns so that errors
point at the original file and row.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from liqmap._exceptions import ConfigError, DataError
from liqmap.core.bars import Bars
from liqmap.io._frame import _bar_ms, _first, _show, _where
from liqmap.io.oi_units import (
    MAX_OI_NOTIONAL_USD,
    OI_DAYS_OF_VOLUME,
    check_oi_unit,
    convert_oi_to_base,
)
from liqmap.io.plausibility import check_oi_spikes, check_price_spikes

__all__ = [
    "MAX_OI_NOTIONAL_USD",
    "OI_DAYS_OF_VOLUME",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "TS_MS_RANGE",
    "Gap",
    "GapWarning",
    "ValidationReport",
    "bars_from_frame",
    "check_oi_unit",
    "check_ts_scale",
    "coerce_numeric",
    "convert_oi_to_base",
    "find_gaps",
    "validate_frame",
]

REQUIRED_COLUMNS = ("ts_ms", "open", "high", "low", "close", "open_interest")
OPTIONAL_COLUMNS = ("volume", "taker_buy_volume", "taker_delta", "funding_rate")

TS_MS_RANGE = (946_684_800_000, 4_102_444_800_000)  # 2000-01-01 .. 2100-01-01


class GapWarning(UserWarning):
    """Bars are missing between two timestamps (listed, not an error by default)."""


@dataclass(frozen=True, slots=True)
class Gap:
    """Missing bars between two consecutive rows.

    ``row`` is the data row after the gap; ``missing_bars`` how many bars of the series'
    own duration fit in between.
    """

    row: int
    after_ts_ms: int
    next_ts_ms: int
    missing_bars: int
    source: str = ""


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """What validation found and did: row count, bar duration, repairs and gaps."""

    n_rows: int
    bar_ms: int
    repairs: tuple[str, ...] = ()
    gaps: tuple[Gap, ...] = ()

    def summary(self) -> str:
        """One line per repair and per gap."""
        lines = [f"{self.n_rows} bars of {self.bar_ms // 1000} s"]
        lines += [f"repair: {r}" for r in self.repairs]
        lines += [_describe_gap(g) for g in self.gaps]
        return "\n".join(lines)


def _describe_gap(gap: Gap) -> str:
    a = pd.Timestamp(gap.after_ts_ms, unit="ms", tz="UTC").isoformat()
    b = pd.Timestamp(gap.next_ts_ms, unit="ms", tz="UTC").isoformat()
    where = f"{gap.source}, " if gap.source else ""
    return f"gap before {where}row {gap.row}: {gap.missing_bars} bar(s) missing between {a} and {b}"


def _check_columns(frame: pd.DataFrame, source: str) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        have = [c for c in frame.columns if not str(c).startswith("_")]
        raise DataError(
            f"missing column(s) {missing}; the file has {have}. Add them, or name your "
            f"columns with mapping={{'your_name': '{missing[0]}'}}",
            source=source,
        )


def coerce_numeric(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """The canonical columns as float64; a DataError names the first empty or non-numeric
    cell (file, row, column)."""
    cols = [c for c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS if c in frame.columns]
    for col in cols:
        raw = frame[col]
        num = pd.to_numeric(raw, errors="coerce").astype(np.float64)
        bad = np.flatnonzero(~np.isfinite(num.to_numpy()))
        if bad.size:
            pos = int(bad[0])
            raise DataError(
                f"column {_show(col)} is empty, infinite or not a number ({_show(raw.iat[pos])}); "
                "fill in the value or delete the row",
                **_where(frame, pos, source),
            )
        frame[col] = num
    ts = frame["ts_ms"].to_numpy()
    frac = np.flatnonzero(ts != np.floor(ts))
    if frac.size:
        raise DataError(
            f"ts_ms must be whole Unix milliseconds, got {_show(ts[frac[0]])}; round it",
            **_where(frame, int(frac[0]), source),
        )
    frame["ts_ms"] = frame["ts_ms"].astype(np.int64)
    return frame


def check_ts_scale(frame: pd.DataFrame, source: str) -> None:
    """Refuse ``ts_ms`` outside :data:`TS_MS_RANGE` (2000..2100), saying whether the value
    looks like seconds, microseconds or nanoseconds and how to convert it."""
    ts = frame["ts_ms"].to_numpy()
    bad = np.flatnonzero((ts < TS_MS_RANGE[0]) | (ts > TS_MS_RANGE[1]))
    if bad.size:
        value = int(ts[bad[0]])
        if value < 10**11:
            fix = "it looks like seconds: multiply by 1000"
        elif value > 10**14:
            fix = "it looks like microseconds or nanoseconds: divide by 1000 or 1000000"
        else:
            fix = "give Unix epoch milliseconds between 2000 and 2100"
        raise DataError(f"ts_ms {value} is out of range; {fix}", **_where(frame, int(bad[0]), source))


def _check_positive_prices(frame: pd.DataFrame, source: str) -> None:
    for col in ("open", "high", "low", "close"):
        pos = _first(frame[col].to_numpy() <= 0)
        if pos is not None:
            raise DataError(
                f"{col} price is {_show(frame[col].iat[pos])}; prices must be positive: "
                "fix or delete the row",
                **_where(frame, pos, source),
            )


def _check_ohlc_order(frame: pd.DataFrame, source: str) -> None:
    o, h, lo, c = (frame[k].to_numpy() for k in ("open", "high", "low", "close"))
    pos = _first(h < lo)
    if pos is not None:
        raise DataError(
            f"high {_show(h[pos])} is below low {_show(lo[pos])}; the columns may be swapped or "
            "mislabelled: fix the row or the column mapping",
            **_where(frame, pos, source),
        )
    for name, arr in (("open", o), ("close", c)):
        pos = _first((arr < lo) | (arr > h))
        if pos is not None:
            raise DataError(
                f"{name} {_show(arr[pos])} lies outside [low, high] = [{_show(lo[pos])}, {_show(h[pos])}]; "
                "fix the row or the column mapping",
                **_where(frame, pos, source),
            )


def _check_nonnegative(frame: pd.DataFrame, source: str) -> None:
    for col in ("open_interest", "volume", "taker_buy_volume"):
        if col in frame:
            pos = _first(frame[col].to_numpy() < 0)
            if pos is not None:
                raise DataError(
                    f"{col} is negative ({_show(frame[col].iat[pos])}); it must be >= 0: fix the row",
                    **_where(frame, pos, source),
                )
    if "volume" in frame and "taker_buy_volume" in frame:
        pos = _first(frame["taker_buy_volume"].to_numpy() > frame["volume"].to_numpy() * (1 + 1e-9))
        if pos is not None:
            raise DataError(
                "taker_buy_volume exceeds volume; the two columns may be swapped: fix the "
                "mapping or the row",
                **_where(frame, pos, source),
            )


def _value_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if not str(c).startswith("_")]


def _check_duplicates(frame: pd.DataFrame, source: str, repair: bool) -> tuple[pd.DataFrame, list[str]]:
    ts = frame["ts_ms"].to_numpy()
    if ts.size < 2 or bool((ts[1:] > ts[:-1]).all()):
        return frame, []  # strictly increasing: no row repeats a timestamp (the usual file;
        # hashing every column of a year of 1-minute bars took 0.8 s and 200 MB, issue #16)
    exact = frame.duplicated(_value_columns(frame), keep="first").to_numpy()
    conflict = frame.loc[~exact].duplicated("ts_ms", keep="first")
    if conflict.any():
        pos = int(conflict.index[np.flatnonzero(conflict.to_numpy())[0]])
        raise DataError(
            f"ts_ms {int(frame['ts_ms'].iat[pos])} appears on several rows with different "
            "values; keep only the correct row (this is not repaired automatically)",
            **_where(frame, pos, source),
        )
    if not exact.any():
        return frame, []
    if not repair:
        pos = int(np.flatnonzero(exact)[0])
        raise DataError(
            f"row repeats an earlier row exactly (ts_ms {int(frame['ts_ms'].iat[pos])}); "
            "delete it, or pass repair=True to drop exact duplicates",
            **_where(frame, pos, source),
        )
    rows = [int(r) for r in frame.loc[exact, "_row"]]
    return frame.loc[~exact], [f"dropped {len(rows)} exact duplicate row(s): {rows[:10]}"]


def _check_sorted(frame: pd.DataFrame, source: str, repair: bool) -> tuple[pd.DataFrame, list[str]]:
    ts = frame["ts_ms"].to_numpy()
    down = np.flatnonzero(np.diff(ts) < 0)
    if down.size == 0:
        return frame, []
    if not repair:
        pos = int(down[0]) + 1
        raise DataError(
            f"ts_ms {int(ts[pos])} comes after {int(ts[pos - 1])}: rows are not in time "
            "order; sort the file by ts_ms, or pass repair=True to sort it",
            **_where(frame, pos, source),
        )
    out = frame.sort_values("ts_ms", kind="stable")
    return out, [f"sorted rows by ts_ms ({down.size} out-of-order step(s))"]


def find_gaps(ts_ms: np.ndarray, bar_ms: int, rows: np.ndarray | None = None) -> tuple[Gap, ...]:
    """Steps longer than ``bar_ms`` between consecutive sorted timestamps."""
    ts = np.asarray(ts_ms, dtype=np.int64)
    if bar_ms <= 0 or ts.size < 2:
        return ()
    rows = np.arange(ts.size) if rows is None else np.asarray(rows)
    steps = np.diff(ts)
    return tuple(
        Gap(row=int(rows[i + 1]), after_ts_ms=int(ts[i]), next_ts_ms=int(ts[i + 1]),
            missing_bars=int(steps[i] // bar_ms - 1))
        for i in np.flatnonzero(steps > bar_ms)
    )


def _gaps_with_source(frame: pd.DataFrame, gaps: tuple[Gap, ...], source: str) -> tuple[Gap, ...]:
    """Replace positions by the file and data row each gap starts at."""
    out = []
    for g in gaps:
        where = _where(frame, g.row, source)
        out.append(Gap(where["row"], g.after_ts_ms, g.next_ts_ms, g.missing_bars, where["source"]))
    return tuple(out)


def _handle_gaps(frame: pd.DataFrame, gaps: tuple[Gap, ...], mode: str, source: str) -> None:
    if not gaps or mode == "ignore":
        return
    text = "; ".join(_describe_gap(g) for g in gaps[:5]) + (" ..." if len(gaps) > 5 else "")
    if mode == "error":
        raise DataError(f"{len(gaps)} gap(s): {text}; fill the missing bars or pass gaps='warn'",
                        source=gaps[0].source or source, row=gaps[0].row)
    warnings.warn(f"{source}: {len(gaps)} gap(s): {text}", GapWarning, stacklevel=3)


def validate_frame(frame: pd.DataFrame, *, source: str, oi_unit: str = "base",
                   contract_size: float | None = None, repair: bool = False,
                   gaps: str = "warn", venue: str | None = None,
                   symbol: str | None = None) -> tuple[pd.DataFrame, ValidationReport]:
    """Check a canonical-column table; return it cleaned (OI in base units) and a report.

    Parameters
    ----------
    frame : pandas.DataFrame
        Canonical columns; positional row ``i`` is data row ``i`` of ``source`` unless
        ``_file``/``_row`` columns say otherwise.
    source : str
        File name used in error messages.
    oi_unit : {"base", "usd", "contracts"}
        Unit of ``open_interest`` in the table.
    contract_size : float, optional
        Base units per contract, for ``oi_unit="contracts"``.
    repair : bool
        Drop exact duplicate rows, sort by time and replace lone price or open-interest
        jumps by their neighbours' value instead of raising (each repair is reported).
    gaps : {"warn", "ignore", "error"}
        What to do with gaps (they are always listed in the report).
    venue, symbol : str, optional
        The market, for its plausible open-interest range
        (:data:`liqmap.io.oi_units.OI_PLAUSIBLE_USD`); unknown markets get the volume
        cross-check only.

    Raises
    ------
    DataError
        On the first problem, naming file, row and fix.
    """
    if gaps not in ("warn", "ignore", "error"):
        raise ConfigError(f"gaps must be 'warn', 'ignore' or 'error', got {_show(gaps)}")
    frame = frame.reset_index(drop=True).copy()
    if "_row" not in frame:
        frame["_row"] = np.arange(len(frame))
    frame, repairs = _check_rows(frame, source, repair)
    frame["open_interest"] = convert_oi_to_base(frame["open_interest"], frame["close"],
                                                oi_unit=oi_unit, contract_size=contract_size)
    frame, fixed_oi = check_oi_spikes(frame, source=source, repair=repair)
    check_oi_unit(frame, source=source, oi_unit=oi_unit, venue=venue, symbol=symbol)
    ts = frame["ts_ms"].to_numpy()
    bar_ms = _bar_ms(ts)
    found = _gaps_with_source(frame, find_gaps(ts, bar_ms, np.arange(len(frame))), source)
    _handle_gaps(frame, found, gaps, source)
    report = ValidationReport(len(frame), bar_ms, tuple(repairs + fixed_oi), found)
    return frame.reset_index(drop=True), report


def _check_rows(frame: pd.DataFrame, source: str, repair: bool) -> tuple[pd.DataFrame, list[str]]:
    """Row-level checks up to the prices; returns the frame sorted and the repairs made."""
    _check_columns(frame, source)
    frame = coerce_numeric(frame, source)
    check_ts_scale(frame, source)
    _check_positive_prices(frame, source)
    frame, fixed_dups = _check_duplicates(frame, source, repair)
    frame, fixed_order = _check_sorted(frame, source, repair)
    frame, fixed_prices = check_price_spikes(frame, source=source, repair=repair)
    _check_ohlc_order(frame, source)
    _check_nonnegative(frame, source)
    return frame, fixed_dups + fixed_order + fixed_prices


def bars_from_frame(frame: pd.DataFrame, *, source: str, venue: str = "binance",
                    symbol: str = "BTC/USDT:USDT", oi_unit: str = "base",
                    contract_size: float | None = None, repair: bool = False,
                    gaps: str = "warn") -> Bars:
    """Validate a canonical-column table and build :class:`~liqmap.core.bars.Bars`.

    Every loader ends here; see :func:`validate_frame` for the parameters.
    """
    clean, report = validate_frame(frame, source=source, oi_unit=oi_unit,
                                   contract_size=contract_size, repair=repair, gaps=gaps,
                                   venue=venue, symbol=symbol)
    kw = {c: clean[c].to_numpy(dtype=np.float64) for c in REQUIRED_COLUMNS[1:]}
    for col in OPTIONAL_COLUMNS:
        kw[col] = clean[col].to_numpy(dtype=np.float64) if col in clean else None
    return Bars(ts_ms=clean["ts_ms"].to_numpy(dtype=np.int64), **kw, venue=venue,
                symbol=symbol, source=source, repairs=report.repairs)
