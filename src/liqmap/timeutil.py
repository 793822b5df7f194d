"""The one time module of liqmap's outer layers: units, times as text, text as times.

Times are Unix milliseconds (``ts_ms``) everywhere. The units and :func:`iso_ms` live in
the core (``liqmap.core.timeunits``, which the core itself reads) and are re-exported here,
so that the outer layers import every time name from this module.

=================  ==========================  ===========================================
helper             text                        where
=================  ==========================  ===========================================
:func:`iso_ms`     ``2025-12-20T12:00:00Z``    error messages, impact preset spans
:func:`iso_minute` ``2025-12-20T12:00Z``       scorecard JSON (calibration end, spans)
:func:`utc_minute` ``2025-12-20 12:00``        chart titles, study sentences, alert lines
:func:`utc_date`   ``2025-12-20``              days of a study, archive days
:func:`utc_label`  ``2025-12-20 12:00 UTC``    CLI summaries and store listings
=================  ==========================  ===========================================

>>> parse_time_ms("2025-12-20T12:00"), parse_time_ms("1766232000000")
(1766232000000, 1766232000000)
>>> iso_minute(1_766_232_000_000), utc_label(1_766_232_000_000 + 30 * MS_PER_MINUTE)
('2025-12-20T12:00Z', '2025-12-20 12:30 UTC')
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload

from liqmap._exceptions import ConfigError
from liqmap.core.timeunits import (
    MS_PER_DAY,
    MS_PER_HOUR,
    MS_PER_MINUTE,
    MS_PER_SECOND,
    UNIT_MS,
    iso_ms,
)

__all__ = ["MS_PER_DAY", "MS_PER_HOUR", "MS_PER_MINUTE", "MS_PER_SECOND", "UNIT_MS",
           "iso_minute", "iso_ms", "parse_time_ms", "utc_date", "utc_label", "utc_minute"]


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def iso_minute(ms: int) -> str:
    """Unix ms as ISO-8601 UTC to the minute (``2025-12-20T12:00Z``)."""
    return _utc(ms).strftime("%Y-%m-%dT%H:%MZ")


def utc_date(ms: int) -> str:
    """The UTC day of Unix ms, ``YYYY-MM-DD``."""
    return _utc(ms).date().isoformat()


def utc_minute(ms: int) -> str:
    """Unix ms as ``YYYY-MM-DD HH:MM`` (UTC, the zone left to the sentence around it)."""
    return _utc(ms).strftime("%Y-%m-%d %H:%M")


def utc_label(ms: int) -> str:
    """Unix ms as ``YYYY-MM-DD HH:MM UTC``; a number no calendar holds (microseconds,
    say) is shown as it is: ``"<ms> (not Unix ms)"``."""
    try:
        return _utc(ms).strftime("%Y-%m-%d %H:%M UTC")
    except (ValueError, OverflowError, OSError):
        return f"{ms} (not Unix ms)"


@overload
def parse_time_ms(text: str) -> int: ...
@overload
def parse_time_ms(text: None) -> None: ...
@overload
def parse_time_ms(text: str | None) -> int | None: ...


def parse_time_ms(text: str | None) -> int | None:
    """ISO-8601 (UTC when no zone is given) or Unix milliseconds -> ms; ``None`` stays
    ``None``. Anything else raises ``ConfigError`` with an example of each form."""
    if text is None:
        return None
    if text.strip().isdigit():
        return int(text)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--at {text!r}: give an ISO time like 2025-12-20T12:00 or Unix ms"
                          ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)
