"""liqmap.timeutil: the one time module (units, ms as text, text as ms)."""

from __future__ import annotations

import pytest

from liqmap import timeutil
from liqmap._exceptions import ConfigError
from liqmap.core import timeunits
from liqmap.timeutil import (
    MS_PER_DAY,
    MS_PER_HOUR,
    MS_PER_MINUTE,
    iso_minute,
    iso_ms,
    parse_time_ms,
    utc_date,
    utc_label,
    utc_minute,
)

T = 1_766_232_000_000  # 2025-12-20T12:00:00Z


def test_units_are_the_cores():
    assert (MS_PER_MINUTE, MS_PER_HOUR, MS_PER_DAY) == (60_000, 3_600_000, 86_400_000)
    assert timeutil.UNIT_MS is timeunits.UNIT_MS and timeutil.iso_ms is timeunits.iso_ms
    assert set(timeunits.__all__) <= set(timeutil.__all__)


def test_the_four_texts_of_one_time():
    t = T + 30 * MS_PER_MINUTE + 15_000
    assert iso_ms(t) == "2025-12-20T12:30:15Z"
    assert iso_minute(t) == "2025-12-20T12:30Z"
    assert utc_minute(t) == "2025-12-20 12:30"
    assert utc_label(t) == "2025-12-20 12:30 UTC"
    assert utc_date(t) == "2025-12-20"


def test_times_no_calendar_holds_are_named_not_raised():
    us = T * 1000 * 1000  # microseconds mistaken for ms, twice
    assert iso_ms(us) == "beyond the calendar"
    assert utc_label(us) == f"{us} (not Unix ms)"


@pytest.mark.parametrize("text, ms", [
    ("2025-12-20T12:00", T), ("2025-12-20T12:00Z", T), ("2025-12-20 13:00+01:00", T),
    ("2025-12-20", T - 12 * MS_PER_HOUR), (str(T), T), (f" {T} ", T), (None, None),
])
def test_parse_time_ms(text, ms):
    assert parse_time_ms(text) == ms


def test_parse_time_ms_refuses_with_both_forms():
    with pytest.raises(ConfigError, match="ISO time like 2025-12-20T12:00 or Unix ms"):
        parse_time_ms("yesterday")


def test_round_trip():
    assert parse_time_ms(iso_ms(T + MS_PER_DAY)) == T + MS_PER_DAY
