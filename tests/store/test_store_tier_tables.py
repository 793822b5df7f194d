"""The tier_tables table: round trip, same-day upsert, lookup over the shipped tables, older
store files."""

from __future__ import annotations

from dataclasses import replace

import duckdb
import pytest

from liqmap import InputError
from liqmap.core.tiers import MarginTier, build_tiers, get_tier_table
from liqmap.store import DuckDBStore

T0 = 1_766_232_000_000
FETCHED = replace(get_tier_table("bybit"), version="2026-12-01", source="fetched", verified=True,
                  tiers=build_tiers(((0, 2e6, 100, 0.005), (2e6, float("inf"), 50, 0.01))))


def test_round_trip_and_same_day_upsert():
    st = DuckDBStore()
    assert st.read_tier_tables() == []
    assert st.write_tier_table(FETCHED, T0) == 1
    assert st.read_tier_tables("bybit", "BTCUSDT") == [FETCHED]
    okx = get_tier_table("okx")
    st.write_tier_table(okx, T0)
    assert st.read_tier_tables("okx") == [okx]  # coin units, contract size kept
    again = replace(FETCHED, source="fetched again")
    st.write_tier_table(again, T0 + 1)
    assert st.read_tier_tables("bybit") == [again]


def test_an_older_fetch_of_the_same_day_does_not_replace_a_later_one():
    st = DuckDBStore()
    later = replace(FETCHED, source="fetched later")
    assert st.write_tier_table(later, T0 + 60_000) == 1
    assert st.write_tier_table(replace(FETCHED, source="fetched earlier"), T0) == 0
    assert st.read_tier_tables(with_fetched_ms=True) == [(later, T0 + 60_000)]
    same = replace(FETCHED, source="fetched again, same ms")
    assert st.write_tier_table(same, T0 + 60_000) == 1  # not older: replaces
    assert st.read_tier_tables(with_fetched_ms=True) == [(same, T0 + 60_000)]


def test_stored_table_is_looked_up_with_the_shipped_ones():
    stored = DuckDBStore()
    stored.write_tier_table(FETCHED, T0)
    tables = stored.read_tier_tables()
    assert get_tier_table("bybit", stored=tables) == FETCHED
    assert get_tier_table("bybit", "BTC/USDT:USDT", "2026-12-31", stored=tables) == FETCHED
    shipped = get_tier_table("bybit")
    assert get_tier_table("bybit", version="2026-11-30", stored=tables) == shipped
    same_day = replace(FETCHED, version=shipped.version)
    assert get_tier_table("bybit", version=shipped.version, stored=[same_day]) == same_day


def test_bad_input_is_refused_and_nothing_written():
    st = DuckDBStore()
    with pytest.raises(InputError, match="TierTable"):
        st.write_tier_table("bybit", T0)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="fetched_ms"):
        st.write_tier_table(FETCHED, 1.5)  # type: ignore[arg-type]
    assert st.read_tier_tables() == []


def test_store_made_before_tier_tables(tmp_path):
    path = tmp_path / "old.duckdb"
    DuckDBStore(path).close()
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE tier_tables")
    con.close()
    with DuckDBStore(path, read_only=True) as ro:
        assert ro.read_tier_tables() == []
        with pytest.raises(InputError, match="read-only"):
            ro.write_tier_table(FETCHED, T0)
    with DuckDBStore(path) as st:  # opened writable: the table is added
        st.write_tier_table(FETCHED, T0)
    with DuckDBStore(path, read_only=True) as ro:
        assert ro.read_tier_tables() == [FETCHED]


def test_read_bars_carries_the_venues_stored_tables():
    from liqmap.io.sample import load_sample

    st = DuckDBStore()
    bars = replace(load_sample().take(slice(0, 50)), venue="bybit", symbol="ETH/USDT:USDT")
    st.write_bars(bars)
    st.write_bars(replace(bars, venue="okx"))
    assert st.read_bars("bybit", "ETH/USDT:USDT").tier_tables == ()
    eth = replace(FETCHED, symbol="ETHUSDT")
    st.write_tier_table(FETCHED, T0)
    st.write_tier_table(eth, T0)
    st.write_tier_table(get_tier_table("okx"), T0)
    read = st.read_bars("bybit", "ETH/USDT:USDT")
    assert read.tier_tables == (FETCHED, eth)  # the venue's, every symbol (BTC: fallback)
    assert read.window(None, int(read.ts_ms[10])).tier_tables == read.tier_tables
    assert read.take(slice(0, 5)).tier_tables == read.tier_tables
    assert st.read_bars("okx", "ETH/USDT:USDT").tier_tables == (get_tier_table("okx"),)
    assert "tier_tables" not in repr(read)


def _tiers(*rows) -> tuple[MarginTier, ...]:
    """Tiers exactly as given (``(floor, cap, max_leverage, mmr, cum)``), no recurrence."""
    return tuple(MarginTier(*map(float, r)) for r in rows)


INF = float("inf")
NAN = float("nan")
#: (what is wrong, fields to change on FETCHED, fetched_ms, the field the refusal names)
UNUSABLE = [
    ("version not a date", {"version": "garbage"}, T0, "version"),
    ("version not a calendar day", {"version": "2026-13-45"}, T0, "version"),
    ("max_leverage 0", {"tiers": _tiers((0, INF, 0, 0.005, 0))}, T0, "max_leverage"),
    ("max_leverage inf", {"tiers": _tiers((0, INF, INF, 0.005, 0))}, T0, "max_leverage"),
    ("mmr negative", {"tiers": _tiers((0, 1e6, 100, -0.01, 0), (1e6, INF, 50, 0.01, 2e4))},
     T0, "mmr"),
    ("mmr NaN", {"tiers": _tiers((0, INF, 100, NAN, 0))}, T0, "mmr"),
    ("mmr 1", {"tiers": _tiers((0, 1e6, 100, 0.5, 0), (1e6, INF, 50, 1.0, 5e5))}, T0, "mmr"),
    ("cum NaN", {"tiers": _tiers((0, 1e6, 100, 0.005, 0), (1e6, INF, 50, 0.01, NAN))},
     T0, "cum_usd"),
    ("floors not increasing", {"tiers": _tiers((0, 0, 100, 0.005, 0), (0, INF, 50, 0.01, 0))},
     T0, "floor_usd"),
    ("unknown notional_unit", {"notional_unit": "eur"}, T0, "notional_unit"),
    ("contract_size 0", {"contract_size": 0.0}, T0, "contract_size"),
    ("contract_size NaN", {"contract_size": NAN}, T0, "contract_size"),
    ("fetched_ms in ns", {}, 10**18, "fetched_ms"),
    ("fetched_ms negative", {}, -1, "fetched_ms"),
]


@pytest.mark.parametrize(("what", "change", "fetched_ms", "field"), UNUSABLE,
                         ids=[c[0] for c in UNUSABLE])
def test_an_unusable_table_is_refused_naming_it_and_the_field(what, change, fetched_ms, field):
    st = DuckDBStore()
    st.write_tier_table(FETCHED, T0)
    bad = replace(FETCHED, **change)
    with pytest.raises(InputError) as exc:
        st.write_tier_table(bad, fetched_ms)
    msg = str(exc.value)
    assert field in msg and "bybit" in msg and "BTCUSDT" in msg and repr(bad.version) in msg, msg
    assert st.read_tier_tables(with_fetched_ms=True) == [(FETCHED, T0)]
    assert st._conn().execute("SELECT count(*) FROM tier_tables").fetchall() == [(1,)]


def test_every_shipped_table_passes_the_store_checks():
    from liqmap.core.tiers import list_tier_tables

    st = DuckDBStore()
    for table in list_tier_tables():
        st.write_tier_table(table, T0)
    assert len(st.read_tier_tables()) == len(list_tier_tables())
