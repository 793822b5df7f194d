"""The scoring inputs every scorecard command reads, resolved in one place.

Exactly one source: a research window of the shared data (``--window A``, the default),
the user's files (``--input BARS --realized REALIZED``) or a store (``--db FILE --venue V
--symbol S``); ``--fit-until`` and ``--score-from`` set the spans on any of them.
"""

from __future__ import annotations

from dataclasses import replace

from liqmap._exceptions import ConfigError
from liqmap.core.timeunits import UNIT_MS
from liqmap.timeutil import parse_time_ms

__all__ = ["ScoringInputs", "bar_ms_of", "load_scoring_data"]


def bar_ms_of(text: str | None) -> int | None:
    """``"1h"`` -> 3,600,000 (``m``, ``h``, ``d``); None stays None."""
    if text is None:
        return None
    t = text.strip().lower()
    try:
        n, unit = int(t[:-1]), t[-1]
        if n > 0 and unit in UNIT_MS:
            return n * UNIT_MS[unit]
    except ValueError:
        pass
    raise ConfigError(f"--score-bar {text!r}: give a number and m, h or d (e.g. 30m, 1h)")


class ScoringInputs:
    """The raw option values (strings as typed), checked and turned into a dataset."""

    def __init__(self, *, window: str | None = None, data_dir: str | None = None,
                 input_path: str | None = None, realized: str | None = None,
                 db: str | None = None, venue: str | None = None, symbol: str | None = None,
                 start: str | None = None, end: str | None = None,
                 fit_until: str | None = None, score_from: str | None = None,
                 realized_format: str = "auto", score_bar: str | None = None,
                 oi_unit: str = "base", contract_size: float | None = None,
                 repair: bool = False, warmup_hours: float | None = None) -> None:
        self.window, self.data_dir = window, data_dir
        self.input_path, self.realized, self.db = input_path, realized, db
        self.venue, self.symbol = venue, symbol
        self.start_ms, self.end_ms = parse_time_ms(start), parse_time_ms(end)
        self.fit_until_ms, self.score_from_ms = parse_time_ms(fit_until), parse_time_ms(score_from)
        self.realized_format, self.score_bar_ms = realized_format, bar_ms_of(score_bar)
        self.oi_unit, self.contract_size, self.repair = oi_unit, contract_size, repair
        self.warmup_hours = warmup_hours
        self._check()

    @property
    def kind(self) -> str:
        """``"files"``, ``"store"`` or ``"window"``."""
        if self.input_path is not None:
            return "files"
        return "store" if self.db is not None else "window"

    def _check(self) -> None:
        if sum(x is not None for x in (self.input_path, self.db)) > 1 or (
                self.window is not None and self.kind != "window"):
            raise ConfigError("give one source: --window, --input with --realized, or --db")
        if self.input_path is not None and self.realized is None:
            raise ConfigError("--input needs --realized (per-bar totals ts_ms,long_usd,"
                              "short_usd, or a liquidation event file) to score against")
        if self.realized is not None and self.input_path is None:
            raise ConfigError("--realized goes with --input BARS (the store has its own "
                              "realized table; windows A and C bring theirs)")
        if self.kind != "store" and (self.venue or self.symbol) and self.kind == "window":
            raise ConfigError("--venue and --symbol select a series of --db (or name the "
                              "series of --input); window A is Binance BTC/USDT:USDT")

    def load(self):
        """The dataset (:class:`~liqmap.scorecard.windows.WindowData`)."""
        from liqmap.scorecard import dataset as ds

        if self.kind == "files":
            from liqmap.store import canonical_series

            venue, symbol = canonical_series(self.venue or "binance",
                                             self.symbol or "BTC/USDT:USDT")
            data = ds.load_dataset(
                self.input_path, self.realized, fit_until_ms=self.fit_until_ms,
                score_from_ms=self.score_from_ms, start_ms=self.start_ms, end_ms=self.end_ms,
                venue=venue, symbol=symbol, oi_unit=self.oi_unit,
                contract_size=self.contract_size, repair=self.repair,
                realized_format=self.realized_format, score_bar_ms=self.score_bar_ms,
                warmup_hours=self.warmup_hours)
        elif self.kind == "store":
            from liqmap.store import canonical_series, open_store

            venue, symbol = canonical_series(self.venue or "binance",
                                             self.symbol or "BTC/USDT:USDT")
            with open_store(self.db, read_only=True) as store:
                data = ds.from_store(store, venue, symbol, start_ms=self.start_ms,
                                     end_ms=self.end_ms, fit_until_ms=self.fit_until_ms,
                                     score_from_ms=self.score_from_ms,
                                     score_bar_ms=self.score_bar_ms,
                                     warmup_hours=self.warmup_hours)
        else:
            from liqmap.scorecard.data import load_window

            data = load_window((self.window or "A").upper(), self.data_dir,
                               start_ms=self.start_ms, end_ms=self.end_ms)
            data = self._window_spans(data)
        return data

    def _window_spans(self, data):
        if self.fit_until_ms is None and self.score_from_ms is None:
            return data
        fit = data.spec.calibration_end_ms if self.fit_until_ms is None else self.fit_until_ms
        score = fit if self.score_from_ms is None else self.score_from_ms
        if score < fit:
            from liqmap.timeutil import iso_minute

            raise ConfigError(f"--score-from ({iso_minute(score)}) is before --fit-until "
                              f"({iso_minute(fit)}): those bars would be scored on data the "
                              "fit saw; set --score-from at or after --fit-until")
        return replace(data, spec=replace(data.spec, calibration_end_ms=fit,
                                          score_from_ms=score))


def load_scoring_data(**options):
    """``ScoringInputs(**options).load()``."""
    return ScoringInputs(**options).load()
