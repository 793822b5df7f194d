"""``liqmap scan``: the market at once, one row per symbol and venue (``liqmap.scaleout.scan``).

Sources: a store (``--db``, default ``$LIQMAP_DB`` or ``./liqmap.duckdb``), bar files
(``--input FILE@VENUE:SYMBOL``, repeat) or a generated market (``--generated N``: N symbols x
the four venues, random-walk bars, labelled as generated; not market data) or the venues now
(``--live --venue V --top-oi N``: each venue's N linear perpetuals with the largest open
interest, ranked through ccxt, scanned from freshly fetched bars; ``liqmap.venues.oi_rank``
says how each venue is ranked). Runs in-process,
on a local Dask cluster (``--scheduler local``) or on a scheduler address; the rows are the
same on each.

Example::

    liqmap scan --generated 30 --sort nearest-cluster --top 10
    liqmap scan --db liqmap.duckdb --venue okx --venue bybit --scheduler local --json
    liqmap scan --live --venue bybit --venue okx --top-oi 10 --lookback 3d
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from liqmap._exceptions import ConfigError, InputError
from liqmap.cli import _options as o
from liqmap.fmt import fmt_price, fmt_usd

__all__ = ["register"]

_DB = o.db("DuckDB store to scan (default $LIQMAP_DB, else ./liqmap.duckdb when no --input "
           "or --generated is given).")
_INPUTS = o.input_file([], "Bar file as FILE@VENUE:SYMBOL, e.g. eth.csv@okx:ETH/USDT:USDT "
                       "(repeat).")
_GENERATED = typer.Option(None, "--generated", help="Scan a generated market of N symbols x "
                          "the four venues (deterministic random-walk bars with open interest; "
                          "for demos and tests, not market data).", metavar="N")
_VENUES = o.venue([], "Only these venues (repeat): binance, bybit, okx, hyperliquid, ...")
_SYMBOLS = o.symbol([], "Only these symbols (repeat): a ccxt symbol or its base (ETH).")
_SORT = typer.Option("imbalance", "--sort", help="Order: imbalance (largest |ln(shorts/longs)| "
                     "within 20%), nearest-cluster, ceiling (nearest squeeze ceiling), floor "
                     "(nearest flush floor), symbol.")
_TOP = typer.Option(None, "--top", min=1, help="Show the first K rows only.", metavar="K")
_LIVE = o.live("Scan the venues now: each --venue's --top-oi linear perpetuals (USDT; USDC "
                "on Hyperliquid) with the largest open interest, ranked through ccxt, from "
                "bars fetched over REST for --lookback (default 7d); symbols whose bars "
                "cannot be fetched are listed as skipped.")
_TOP_OI = typer.Option(None, "--top-oi", help="With --live: how many symbols per venue (1 to "
                       "50), by open interest in USD.", metavar="N")
_SCHEDULER = o.scheduler("none", "none (in-process), local (a LocalCluster of 2 worker "
                         "processes) or a Dask scheduler address tcp://HOST:PORT.")


def _file_source(spec: str, oi_unit: str) -> tuple[str, str, Any]:
    from liqmap.io.generic import load_bars

    path, at, name = spec.rpartition("@")
    venue, colon, symbol = name.partition(":")
    if not (path and at and venue and colon and symbol):
        raise ConfigError(f"--input {spec!r}: write FILE@VENUE:SYMBOL, e.g. "
                          "eth.csv@okx:ETH/USDT:USDT")
    if not Path(path).is_file():
        raise InputError(f"--input {spec!r}: no file {path}; check the path")
    return venue, symbol, load_bars(path, venue=venue, symbol=symbol, oi_unit=oi_unit)


def _sources(db: str | None, inputs: list[str], generated: int | None, venues: list[str],
             symbols: list[str], oi_unit: str) -> list:
    from liqmap.scaleout import generated_market, store_sources
    from liqmap.scaleout.market import MARKET_VENUES
    from liqmap.store import open_store

    if generated is not None:
        if db or inputs:
            raise ConfigError("--generated scans a generated market only: drop --db / --input "
                              "(generated series are not mixed with market data)")
        bad = [v for v in venues if v not in MARKET_VENUES]
        if bad:
            raise ConfigError(f"unknown venue(s) {bad} for --generated; use: "
                              f"{', '.join(MARKET_VENUES)}")
        market = generated_market(generated, venues=tuple(venues) or MARKET_VENUES)
        return [s for s in market if not symbols or s.symbol in symbols
                or s.base in {x.upper() for x in symbols}]
    out: list = [_file_source(spec, oi_unit) for spec in inputs]
    if db or not inputs:
        path = db or _default_db()
        with open_store(path, read_only=True) as store:
            out += store_sources(store, venues=venues, symbols=symbols)
    return out


def _live_sources(venues: list[str], top_oi: int | None, lookback: str | None,
                  rest_urls: list[str] | None, now: str | None) -> tuple[list, dict]:
    """Bars of each venue's ``top_oi`` largest perpetuals by open interest, and what was
    chosen, how, and what was skipped (``res["live"]``)."""
    from liqmap.params import LOOKBACKS_MS
    from liqmap.timeutil import parse_time_ms
    from liqmap.venues import LIVE_VENUES
    from liqmap.venues.oi_rank import (
        MAX_TOP,
        OI_RANKING,
        fetch_recent_bars,
        rank_by_open_interest,
    )

    if not venues:
        raise ConfigError(f"--live needs --venue (repeat): {', '.join(LIVE_VENUES)}")
    bad = [v for v in venues if v not in LIVE_VENUES]
    if bad:
        raise ConfigError(f"unknown --venue {bad} for --live; use: {', '.join(LIVE_VENUES)}")
    if len(set(venues)) != len(venues):
        raise ConfigError("give each --venue once")
    if top_oi is None or not 1 <= top_oi <= MAX_TOP:
        raise ConfigError(f"--live needs --top-oi N, a whole number from 1 to {MAX_TOP}; got "
                          f"{top_oi}")
    if rest_urls and len(rest_urls) != len(venues):
        raise ConfigError(f"give one --rest-url per --venue ({len(venues)}), in the same order")
    span = lookback or "7d"
    if span not in LOOKBACKS_MS:
        raise ConfigError(f"unknown --lookback {span!r}; use one of: {', '.join(LOOKBACKS_MS)}")
    urls = dict(zip(venues, rest_urls or []))
    ranked = [m for v in venues for m in rank_by_open_interest(v, top_oi, api_url=urls.get(v))]
    bars, skipped = fetch_recent_bars(ranked, lookback_ms=LOOKBACKS_MS[span],
                                      now_ms=parse_time_ms(now), rest_urls=urls)
    info = {"lookback": span, "top_oi": top_oi,
            "ranking": {v: OI_RANKING[v] for v in venues},
            "chosen": [m.to_dict() for m in ranked], "skipped": skipped}
    if not bars:
        why = "; ".join(f"{s['symbol']}@{s['venue']}: {s['reason']}" for s in skipped)
        raise InputError(f"--live: no bars could be fetched for the chosen symbols ({why})")
    return bars, info


def _default_db() -> str:
    import os

    from liqmap.store import DEFAULT_DB

    path = os.environ.get("LIQMAP_DB") or DEFAULT_DB
    if not Path(path).is_file():
        raise InputError(f"no store at {path}: give --db FILE, --input FILE@VENUE:SYMBOL or "
                         "--generated N (a generated market)")
    return path


def _cluster(c: dict | None) -> str:
    if c is None:
        return "-"
    return f"{fmt_price(c['price_usd'])} {fmt_usd(c['notional_usd'])} {c['distance_pct']:+.1f}%"


def _level(x: dict | None) -> str:
    return "-" if x is None else f"{fmt_price(x['price_usd'])} {x['distance_pct']:+.1f}%"


def _pair(r: dict, pct: int) -> str:
    return f"{fmt_usd(r[f'shorts_{pct}pct_usd'])} / {fmt_usd(r[f'longs_{pct}pct_usd'])}"


def _table(res: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    gen = " - GENERATED MARKET (not market data)" if res["generated"] else ""
    t = Table(title=f"scan: {res['n_series']} series, sorted by {res['sort_by']}{gen}")
    heads = ("symbol", "venue", "price", "shorts / longs\n+-10%", "shorts / longs\n+-20%",
             "ratio\n20%", "nearest long\ncluster", "nearest short\ncluster",
             "squeeze\nceiling", "flush\nfloor", "rules")
    for h in heads:
        t.add_column(h, no_wrap=True,
                     justify="left" if h in ("symbol", "venue", "rules") else "right")
    for r in res["rows"]:
        ratio = r["imbalance_20pct"]
        t.add_row(r["symbol"], r["venue"], fmt_price(r["price_usd"]), _pair(r, 10), _pair(r, 20),
                  "inf" if ratio is None else f"{ratio:.2f}", _cluster(r["nearest_long_cluster"]),
                  _cluster(r["nearest_short_cluster"]), _level(r["squeeze_ceiling"]),
                  _level(r["flush_floor"]), r["rules"])
    console = Console(width=max(Console().width, 200))
    console.print(t)
    for note in res["notes"]:
        console.print(f"note: {note}")
    for s in res.get("live", {}).get("skipped", []):
        console.print(f"skipped {s['symbol']}@{s['venue']} (open interest "
                      f"{fmt_usd(s['oi_usd'])}): {s['reason']}")
    console.print(f"{res['n_tasks']} task(s) of up to {res['batch_size']} series on "
                  f"{res['scheduler']}: {res['seconds']:.2f} s")


def _run(sources: list, sched: str | None, sort: str, top: int | None, lookback: str | None,
         model: Any, as_json: bool) -> dict:
    from liqmap.scaleout import scan

    kw = {"scheduler": sched, "sort_by": sort, "top": top, "lookback": lookback, "model": model}
    if as_json:
        return scan(sources, **kw).to_dict()
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        job = bar.add_task("scan", total=None)
        res = scan(sources, progress=lambda d, n, _: bar.update(job, completed=d, total=n), **kw)
    return res.to_dict()


def register(app: typer.Typer) -> None:
    """Add ``scan`` to ``app``."""

    @app.command("scan")
    def scan_cmd(
        db: str | None = _DB, inputs: list[str] = _INPUTS, generated: int | None = _GENERATED,
        venue: list[str] = _VENUES, symbol: list[str] = _SYMBOLS, sort: str = _SORT,
        top: int | None = _TOP, scheduler: str = _SCHEDULER,
        lookback: str | None = o.lookback(None, "Window of each series ending at its last bar "
                                             "(12h, 24h, 3d, 7d, 30d, ...); default all bars."),
        oi_unit: str = o.OI_UNIT, as_json: bool = o.JSON, config: str | None = o.CONFIG,
        leverage: str | None = o.LEVERAGE, half_life: str | None = o.HALF_LIFE,
        tier_version: str | None = o.TIER_VERSION, live: bool = _LIVE,
        top_oi: int | None = _TOP_OI, rest_url: list[str] | None = o.REST_URL,
        now: str | None = o.NOW,
    ) -> None:
        """The market at once: one liquidation map per symbol and venue, in one table."""
        from liqmap.cli.config import build_model
        from liqmap.scaleout import SORTS

        if sort not in SORTS:
            raise ConfigError(f"unknown --sort {sort!r}; use one of: {', '.join(SORTS)}")
        flags = o.model_flags(None, leverage, None, None, None, half_life, None, None, None,
                              tier_version)
        model = build_model(flags, config_path=config)
        live_info = None
        if live:
            if db or inputs or generated is not None or symbol:
                raise ConfigError("--live scans the venues' largest perpetuals by open "
                                  "interest: drop --db / --input / --generated / --symbol")
            sources, live_info = _live_sources(venue, top_oi, lookback, rest_url, now)
            lookback = None  # the bars fetched are the lookback
        elif top_oi is not None or rest_url or now:
            raise ConfigError("--top-oi, --rest-url and --now go with --live")
        else:
            sources = _sources(db, inputs, generated, venue, symbol, oi_unit)
        sched = None if scheduler.strip().lower() in ("none", "serial") else scheduler
        res = _run(sources, sched, sort, top, lookback, model, as_json)
        if live_info is not None:
            res["live"] = live_info
        if as_json:
            print(json.dumps(res, allow_nan=False))
        else:
            _table(res)
