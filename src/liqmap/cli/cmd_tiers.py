"""``liqmap tiers``: a venue's maintenance-margin tiers for one symbol, with their source.

Prints the shipped table in force on ``--version`` (default the latest): its tiers,
``version``, ``source`` and whether every tier was read from a recorded venue answer
(``verified``). An unknown symbol is refused with the shipped ones listed (exit 2).

Example::

    liqmap tiers --venue hyperliquid --symbol ETH --json
    liqmap tiers --venue binance --symbol ETH/USDT:USDT --version 2026-10-01
"""

from __future__ import annotations

import json
import math

import typer

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


def register(app: typer.Typer) -> None:
    """Add ``tiers`` to ``app``."""

    @app.command("tiers")
    def tiers(
        venue: str = _VENUE,
        symbol: str | None = _SYMBOL,
        version: str | None = _VERSION,
        as_json: bool = o.JSON_OBJECT,
    ) -> None:
        """Maintenance-margin tiers of a venue and symbol, with version, source, verified."""
        rep = tiers_report(get_tier_table(venue, symbol, version))
        print(json.dumps(rep) if as_json else _text(rep))
