"""Time units: spans in Unix milliseconds, the unit of every ``ts_ms`` in liqmap.

Every span in ms is written from these names, never as a literal (``6 * MS_PER_HOUR``,
not ``21_600_000``). The outer layers read them, with the time helpers (ISO text, time
parsing), from ``liqmap.timeutil``; the core reads them here, as it imports only the core.

>>> 30 * MS_PER_DAY // MS_PER_HOUR
720
>>> iso_ms(1_766_232_000_000)
'2025-12-20T12:00:00Z'
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["MS_PER_DAY", "MS_PER_HOUR", "MS_PER_MINUTE", "MS_PER_SECOND", "UNIT_MS", "iso_ms"]

MS_PER_SECOND = 1_000
MS_PER_MINUTE = 60_000
MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000

UNIT_MS = {"m": MS_PER_MINUTE, "h": MS_PER_HOUR, "d": MS_PER_DAY}
"""Milliseconds per unit letter of a period or ccxt timeframe (``5m``, ``1h``, ``1d``)."""


def iso_ms(ms: int) -> str:
    """Unix ms as ISO-8601 UTC to the second (``2025-12-20T12:00:00Z``).

    A number no calendar holds (microseconds taken for ms, say) reads
    ``"beyond the calendar"``, so an error message that names it can still be written.
    """
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return "beyond the calendar"
