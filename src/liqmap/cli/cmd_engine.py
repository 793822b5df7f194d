"""Engine commands: ``demo``, ``heatmap``, ``map``, ``show-config``."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from liqmap._exceptions import ConfigError
from liqmap.cli import _options as o
from liqmap.timeutil import parse_time_ms

if TYPE_CHECKING:  # building the commands and their --help loads no numpy
    from liqmap.core.bars import Bars

__all__ = ["register"]


def _load(spec: str | None, sample: str, oi_unit: str, contract_size, repair: bool,
          venue: str, symbol: str | None = None) -> Bars:
    from liqmap.io.generic import load_bars
    from liqmap.io.sample import load_sample

    if spec is None:
        bars = load_sample(sample)
        if symbol is not None and symbol != bars.symbol:
            raise ConfigError(f"--symbol {symbol}: the sample {sample} is {bars.symbol}; give "
                              "the bars of that symbol with --input FILE")
        return bars
    path, _, file_venue = spec.partition("@")
    return load_bars(path, oi_unit=oi_unit, contract_size=contract_size, repair=repair,
                     venue=file_venue or venue, symbol=symbol or "BTC/USDT:USDT")


def _check_distinct_files(specs: list[str]) -> None:
    """Refuse one file given twice: the same resolved path, or identical content."""
    import hashlib

    seen: dict = {}
    for spec in specs:
        path = Path(spec.partition("@")[0])
        if not path.is_file():
            continue  # the loader names a missing file
        with path.open("rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
        for key, how in (((0, path.resolve()), "the same file"),
                         ((1, digest), "files with identical content")):
            if key in seen:
                raise ConfigError(f"--input {seen[key]} and --input {spec} are {how}: summing "
                                  "them doubles the totals; give each venue's file once")
            seen[key] = spec


def _instant(loaded: list[Bars], at_ms: int | None) -> int | None:
    """The map time: ``--at`` checked against the data; for several venues, the one
    instant all maps are taken at (``--at``, else the latest instant all inputs cover)."""
    from liqmap.model import check_at_ms, common_at_ms

    if len(loaded) > 1:
        return common_at_ms(loaded, at_ms, name="--at")
    if at_ms is not None:
        check_at_ms(loaded[0], at_ms, name="--at")
    return at_ms


def run_engine(inputs, *, sample, oi_unit, contract_size, repair, lookback, at, out, as_json,
               no_plots, config, flags, heatmap: bool, up_pct=0.2, down_pct=0.2,
               warmup=None, opened_within=None, self_contained_html=False,
               symbol=None) -> dict:
    """Load, estimate (one model per input venue), aggregate, plot, summarise.

    ``warmup`` / ``opened_within`` go to ``LiquidationModel.run`` as given (it parses them):
    the drawn span is ``lookback``, the map counts positions opened within ``opened_within``.
    """
    from liqmap.cli.config import build_model
    from liqmap.core import mapstats
    from liqmap.params import flag_key, parse_run_param

    model = build_model(flags, config_path=config)
    for name, value in (("warmup", warmup), ("opened_within", opened_within)):
        parse_run_param(name, value, flag_key(name))  # refused before loading, by its flag
    if not no_plots:
        from liqmap.outputs import ensure_out_dir

        ensure_out_dir(out)  # refuse a bad --out before the work, not after
    specs = inputs or [None]
    at_ms = parse_time_ms(at)
    if len(specs) > 1:
        _check_distinct_files(specs)
    ests = []
    with _progress(quiet=as_json) as bar:
        loaded = [_load(spec, sample, oi_unit, contract_size, repair,
                        flags.get("venue") or model.venue, symbol) for spec in specs]
        at_ms = _instant(loaded, at_ms)
        for spec, bars in zip(specs, loaded):
            task = bar.add_task(f"level book {spec or sample}", total=None)
            m = replace(model, venue=bars.venue) if spec and "@" in spec else model
            ests.append(m.run(bars, lookback=lookback, at_ms=at_ms, warmup=warmup,
                              opened_within=opened_within,
                              progress=lambda d, n, _name, t=task: bar.update(t, total=n,
                                                                              completed=d)))
    est = ests[0]
    summary = est.summary()
    summary["repairs"] = list(est.bars.repairs)
    final = est.final_map
    if len(ests) > 1:
        if at_ms is None:  # cannot happen: _instant gives several inputs their common instant
            raise RuntimeError("several inputs without a common instant")
        # each venue's map stands at the common instant (its bar open at or before it)
        final = mapstats.aggregate([replace(e.final_map, ts_ms=at_ms) for e in ests])
        summary["venues"] = [e.bars.venue for e in ests]
        summary["aggregate_map"] = mapstats.summary(final)
        summary["engine_seconds"] = sum(e.engine_seconds for e in ests)
        summary["load_seconds"] = sum(e.load_seconds for e in ests)
    summary["imbalance"] = _imbalance_dict(mapstats.imbalance(final, up_pct, down_pct))
    if not no_plots:
        summary["files"] = _plots(est, final, Path(out), heatmap, self_contained_html)
    return summary


class _NoProgress:
    """What ``_progress`` gives when nothing would be drawn: rich is not even imported."""

    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add_task(self, *args: object, **kwargs: object) -> int:
        return 0

    def update(self, *args: object, **kwargs: object) -> None:
        return None


def _progress(quiet: bool):
    """A rich progress bar on stderr (silent with --json or when stderr is not a terminal)."""
    if quiet or not sys.stderr.isatty():
        return _NoProgress()
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True, quiet=quiet)
    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn(
        "{task.completed}/{task.total} presets"), TimeElapsedColumn(), console=console,
        transient=True)


def _imbalance_dict(imb) -> dict:
    from dataclasses import asdict

    return {k: (None if v is None or v != v else v) for k, v in asdict(imb).items()}


def _plots(est, final, out: Path, heatmap: bool, self_contained: bool = False) -> dict:
    from liqmap.outputs import ensure_out_dir
    from liqmap.plots.render import render_estimate, render_map

    ensure_out_dir(out)
    if heatmap:
        files = render_estimate(est, out, final_map=final, self_contained=self_contained)
    else:
        files = render_map(final, out, convention=est.model.convention,
                           self_contained=self_contained)
    return {k: str(v) for k, v in files.items()}


_SYMBOL = o.symbol(None, "ccxt symbol of the --input bars (ETH/USDT:USDT): the model "
                   "prices them with that symbol's tier table (default BTC/USDT:USDT).")


def _engine_command(name: str, heatmap: bool):
    def command(
        inputs: list[str] | None = o.INPUT, sample: str = o.SAMPLE,
        oi_unit: str = o.OI_UNIT, contract_size: float | None = o.CONTRACT_SIZE,
        repair: bool = o.REPAIR, lookback: str | None = o.LOOKBACK,
        warmup: str | None = o.WARMUP, opened_within: str | None = o.OPENED_WITHIN,
        at: str | None = o.AT, out: str = o.OUT, as_json: bool = o.JSON,
        no_plots: bool = o.NO_PLOTS, config: str | None = o.CONFIG,
        self_contained_html: bool = o.SELF_CONTAINED_HTML,
        venue: str | None = o.VENUE, symbol: str | None = _SYMBOL,
        leverage: str | None = o.LEVERAGE,
        side_model: str | None = o.SIDE_MODEL, side_strength: float | None = o.SIDE_STRENGTH,
        oi_policy: str | None = o.OI_POLICY, half_life: str | None = o.HALF_LIFE,
        position_usd: float | None = o.POSITION_USD, bin_usd: float | None = o.BIN_USD,
        band: str | None = o.BAND, tier_version: str | None = o.TIER_VERSION,
        convention: str | None = o.CONVENTION,
        up_pct: float = o.UP_PCT, down_pct: float = o.DOWN_PCT,
    ) -> None:
        flags = o.model_flags(venue, leverage, side_model, side_strength, oi_policy, half_life,
                              position_usd, bin_usd, band, tier_version, convention)
        summary = run_engine(inputs, sample=sample, oi_unit=oi_unit,
                             contract_size=contract_size, repair=repair, lookback=lookback,
                             at=at, out=out, as_json=as_json, no_plots=no_plots,
                             config=config, flags=flags, heatmap=heatmap,
                             up_pct=up_pct / 100.0, down_pct=down_pct / 100.0,
                             warmup=warmup, opened_within=opened_within,
                             self_contained_html=self_contained_html, symbol=symbol)
        _emit(summary, as_json)

    command.__name__ = name
    command.__doc__ = (
        "Build the liquidation heatmap (price x time) over --lookback, warmed up on the "
        "history before it (--warmup) so its first column shows the standing levels, and the "
        "final map; write PNG + HTML."
        if heatmap else
        "The liquidation map at a moment (--at): cumulative shorts above, longs below, "
        "imbalance, clusters, densest zone, max pain. Repeat --input FILE@venue to aggregate "
        "venues.")
    return command


def _emit(summary: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary, default=_jsonable, allow_nan=False))
    else:
        from liqmap.cli._render import print_summary

        print_summary(summary)


def _jsonable(x):
    import numpy as np

    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    return str(x)


def register(app: typer.Typer) -> None:
    """Add the engine commands to ``app``."""
    app.command("heatmap")(_engine_command("heatmap", heatmap=True))
    app.command("map")(_engine_command("map", heatmap=False))

    @app.command("demo")
    def demo(out: str = o.OUT, as_json: bool = o.JSON,
             lookback: str = o.lookback("30d", "Window of the bundled sample to show."),
             self_contained_html: bool = o.SELF_CONTAINED_HTML) -> None:
        """The main job on bundled real Binance BTCUSDT data: heatmap + map into --out."""
        summary = run_engine(None, sample="btcusdt-5m-2025-12", oi_unit="base",
                             contract_size=None, repair=False, lookback=lookback, at=None,
                             out=out, as_json=as_json, no_plots=False, config=None, flags={},
                             heatmap=True, self_contained_html=self_contained_html)
        _emit(summary, as_json)

    @app.command("show-config")
    def show_config(config: str | None = o.CONFIG, as_json: bool = o.JSON) -> None:
        """Print the model configuration after layering defaults, file, env and flags."""
        from liqmap.cli.config import resolve_config

        values, origin = resolve_config({}, config_path=config)
        if as_json:
            print(json.dumps({"values": values, "origin": origin}, default=_jsonable))
            return
        for k, v in values.items():
            print(f"{k:24s} {v!s:40s} ({origin[k]})")
