"""A scorecard dataset from any data: the user's bar file or store, and realized liquidations.

The research windows (A, C) and a user's own data go through one code path: each becomes a
:class:`~liqmap.scorecard.windows.WindowData` (engine bars, realized liquidations per scoring
bar, the bars not to score) whose spec carries the two instants a scorecard needs:

- ``fit_until_ms`` (the spec's ``calibration_end_ms``): the calibration span is every bar
  opening before it, and a fit reads nothing at or after it;
- ``score_from_ms``: the scoring span starts there (default: ``fit_until_ms``; never before,
  which would score on fitted bars).

Realized liquidations come as

- a file of per-bar totals, columns ``ts_ms,long_usd,short_usd`` (``ts_ms`` = bar open, Unix
  ms; USD liquidated per side in the bar), the format :func:`export_inputs` writes;
- a file of events in a format liqmap already reads (Binance ``liquidationSnapshot`` archive
  files or ``forceOrder`` recordings), summed per scoring bar;
- the store's ``realized`` table (events), summed per scoring bar.

The scoring bar (``score_ms``) is the realized series' bar: the per-bar file's step, or the
engine bar for events (``score_bar_ms`` to choose a coarser one). It must be a multiple of
the engine bar, and the two series must overlap; both are checked with a message that names
the file and the fix. A scoring bar is not scored when the realized bar before it or the
engine bar before it is missing (its open interest change spans the gap).

>>> data = load_dataset("bars.csv", "realized.csv", fit_until_ms=1_769_904_000_000)  # doctest: +SKIP
>>> export_inputs(load_window("A"), "inputs/")        # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from liqmap._exceptions import ConfigError, DataError, InputError
from liqmap.core.bars import Bars
from liqmap.core.realized import RealizedLiquidations
from liqmap.outputs import atomic_path
from liqmap.scorecard.windows import WindowData, WindowSpec
from liqmap.timeutil import MS_PER_HOUR, iso_minute

__all__ = ["REALIZED_COLUMNS", "RealizedBars", "dataset", "export_inputs", "from_store",
           "load_dataset", "read_realized_bars", "realized_from_events"]

REALIZED_COLUMNS = ("ts_ms", "long_usd", "short_usd")
BAR_COLUMNS = ("ts_ms", "open", "high", "low", "close", "volume", "open_interest",
               "taker_buy_volume", "taker_delta", "funding_rate")
DEFAULT_WARMUP_HOURS = 168.0


@dataclass(frozen=True, slots=True)
class RealizedBars:
    """Realized liquidations per bar, USD.

    Attributes
    ----------
    ts_ms : (S,) int64
        Bar open times, strictly increasing (missing bars are absent, not zero).
    long_usd, short_usd : (S,) float64
        Notional liquidated per side in the bar.
    bar_ms : int
        Bar length.
    source : str
        Where the figures came from.
    lower_bound : bool
        The feed misses some liquidations (Binance publishes at most one per symbol and
        second), so the totals are a lower bound.
    """

    ts_ms: np.ndarray
    long_usd: np.ndarray
    short_usd: np.ndarray
    bar_ms: int
    source: str
    lower_bound: bool = False

    def take(self, keep: np.ndarray) -> RealizedBars:
        """The bars where ``keep`` is true."""
        return replace(self, ts_ms=self.ts_ms[keep], long_usd=self.long_usd[keep],
                       short_usd=self.short_usd[keep])


def _step_ms(ts: np.ndarray, source: str, what: str) -> int:
    if ts.size < 2:
        raise DataError(f"{what}: fewer than 2 rows; a scorecard needs a series",
                        source=source)
    step = int(np.diff(ts).min())
    if step <= 0:
        row = int(np.flatnonzero(np.diff(ts) <= 0)[0]) + 1
        raise DataError(f"{what}: ts_ms not strictly increasing; sort the file and drop "
                        "duplicate bars", source=source, row=row)
    return step


def read_realized_bars(path) -> RealizedBars:
    """Per-bar realized totals from a CSV/Parquet file with columns ``ts_ms,long_usd,short_usd``.

    Raises
    ------
    DataError
        Missing column, a non-numeric, negative or missing value, unsorted or duplicate
        ``ts_ms``: the message names the file, the row and the fix.
    """
    from liqmap.io.generic import read_table

    frame = read_table(path)
    src = str(path)
    missing = [c for c in REALIZED_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"missing column(s) {missing}; a per-bar realized file has columns "
                        f"{','.join(REALIZED_COLUMNS)} (ts_ms = bar open, Unix ms; USD per "
                        "side), or pass a liquidation event file (--realized-format events)",
                        source=src)
    cols = {}
    for c in REALIZED_COLUMNS:
        import pandas as pd

        v = pd.to_numeric(frame[c], errors="coerce").to_numpy(np.float64)
        bad = ~np.isfinite(v) | ((v < 0) if c != "ts_ms" else (v <= 0))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataError(f"{c} = {frame[c].iloc[row:row + 1].tolist()[0]!r} is not a "
                            f"{'positive Unix ms time' if c == 'ts_ms' else 'USD amount >= 0'}"
                            "; fix or drop the row", source=src, row=row)
        cols[c] = v
    ts = cols["ts_ms"].astype(np.int64)
    if not np.array_equal(ts.astype(np.float64), cols["ts_ms"]):
        raise DataError("ts_ms must be whole milliseconds", source=src)
    step = _step_ms(ts, src, "realized")
    return RealizedBars(ts_ms=ts, long_usd=cols["long_usd"], short_usd=cols["short_usd"],
                        bar_ms=step, source=Path(src).name)


def realized_from_events(liq: RealizedLiquidations, bar_ms: int, start_ms: int,
                         end_ms: int) -> RealizedBars:
    """Events summed per bar over the whole grid ``[start_ms, end_ms)`` (zeros where none).

    A bar with no event is a real zero here: the event feed was recorded over the span.
    """
    if bar_ms <= 0 or end_ms <= start_ms:
        raise ConfigError("realized bars need bar_ms > 0 and end after start")
    grid = np.arange(start_ms - (start_ms % bar_ms), end_ms, bar_ms, dtype=np.int64)
    long_usd, short_usd = liq.per_bar(grid, bar_ms)
    return RealizedBars(ts_ms=grid, long_usd=np.asarray(long_usd, np.float64),
                        short_usd=np.asarray(short_usd, np.float64), bar_ms=int(bar_ms),
                        source=liq.source or f"{liq.venue} liquidation events",
                        lower_bound=liq.venue == "binance"
                        or "lower bound" in (liq.source or ""))


def _bar_ms(bars: Bars) -> int:
    return _step_ms(np.asarray(bars.ts_ms, np.int64), bars.source or "<bars>", "bars")


def _after_gap(score_ts: np.ndarray, score_ms: int, bars: Bars, bar_ms: int,
               all_score_ts: np.ndarray) -> np.ndarray:
    """A scoring bar follows a gap when the realized bar or the engine bar before it is
    missing (the first bar of each series is not after a gap)."""
    prev_real = score_ts - score_ms
    real_gap = ~np.isin(prev_real, all_score_ts) & (score_ts > all_score_ts[0])
    prev_bar = score_ts - bar_ms
    bar_gap = ~np.isin(prev_bar, bars.ts_ms) & (score_ts > bars.ts_ms[0])
    return real_gap | bar_gap


def dataset(bars: Bars, realized: RealizedBars, *, fit_until_ms: int | None = None,
            score_from_ms: int | None = None, name: str = "custom",
            warmup_hours: float | None = None, notes: tuple[str, ...] = ()) -> WindowData:
    """Align bars and per-bar realized liquidations into a scorecard dataset.

    Parameters
    ----------
    bars : Bars
        Engine bars (any regular bar size; gaps allowed).
    realized : RealizedBars
        Realized liquidations per scoring bar (a multiple of the engine bar).
    fit_until_ms : int, optional
        End of the calibration span (first instant a fit may not read). Default:
        ``score_from_ms``, else after the last bar (everything is calibration).
    score_from_ms : int, optional
        Start of the scoring span; default ``fit_until_ms``. Not before it.
    name : str
        Dataset name (shown in outputs, stored in presets).
    warmup_hours : float, optional
        Leading hours not scored while the book fills (default 168, capped at a third of
        the span so short datasets still score).

    Raises
    ------
    DataError
        The bar sizes do not divide, or the series do not overlap (names both spans).
    """
    bar_ms = _bar_ms(bars)
    score_ms = int(realized.bar_ms)
    if score_ms % bar_ms:
        raise DataError(f"realized bars of {score_ms // 1000} s are not a multiple of the "
                        f"engine bars of {bar_ms // 1000} s; give realized totals per "
                        f"{bar_ms // 1000} s bar (or a multiple), or coarser bars",
                        source=realized.source)
    off = (realized.ts_ms - bars.ts_ms[0]) % bar_ms
    if off.any():
        row = int(np.flatnonzero(off)[0])
        raise DataError(f"realized bar at {iso_minute(int(realized.ts_ms[row]))} does not open "
                        f"on an engine bar boundary ({bar_ms // 1000} s bars from "
                        f"{iso_minute(int(bars.ts_ms[0]))}); use bar open times",
                        source=realized.source, row=row)
    bars_end = int(bars.ts_ms[-1]) + bar_ms
    covered = (realized.ts_ms >= bars.ts_ms[0]) & (realized.ts_ms + score_ms <= bars_end)
    if covered.sum() < 2:
        raise DataError(
            f"realized liquidations ({iso_minute(int(realized.ts_ms[0]))} -> "
            f"{iso_minute(int(realized.ts_ms[-1]) + score_ms)}) and bars "
            f"({iso_minute(int(bars.ts_ms[0]))} -> {iso_minute(bars_end)}) overlap in fewer "
            "than 2 realized bars; give the two series for the same period",
            source=f"{realized.source} + {bars.source}")
    fit_until = int(fit_until_ms) if fit_until_ms is not None else (
        bars_end if score_from_ms is None else int(score_from_ms))
    score_from = fit_until if score_from_ms is None else int(score_from_ms)
    if score_from < fit_until:
        raise ConfigError(f"--score-from ({iso_minute(score_from)}) is before --fit-until "
                          f"({iso_minute(fit_until)}): those bars would be scored on data "
                          "the fit saw; set --score-from at or after --fit-until")
    # the default warm-up looks at the fit span only, so data after fit_until change nothing
    span_end = fit_until if int(bars.ts_ms[0]) < fit_until < bars_end else bars_end
    span_h = (span_end - int(bars.ts_ms[0])) / MS_PER_HOUR
    warm = min(DEFAULT_WARMUP_HOURS, math.floor(span_h / 3)) if warmup_hours is None \
        else float(warmup_hours)
    spec = WindowSpec(name=name, regime_glob="", oi_glob="", calibration_end_ms=fit_until,
                      bar_ms=bar_ms, score_ms=score_ms, warmup_hours=warm,
                      score_from_ms=score_from)
    real = realized.take(covered)
    after = _after_gap(real.ts_ms, score_ms, bars, bar_ms, realized.ts_ms)
    gaps = tuple(int(t) for t in _missing(bars.ts_ms, bar_ms))
    lb = ("realized: a lower bound (the venue's feed drops liquidations)",) \
        if realized.lower_bound else ()
    all_notes = (f"bars: {bars.source} ({bars.venue} {bars.symbol}, {bar_ms // 60_000} min)",
                 f"realized: {realized.source} ({score_ms // 60_000} min bars)", *lb,
                 f"{len(gaps)} missing engine bars kept absent; the bar after each is not "
                 "scored", *notes)
    return WindowData(spec=spec, bars=bars, realized_long_usd=real.long_usd,
                      realized_short_usd=real.short_usd, after_gap=after, gaps_ms=gaps,
                      oi_rel_diff_median=float("nan"), notes=all_notes,
                      score_ts_ms=None if score_ms == bar_ms and np.array_equal(
                          real.ts_ms, bars.ts_ms) else real.ts_ms)


def _missing(ts: np.ndarray, bar_ms: int) -> np.ndarray:
    step = np.diff(ts)
    idx = np.flatnonzero(step > bar_ms)
    if not idx.size:
        return np.empty(0, np.int64)
    return np.concatenate([np.arange(ts[i] + bar_ms, ts[i + 1], bar_ms) for i in idx])


def _realized_input(realized, bars: Bars, score_bar_ms: int | None, fmt: str, venue: str,
                    symbol: str) -> RealizedBars:
    if isinstance(realized, RealizedBars):
        return realized
    if isinstance(realized, RealizedLiquidations):
        liq = realized
    else:
        path = Path(realized)
        kind = _realized_kind(path) if fmt == "auto" else fmt
        if kind == "totals":
            return read_realized_bars(path)
        if kind not in ("snapshot", "forceorder", "events"):
            raise InputError(f"--realized-format must be auto, totals, snapshot or "
                             f"forceorder, got {fmt!r}")
        from liqmap.venues.binance import (
            liquidation_file_format,
            load_forceorder_csv,
            load_liquidation_snapshot,
        )

        if not path.is_file():
            raise DataError("file not found; check the --realized path", source=str(path))
        if kind == "events":
            try:
                kind = liquidation_file_format(path)
            except InputError:
                raise DataError("neither per-bar realized totals (columns "
                                f"{','.join(REALIZED_COLUMNS)}) nor a Binance "
                                "liquidationSnapshot / forceOrder file; fix the columns or "
                                "give --realized-format totals|snapshot|forceorder",
                                source=str(path)) from None
        base = symbol.split("/")[0]
        liq = (load_liquidation_snapshot(path, venue=venue, symbol=symbol) if kind == "snapshot"
               else load_forceorder_csv(path, symbol_stripped=base, venue=venue,
                                        symbol=symbol))
    bar_ms = int(score_bar_ms or _bar_ms(bars))
    return realized_from_events(liq, bar_ms, int(bars.ts_ms[0]),
                                int(bars.ts_ms[-1]) + _bar_ms(bars))


def _realized_kind(path: Path) -> str:
    from liqmap.io.generic import read_table

    cols = set(read_table(path).columns)
    return "totals" if cols & set(REALIZED_COLUMNS) else "events"


def load_dataset(bars, realized, *, fit_until_ms: int | None = None,
                 score_from_ms: int | None = None, start_ms: int | None = None,
                 end_ms: int | None = None, venue: str = "binance",
                 symbol: str = "BTC/USDT:USDT", oi_unit: str = "base",
                 contract_size: float | None = None, repair: bool = False,
                 realized_format: str = "auto", score_bar_ms: int | None = None,
                 warmup_hours: float | None = None, name: str | None = None) -> WindowData:
    """A dataset from files (or already loaded objects).

    Parameters
    ----------
    bars : path-like or Bars
        A bar file in the documented layout (:func:`liqmap.io.load_bars`).
    realized : path-like, RealizedBars or RealizedLiquidations
        Per-bar totals (``ts_ms,long_usd,short_usd``) or an event file
        (``realized_format``: ``auto``, ``totals``, ``snapshot``, ``forceorder``).
    fit_until_ms, score_from_ms, warmup_hours :
        See :func:`dataset`.
    start_ms, end_ms : int, optional
        Keep bars opening in ``[start_ms, end_ms)``.
    score_bar_ms : int, optional
        Scoring bar for event files (default: the engine bar).
    """
    if not isinstance(bars, Bars):
        from liqmap.io.generic import load_bars

        path = Path(bars)
        bars = load_bars(path, oi_unit=oi_unit, contract_size=contract_size, repair=repair,
                         venue=venue, symbol=symbol, gaps="ignore")
        name = name or path.name.split(".")[0]
    bars = _slice(bars, start_ms, end_ms)
    real = _realized_input(realized, bars, score_bar_ms, realized_format, bars.venue,
                           bars.symbol)
    return dataset(bars, real, fit_until_ms=fit_until_ms, score_from_ms=score_from_ms,
                   name=name or "custom", warmup_hours=warmup_hours)


def _slice(bars: Bars, start_ms: int | None, end_ms: int | None) -> Bars:
    keep = np.ones(len(bars), bool)
    if start_ms is not None:
        keep &= bars.ts_ms >= start_ms
    if end_ms is not None:
        keep &= bars.ts_ms < end_ms
    if keep.sum() < 2:
        raise ConfigError("fewer than 2 bars between --start and --end; widen the span")
    return bars if keep.all() else bars.take(keep)


def from_store(store, venue: str, symbol: str, *, start_ms: int | None = None,
               end_ms: int | None = None, fit_until_ms: int | None = None,
               score_from_ms: int | None = None, score_bar_ms: int | None = None,
               warmup_hours: float | None = None) -> WindowData:
    """A dataset from a store: its bars and its realized events of one venue and symbol.

    Raises
    ------
    DataError
        The store has no bars or no realized liquidations for the series (names the store
        file and the command that fills it).
    """
    path = getattr(store, "path", "<store>")
    bars = store.read_bars(venue, symbol, start_ms, end_ms)
    if bars is None or len(bars) < 2:
        raise DataError(f"no bars of {venue} {symbol} in the store (in the span asked); "
                        "fill it with `liqmap ingest-bars`, `liqmap download` or "
                        "`liqmap live --db`", source=str(path))
    liq = store.read_realized(venue, symbol, start_ms, end_ms)
    if liq is None or len(liq) == 0:
        raise DataError(f"no realized liquidations of {venue} {symbol} in the store; fill "
                        "it with `liqmap ingest-liquidations` or `liqmap live --db`",
                        source=str(path))
    bar_ms = _bar_ms(bars)
    real = realized_from_events(liq, int(score_bar_ms or bar_ms), int(bars.ts_ms[0]),
                                int(bars.ts_ms[-1]) + bar_ms)
    real = replace(real, source=f"{path} realized ({venue} {symbol})")
    return dataset(bars, real, fit_until_ms=fit_until_ms, score_from_ms=score_from_ms,
                   name=f"{venue}-{symbol.split(':')[0].replace('/', '')}",
                   warmup_hours=warmup_hours)


def export_inputs(data: WindowData, folder) -> dict[str, str]:
    """Write a dataset's inputs as ``folder/bars.csv`` (the documented bar layout, open
    interest in base units) and ``folder/realized.csv`` (``ts_ms,long_usd,short_usd`` per
    scoring bar), so that loading them with :func:`load_dataset` gives the same dataset.

    Floats are written with 17 significant digits (exact round trip).
    """
    import pandas as pd

    folder = Path(folder)
    b = data.bars
    cols = {"ts_ms": b.ts_ms}
    for c in BAR_COLUMNS[1:]:
        v = getattr(b, c, None)
        if v is not None:
            cols[c] = v
    real = {"ts_ms": np.asarray(data.score_ts, np.int64),
            "long_usd": data.realized_long_usd, "short_usd": data.realized_short_usd}
    files = {}
    for fname, table in (("bars.csv", cols), ("realized.csv", real)):
        path = folder / fname
        with atomic_path(path) as tmp:
            pd.DataFrame(table).to_csv(tmp, index=False, float_format="%.17g")
        files[fname.split(".")[0]] = str(path)
    return files
