"""``liqmap brief``: the map read the way traders read one, in numbers and one paragraph.

Same figures as ``/api/v1/brief``: both call :func:`liqmap.studies.brief.brief_for`.
"""

from __future__ import annotations

import json

import typer

from liqmap.cli import _options as o
from liqmap.timeutil import parse_time_ms

__all__ = ["load_map_bars", "register"]

_INPUT = o.input_file(None, "Bar file (CSV, CSV.gz, Parquet) in the documented layout.")
_SAMPLE = o.sample(None, "Bundled sample (default btcusdt-5m-2025-12 when no --input/--db).")
_DB = o.db("DuckDB store: read the bars of --venue/--symbol from it.")
_SCORECARD = o.scorecard_dir("Folder of `liqmap backtest --levels` outputs: their measured "
                             "figures replace the generic caveat.")


def load_map_bars(input_path: str | None, sample: str | None, db: str | None,
                  venue: str | None, symbol: str | None, oi_unit: str = "base",
                  contract_size: float | None = None):
    """Bars from exactly one of --input, --sample, --db (default: the bundled sample); files
    and samples load as ``heatmap``/``map`` load them (``cmd_engine._load``)."""
    from liqmap._exceptions import ConfigError, DataError
    from liqmap.cli.cmd_engine import _load
    from liqmap.io.sample import DEFAULT_SAMPLE

    if sum(x is not None for x in (input_path, sample, db)) > 1:
        raise ConfigError("give one of --input, --sample, --db")
    if db is None:
        return _load(input_path, sample or DEFAULT_SAMPLE, oi_unit, contract_size, False,
                     venue or "binance", symbol)
    from liqmap.store import canonical_series, open_store

    v, s = canonical_series(venue or "binance", symbol or "BTC/USDT:USDT")
    with open_store(db, read_only=True) as store:
        bars = store.read_bars(v, s)
    if bars is None or len(bars) < 2:
        raise DataError(f"no bars of {v} {s} in the store; fill it with `liqmap ingest-bars` "
                        "or `liqmap live --db`", source=str(db))
    return bars


def _model(convention: str | None, venue: str = "binance"):
    """The product's default map for ``venue`` (the bars' venue: its rules and tier
    tables, as ``/api/v1/brief``), in the convention asked for."""
    from liqmap.model import LiquidationModel
    from liqmap.params import parse_param

    if convention is None:
        return LiquidationModel(venue=venue)
    return LiquidationModel(venue=venue,
                            convention=parse_param("convention", convention, "--convention"))


def register(app: typer.Typer) -> None:
    """Add ``brief`` to ``app``."""

    @app.command("brief")
    def brief_cmd(
        input_path: str | None = _INPUT, sample: str | None = _SAMPLE, db: str | None = _DB,
        venue: str | None = o.venue(None, "Venue of --input or series of --db (default "
                                    "binance)."),
        symbol: str | None = o.symbol(None, "Symbol of --input or series of --db (default "
                                      "BTC/USDT:USDT)."),
        oi_unit: str = o.OI_UNIT, contract_size: float | None = o.CONTRACT_SIZE,
        at: str | None = o.AT, lookback: str | None = o.lookback(None, "Count only the "
                                                                   "positions opened within "
                                                                   "this window ending at "
                                                                   "--at (default: all the "
                                                                   "history up to --at)."),
        scorecard_dir: str = _SCORECARD, convention: str | None = o.CONVENTION,
        as_json: bool = o.JSON,
    ) -> None:
        """The reading of the map: shorts vs longs within 5/10/20 % (N:1), the layers and
        whether they form a staircase, the densest zone, the squeeze ceiling and flush floor,
        the levels to watch, and the measured caveat; as one paragraph and in JSON."""
        from liqmap.studies.brief import brief_for

        bars = load_map_bars(input_path, sample, db, venue, symbol, oi_unit, contract_size)
        store_cm = None
        if db is not None:
            from liqmap.store import open_store

            store_cm = open_store(db, read_only=True)
        try:
            out = brief_for(bars, model=_model(convention, bars.venue), lookback=lookback,
                            at_ms=parse_time_ms(at), scorecard_dir=scorecard_dir,
                            store=store_cm)
        finally:
            if store_cm is not None:
                store_cm.close()
        if as_json:
            print(json.dumps(out, allow_nan=False))
        else:
            print(out["text"])
