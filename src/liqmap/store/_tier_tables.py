"""Tier tables fetched from a venue, as the store's ``tier_tables`` table keeps them (no SQL).

``liqmap tiers --refresh`` fetches a venue's current maintenance-margin tiers and stores them
as a :class:`~liqmap.core.tiers.TierTable` whose ``version`` is the fetch date (UTC); the key
is ``(venue, symbol, version)`` and the latest fetch of a day wins (an older ``fetched_ms``
never replaces a stored row). :func:`tier_table_row` validates a table before any write
(a date version, usable tiers, unit, contract size and fetch time);
:func:`tier_table_from_row` reads it back (tiers as JSON, an open last cap as ``null``).

>>> from liqmap.core.tiers import get_tier_table
>>> row = tier_table_row(get_tier_table("hyperliquid"), 1_766_232_000_000)
>>> tier_table_from_row(row) == get_tier_table("hyperliquid")
True
"""

from __future__ import annotations

import json
import math
import numbers
from typing import Any

from liqmap._exceptions import ConfigError, InputError
from liqmap.core.tiers import MarginTier, TierTable, check_venue, check_version
from liqmap.store._records import TS_MS_RANGE

__all__ = ["TIER_TABLE_COLUMNS", "tier_table_from_row", "tier_table_row"]

TIER_TABLE_COLUMNS = ("venue", "symbol", "version", "source", "verified", "contract_size",
                      "inverse", "notional_unit", "tiers", "fetched_ms")
#: Units a table's tier bounds and maintenance amounts may be in (see TierTable).
NOTIONAL_UNITS = ("usd", "coin")


def _tiers_json(tiers: tuple[MarginTier, ...]) -> str:
    return json.dumps([[t.floor_usd, None if math.isinf(t.cap_usd) else t.cap_usd,
                        t.max_leverage, t.mmr, t.cum_usd] for t in tiers])


def tier_table_row(table: TierTable, fetched_ms: int) -> tuple:
    """A validated row of ``table`` in :data:`TIER_TABLE_COLUMNS` order.

    Raises
    ------
    InputError
        Not a TierTable, a field that cannot price a position (version not a date, a tier's
        floor, cap, max_leverage, mmr or cum, notional_unit, contract_size), or
        ``fetched_ms`` not whole milliseconds before 2100; the message names the table and
        the field.
    """
    if not isinstance(table, TierTable):
        raise InputError(f"write_tier_table takes a TierTable, got {type(table).__name__}; "
                         "build it with liqmap.core.tiers.TierTable")
    check_venue(table.venue)
    _check_table(table)
    if (isinstance(fetched_ms, bool) or not isinstance(fetched_ms, int)
            or not 0 <= fetched_ms <= TS_MS_RANGE[1]):
        raise InputError(f"{_name(table)}: fetched_ms must be a whole number of Unix "
                         f"milliseconds between 0 and {TS_MS_RANGE[1]} (2100-01-01), got "
                         f"{fetched_ms!r}; give the fetch time in ms")
    return (table.venue, table.symbol, table.version, table.source, bool(table.verified),
            float(table.contract_size), bool(table.inverse), table.notional_unit,
            _tiers_json(table.tiers), int(fetched_ms))


def _name(table: TierTable) -> str:
    return f"tier table {table.venue} {table.symbol!r} version {table.version!r}"


def _finite(value: Any) -> bool:
    """A real number (numpy scalars too, not a bool) that is finite."""
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(value))


def _check_table(table: TierTable) -> None:
    """InputError naming the table and the field when ``table`` cannot price a position:
    a version that is not a date, tiers with a bad floor, leverage, mmr or maintenance
    amount, an unknown notional unit or a contract size that is not > 0."""
    name = _name(table)

    def bad(field: str, value: Any, want: str) -> InputError:
        return InputError(f"{name}: {field} must be {want}, got {value!r}; fix the table "
                          "before storing it")

    if not isinstance(table.symbol, str) or not table.symbol.strip():
        raise bad("symbol", table.symbol, "the venue-native symbol (BTCUSDT)")
    try:
        check_version(table.version)
    except ConfigError:
        raise bad("version", table.version, "an ISO date YYYY-MM-DD (the fetch day)") from None
    if not isinstance(table.source, str):
        raise bad("source", table.source, "a string")
    if table.notional_unit not in NOTIONAL_UNITS:
        raise bad("notional_unit", table.notional_unit, f"one of {NOTIONAL_UNITS}")
    if not _finite(table.contract_size) or table.contract_size <= 0:
        raise bad("contract_size", table.contract_size, "a finite number > 0")
    prev = None
    for i, t in enumerate(table.tiers):
        if not isinstance(t, MarginTier):
            raise bad(f"tier {i}", t, "a MarginTier")
        if not _finite(t.floor_usd) or t.floor_usd < 0:
            raise bad(f"tier {i} floor_usd", t.floor_usd, "a finite number >= 0")
        if prev is not None and t.floor_usd <= prev:
            raise bad(f"tier {i} floor_usd", t.floor_usd,
                      f"above the previous tier's floor ({prev!r}): floors increasing")
        prev = t.floor_usd
    for i, t in enumerate(table.tiers):
        last = i == len(table.tiers) - 1
        if not (t.cap_usd == math.inf and last) and (
                not _finite(t.cap_usd) or t.cap_usd <= t.floor_usd):
            raise bad(f"tier {i} cap_usd", t.cap_usd,
                      "a finite number above its floor (inf only for the last tier)")
        if not _finite(t.max_leverage) or t.max_leverage <= 0:
            raise bad(f"tier {i} max_leverage", t.max_leverage, "a finite number > 0")
        if not _finite(t.mmr) or not 0 <= t.mmr < 1:
            raise bad(f"tier {i} mmr", t.mmr, "a finite fraction 0 <= mmr < 1 (0.004 = 0.4 %)")
        if not _finite(t.cum_usd):
            raise bad(f"tier {i} cum_usd", t.cum_usd, "a finite number (maintenance amount)")


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
