"""``liqmap tiers``: a venue's maintenance-margin tiers for one symbol, with their source.

Prints the shipped table in force on ``--version`` (default the latest): its tiers,
``version``, ``source`` and whether every tier was read from a recorded venue answer
(``verified``). An unknown symbol is refused with the shipped ones listed (exit 2).
With ``--db``, tables fetched earlier by ``--refresh`` (stored, versioned by the fetch date)
are looked up with the shipped ones; maps made from that store's bars look them up the same
way, as of the map's time (``liqmap.model_setup.symbol_tier_table``). ``--refresh`` fetches
the venue's current table through ccxt, no key (Bybit, OKX USDT perpetuals: public
``fetch_market_leverage_tiers``; Hyperliquid: the margin tables of its public ``meta`` answer)
and stores it; Binance is refused (its brackets need a signed call); an unreachable venue
exits 3.

Example::

    liqmap tiers --venue hyperliquid --symbol ETH --json
    liqmap tiers --venue binance --symbol ETH/USDT:USDT --version 2026-10-01
    liqmap tiers --refresh --venue bybit --symbol BTCUSDT --db liqmap.duckdb
    liqmap tiers --refresh --venue hyperliquid --symbol ETH --db liqmap.duckdb
    liqmap tiers --venue bybit --db liqmap.duckdb
"""

from __future__ import annotations

import json
import math
import time

import typer

from liqmap._exceptions import InputError
from liqmap.cli import _options as o
from liqmap.core.tiers import VENUES, TierTable, get_tier_table

__all__ = ["register", "tiers_report"]

_VENUE = o.venue(..., f"Venue rules: {', '.join(VENUES)}.")
_SYMBOL = o.symbol(None, "The venue's own or the ccxt symbol (ETHUSDT or ETH/USDT:USDT on "
                   "Binance and Bybit, ETH-USDT-SWAP on OKX, ETH on Hyperliquid); default the "
                   "venue's BTC perpetual.")
_VERSION = typer.Option(None, "--version", help="Table in force on this date (YYYY-MM-DD); "
                        "default the latest.")


def _num(x: float) -> float | None:
    """JSON-safe bound: None for the open end of the last tier."""
    return None if math.isinf(x) else x


def tiers_report(table: TierTable) -> dict:
    """The JSON object printed by ``tiers --json``."""
    return {
        "venue": table.venue,
        "symbol": table.symbol,
        "version": table.version,
        "source": table.source,
        "verified": table.verified,
        "notional_unit": table.notional_unit,
        "contract_size": table.contract_size,
        "inverse": table.inverse,
        "tiers": [{"floor": t.floor_usd, "cap": _num(t.cap_usd), "max_leverage": t.max_leverage,
                   "mmr": t.mmr, "cum": t.cum_usd} for t in table.tiers],
    }


def _amount(x: float | None) -> str:
    if x is None:
        return "inf"
    return f"{x:,.2f}".rstrip("0").rstrip(".") if x >= 1 or x == 0 else f"{x:.6g}"


def _text(rep: dict) -> str:
    unit = "USD" if rep["notional_unit"] == "usd" else "coin"
    head = (f"{rep['venue']} {rep['symbol']} tiers, version {rep['version']} "
            f"({'verified' if rep['verified'] else 'NOT fully verified'}; notional in {unit})")
    rows = [f"  {_amount(t['floor']):>17} - {_amount(t['cap']):>17}  {t['max_leverage']:>6g}x  "
            f"mmr {t['mmr']:.4%}  cum {_amount(t['cum'])}" for t in rep["tiers"]]
    return "\n".join([head, *rows, f"source: {rep['source']}"])


_REFRESH = typer.Option(False, "--refresh", help="Fetch the venue's current tiers through "
                        "ccxt, no key (bybit, okx USDT perpetuals: fetch_market_leverage_tiers; "
                        "hyperliquid: the margin tables of POST /info meta) and store them in "
                        "--db, versioned by today's date (UTC). Not binance: its brackets "
                        "need a signed call.")
_DB = o.db("DuckDB store of fetched tier tables: shown over the shipped ones (the newest "
           "version on or before --version); with --refresh, where the fetch is stored.")
_REST = o.rest_url("With --refresh: REST base URL instead of the venue's (a mirror or a "
                   "test server).")


def _refresh(venue: str, symbol: str | None, db: str | None, rest_url: str | None) -> TierTable:
    from liqmap.store import DuckDBStore
    from liqmap.venues.tier_refresh import fetch_tier_table

    if not db:
        raise InputError("--refresh stores the fetched table: give --db FILE")
    table = fetch_tier_table(venue, symbol, rest_url=rest_url)
    with DuckDBStore(db) as store:
        store.write_tier_table(table, int(time.time() * 1000))
    return table


def _stored(db: str | None) -> list[TierTable]:
    if not db:
        return []
    from liqmap.store import DuckDBStore

    with DuckDBStore(db, read_only=True) as store:
        return store.read_tier_tables()


def register(app: typer.Typer) -> None:
    """Add ``tiers`` to ``app``."""

    @app.command("tiers")
    def tiers(
        venue: str = _VENUE,
        symbol: str | None = _SYMBOL,
        version: str | None = _VERSION,
        as_json: bool = o.JSON_OBJECT,
        refresh: bool = _REFRESH,
        db: str | None = _DB,
        rest_url: str | None = _REST,
    ) -> None:
        """Maintenance-margin tiers of a venue and symbol, with version, source, verified."""
        if refresh:
            rep = tiers_report(_refresh(venue, symbol, db, rest_url))
        else:
            rep = tiers_report(get_tier_table(venue, symbol, version, stored=_stored(db)))
        print(json.dumps(rep) if as_json else _text(rep))
