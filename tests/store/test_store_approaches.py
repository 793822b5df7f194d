"""The level_approaches table: round trip, upsert (pending -> resolved), checks, older files."""

from __future__ import annotations

from dataclasses import replace

import duckdb
import pytest

from liqmap import InputError
from liqmap.store import DuckDBStore, LevelApproach

T0 = 1_767_225_600_000
BTC = "BTC/USDT:USDT"


def _approach(ts=T0, side="long", level=85_000.0, outcome="pending", **kw) -> LevelApproach:
    base = dict(venue="binance", symbol=BTC, ts_ms=ts, side=side, cluster_price_usd=level,
                notional_usd=5e7, price_usd=85_500.0, distance_pct=-0.58,
                horizon_start_ms=ts + 300_000, horizon_ms=3_600_000, outcome=outcome,
                crossed_ts_ms=None, max_beyond_pct=0.0, move_pct=-0.2,
                realized_long_usd=0.0, realized_short_usd=0.0, map_ts_ms=ts - 300_000)
    base.update(kw)
    return LevelApproach(**base)


def test_round_trip_and_upsert_pending_to_resolved():
    st = DuckDBStore()
    items = [_approach(T0 + 600_000, "short", 95_000.0), _approach(), _approach(level=84_000.0)]
    assert st.write_level_approaches(items) == 3
    back = st.read_level_approaches("binance", BTC)
    assert back == sorted(items, key=lambda a: (a.ts_ms, a.side, a.cluster_price_usd))
    done = replace(items[1], outcome="through", crossed_ts_ms=T0 + 600_000, max_beyond_pct=1.2,
                   realized_long_usd=2e6, move_pct=-1.5)
    assert st.write_level_approaches([done]) == 1
    back = st.read_level_approaches()
    assert len(back) == 3 and done in back and items[1] not in back
    assert [a.outcome for a in st.read_level_approaches(outcome="through")] == ["through"]
    assert [a.ts_ms for a in st.read_level_approaches(start_ms=T0 + 1)] == [T0 + 600_000]
    assert st.read_level_approaches(end_ms=T0) == []
    assert st.write_level_approaches([]) == 0


def test_a_resolved_approach_is_never_replaced_by_a_pending_one():
    st = DuckDBStore()
    pending = _approach()
    st.write_level_approaches([pending])
    newer = replace(pending, move_pct=-0.4)
    st.write_level_approaches([newer])  # pending over pending: the last write wins
    assert st.read_level_approaches() == [newer]
    through = replace(pending, outcome="through", crossed_ts_ms=T0 + 600_000,
                      max_beyond_pct=1.2, realized_long_usd=2e6, move_pct=-1.5)
    st.write_level_approaches([through])
    st.write_level_approaches([pending])  # an older run / export: the outcome stays
    assert st.read_level_approaches() == [through]
    rejected = replace(through, outcome="rejected", crossed_ts_ms=None, max_beyond_pct=0.0)
    st.write_level_approaches([rejected])  # resolved over resolved: the last write wins
    assert st.read_level_approaches() == [rejected]
    other = _approach(level=84_000.0)  # a new key in the same batch is still stored
    st.write_level_approaches([pending, other])
    assert st.read_level_approaches() == [other, rejected]


def test_names_are_stored_canonically():
    st = DuckDBStore()
    st.write_level_approaches([_approach(venue="BinanceUSDM", symbol="btcusdt")])
    (a,) = st.read_level_approaches("binanceusdm", "BTCUSDT")
    assert (a.venue, a.symbol) == ("binance", BTC)
    assert st.read_level_approaches("okx") == []


@pytest.mark.parametrize(("change", "words"), [
    ({"outcome": "maybe"}, "outcome must be one of"),
    ({"side": "both"}, "side must be one of"),
    ({"cluster_price_usd": float("nan")}, "cluster_price_usd must be a finite number"),
    ({"realized_long_usd": -1.0}, "realized_long_usd must be >= 0"),
    ({"ts_ms": 1.5}, "ts_ms must be a whole number"),
    ({"ts_ms": T0 * 1000, "horizon_start_ms": T0 * 1000}, "ts_ms"),
    ({"horizon_ms": 0}, "horizon_ms must be > 0"),
    ({"venue": "nowhere"}, "unknown venue"),
])
def test_bad_records_name_the_field_and_nothing_is_written(change, words):
    st = DuckDBStore()
    with pytest.raises(InputError, match=words):
        st.write_level_approaches([_approach(level=1.0), _approach(**change)])
    assert st.read_level_approaches() == []


def test_store_made_before_the_level_watch(tmp_path):
    path = tmp_path / "old.duckdb"
    DuckDBStore(path).close()
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE level_approaches")
    con.close()
    ro = DuckDBStore(path, read_only=True)
    assert ro.read_level_approaches() == []
    with pytest.raises(InputError, match="read-only"):
        ro.write_level_approaches([_approach()])
    ro.close()
    with DuckDBStore(path) as st:  # opened writable: the table is added
        assert st.write_level_approaches([_approach()]) == 1
    with DuckDBStore(path, read_only=True) as st:
        assert [a.ts_ms for a in st.read_level_approaches()] == [T0]
