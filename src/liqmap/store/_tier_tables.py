"""Tier tables fetched from a venue, as the store's ``tier_tables`` table keeps them (no SQL).

``liqmap tiers --refresh`` fetches a venue's current maintenance-margin tiers and stores them
as a :class:`~liqmap.core.tiers.TierTable` whose ``version`` is the fetch date (UTC); the key
is ``(venue, symbol, version)`` and the last write of a day wins. :func:`tier_table_row`
validates a table before any write; :func:`tier_table_from_row` reads it back (tiers as JSON,
an open last cap as ``null``).

>>> from liqmap.core.tiers import get_tier_table
>>> row = tier_table_row(get_tier_table("hyperliquid"), 1_766_232_000_000)
>>> tier_table_from_row(row) == get_tier_table("hyperliquid")
True
"""

from __future__ import annotations

import json
import math
from typing import Any

from liqmap._exceptions import InputError
from liqmap.core.tiers import MarginTier, TierTable, check_venue

__all__ = ["TIER_TABLE_COLUMNS", "tier_table_from_row", "tier_table_row"]

TIER_TABLE_COLUMNS = ("venue", "symbol", "version", "source", "verified", "contract_size",
                      "inverse", "notional_unit", "tiers", "fetched_ms")


def _tiers_json(tiers: tuple[MarginTier, ...]) -> str:
    return json.dumps([[t.floor_usd, None if math.isinf(t.cap_usd) else t.cap_usd,
                        t.max_leverage, t.mmr, t.cum_usd] for t in tiers])


def tier_table_row(table: TierTable, fetched_ms: int) -> tuple:
    """A validated row of ``table`` in :data:`TIER_TABLE_COLUMNS` order.

    Raises
    ------
    InputError
        Not a TierTable, or ``fetched_ms`` not a whole number of milliseconds.
    """
    if not isinstance(table, TierTable):
        raise InputError(f"write_tier_table takes a TierTable, got {type(table).__name__}; "
                         "build it with liqmap.core.tiers.TierTable")
    check_venue(table.venue)
    if isinstance(fetched_ms, bool) or not isinstance(fetched_ms, int) or fetched_ms < 0:
        raise InputError(f"tier table {table.venue} {table.symbol}: fetched_ms must be a whole "
                         f"number of milliseconds >= 0, got {fetched_ms!r}")
    return (table.venue, table.symbol, table.version, table.source, bool(table.verified),
            float(table.contract_size), bool(table.inverse), table.notional_unit,
            _tiers_json(table.tiers), int(fetched_ms))


def tier_table_from_row(row: tuple) -> TierTable:
    """Inverse of :func:`tier_table_row` (``fetched_ms`` is dropped)."""
    venue, symbol, version, source, verified, ct, inverse, unit, tiers, _fetched = row
    parsed: list[list[Any]] = json.loads(tiers)
    return TierTable(
        venue=venue, symbol=symbol, version=version, source=source,
        tiers=tuple(MarginTier(float(f), math.inf if c is None else float(c), float(lev),
                               float(mmr), float(cum)) for f, c, lev, mmr, cum in parsed),
        contract_size=float(ct), inverse=bool(inverse), notional_unit=unit,
        verified=bool(verified),
    )
