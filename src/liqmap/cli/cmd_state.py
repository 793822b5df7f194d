"""``liqmap market-state``: OI flush, realized liquidations per day, funding reset, imbalance."""

from __future__ import annotations

import json
from typing import Optional

import typer

from liqmap.cli import _options as o

from liqmap._exceptions import ConfigError
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
                data_dir: str | None):
    """``(bars, realized-or-None)`` from exactly one of window / sample / input (sample default)."""
    given = [x for x in (window, sample, input_path) if x is not None]
    if len(given) > 1:
        raise ConfigError("give one of --window, --sample, --input")
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
        window: Optional[str] = _WINDOW, sample: Optional[str] = _SAMPLE,
        input_path: Optional[str] = _INPUT, data_dir: Optional[str] = o.DATA_DIR,
        start: Optional[str] = _START, end: Optional[str] = _END, points: int = _POINTS,
        as_json: bool = o.JSON_OBJECT,
    ) -> None:
        """Open-interest flush, realized liquidations per day and side, funding reset and the
        map's long/short imbalance trend over a window, in numbers and sentences."""
        from liqmap.studies.market_state import market_state

        bars, realized = load_source(window, sample, input_path, data_dir)
        st = market_state(bars, realized, parse_time_ms(start), parse_time_ms(end),
                          imbalance_points=points)
        if as_json:
            d = st.to_dict()
            d["sentences"] = st.sentences()
            print(json.dumps(d, allow_nan=False))
        else:
            print("\n".join(st.sentences()))
