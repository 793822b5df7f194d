"""``liqmap market-state``: OI flush, realized liquidations per day, funding reset, imbalance."""

from __future__ import annotations

import json

import typer

from liqmap._exceptions import ConfigError
from liqmap.cli import _options as o
from liqmap.timeutil import parse_time_ms

__all__ = ["load_source", "register"]

_WINDOW = o.window(None, "Scorecard window from the shared data (A), with realized "
                   "liquidations.")
_SAMPLE = o.sample(None, "Bundled sample name (e.g. btcusdt-5m-2025-12).")
_INPUT = o.input_file(None, "Bar file (CSV, CSV.gz, Parquet) with open_interest in base units.")
_START = o.start(None, "Window start: ISO time (UTC) or Unix ms.")
_END = o.end(None, "Window end (exclusive): ISO time (UTC) or Unix ms.")
_POINTS = typer.Option(5, "--points", help="Times at which the map's imbalance is read "
                       "(0 = skip the model).")


def load_source(window: str | None, sample: str | None, input_path: str | None,
                data_dir: str | None, *, realized: str | None = None, db: str | None = None,
                venue: str | None = None, symbol: str | None = None):
    """``(bars, realized-or-None)`` from exactly one of window / sample / input / db (sample
    default). ``--input`` with ``--realized`` and ``--db`` go through the scorecard's one
    input path (:class:`liqmap.cli._dataset.ScoringInputs`)."""
    given = [x for x in (window, sample, input_path, db) if x is not None]
    if len(given) > 1:
        raise ConfigError("give one of --window, --sample, --input, --db")
    if realized is not None or db is not None:
        from liqmap.cli._dataset import ScoringInputs

        w = ScoringInputs(input_path=input_path, realized=realized, db=db, venue=venue,
                          symbol=symbol).load()
        return w.bars, {"ts_ms": w.score_ts, "long_usd": w.realized_long_usd,
                        "short_usd": w.realized_short_usd}
    if window is not None:
        from liqmap.scorecard.data import load_window

        w = load_window(window, data_dir)
        return w.bars, {"ts_ms": w.bars.ts_ms, "long_usd": w.realized_long_usd,
                        "short_usd": w.realized_short_usd}
    if input_path is not None:
        from liqmap.io.generic import load_bars

        return load_bars(input_path), None
    from liqmap.io.sample import load_sample

    return (load_sample(sample) if sample else load_sample()), None


def register(app: typer.Typer) -> None:
    """Add ``market-state`` to ``app``."""

    @app.command("market-state")
    def market_state_cmd(
        window: str | None = _WINDOW, sample: str | None = _SAMPLE,
        input_path: str | None = _INPUT, realized: str | None = o.REALIZED,
        db: str | None = o.SCORING_DB,
        venue: str | None = o.venue(None, "Series of --db (default binance)."),
        symbol: str | None = o.symbol(None, "Series of --db (default BTC/USDT:USDT)."),
        data_dir: str | None = o.DATA_DIR,
        start: str | None = _START, end: str | None = _END, points: int = _POINTS,
        as_json: bool = o.JSON_OBJECT,
    ) -> None:
        """Open-interest flush, realized liquidations per day and side, funding reset and the
        map's long/short imbalance trend over a window, in numbers and sentences."""
        from liqmap.studies.market_state import market_state

        bars, real = load_source(window, sample, input_path, data_dir, realized=realized,
                                 db=db, venue=venue, symbol=symbol)
        st = market_state(bars, real, parse_time_ms(start), parse_time_ms(end),
                          imbalance_points=points)
        if as_json:
            d = st.to_dict()
            d["sentences"] = st.sentences()
            print(json.dumps(d, allow_nan=False))
        else:
            print("\n".join(st.sentences()))
