"""DuckDBStore: round trips, upserts, transactions, bad input and opening errors."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import duckdb
import numpy as np
import pytest

import liqmap.store as store_pkg
from liqmap import InputError, RetryLaterError
from liqmap.store import DuckDBStore, Store, open_store
from liqmap.store import _duckdb as duck_mod

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"


def test_public_surface_is_sorted_and_complete():
    assert store_pkg.__all__ == sorted(store_pkg.__all__)
    for name in store_pkg.__all__:
        assert hasattr(store_pkg, name), name
    assert {"DuckDBStore", "MapSnapshot", "SeriesInfo", "Store", "open_store"} <= set(
        store_pkg.__all__)
    assert isinstance(DuckDBStore(), Store)


@pytest.mark.parametrize("optional", [True, False])
def test_bars_round_trip_keeps_nan_and_missing_columns(make_bars, same, optional):
    bars = make_bars(500, optional=optional)
    with DuckDBStore() as st:
        assert st.write_bars(bars) == 500
        back = st.read_bars("binance", BTC)
    same.bars(back, bars)
    if optional:
        assert np.isnan(back.funding_rate).sum() == np.isnan(bars.funding_rate).sum() > 0


def test_read_bars_window_matches_bars_window(make_bars, same):
    bars = make_bars(400)
    st = DuckDBStore()
    st.write_bars(bars)
    lo, hi = int(bars.ts_ms[37]), int(bars.ts_ms[301]) + 1
    same.bars(st.read_bars("binance", BTC, lo, hi), bars.window(lo, hi))
    same.bars(st.read_bars("binance", BTC, start_ms=lo), bars.window(lo))
    same.bars(st.read_bars("binance", BTC, end_ms=hi), bars.window(None, hi))
    assert len(st.read_bars("binance", BTC, 0, int(bars.ts_ms[0]))) == 0


def test_read_bars_of_an_unknown_series_says_what_is_stored(make_bars):
    st = DuckDBStore()
    st.write_bars(make_bars(10))
    with pytest.raises(InputError, match=r"no bars stored for bybit ETH.*binance BTC/USDT:USDT"):
        st.read_bars("bybit", ETH)


def test_overlapping_write_last_wins_and_missing_optional_keeps_stored(make_bars):
    first = make_bars(300, seed=1)
    st = DuckDBStore()
    st.write_bars(first)
    second = make_bars(200, seed=2, start_ms=int(first.ts_ms[200]), optional=False)
    assert st.write_bars(second) == 200
    back = st.read_bars("binance", BTC)
    assert len(back) == 400  # 300 + 200 - 100 overlapping
    np.testing.assert_array_equal(back.close[:200], first.close[:200])
    np.testing.assert_array_equal(back.close[200:], second.close)
    # columns the second batch did not carry keep the first batch's values where stored
    np.testing.assert_array_equal(back.volume[200:300], first.volume[200:])
    assert np.isnan(back.volume[300:]).all()


def test_series_and_symbols_are_kept_apart(make_bars, make_snapshot):
    st = DuckDBStore()
    btc, eth = make_bars(30, seed=1), make_bars(20, seed=2, symbol=ETH, venue="bybit")
    st.write_bars(btc)
    st.write_bars(eth)
    st.write_snapshot(make_snapshot())
    got = {(s.table, s.venue, s.symbol): (s.rows, s.first_ts_ms, s.last_ts_ms)
           for s in st.series()}
    assert got == {
        ("bars", "binance", BTC): (30, int(btc.ts_ms[0]), int(btc.ts_ms[-1])),
        ("bars", "bybit", ETH): (20, int(eth.ts_ms[0]), int(eth.ts_ms[-1])),
        ("snapshots", "binance", BTC): (1, int(btc.ts_ms[0]), int(btc.ts_ms[0])),
    }


@pytest.mark.parametrize("order, match", [
    (np.r_[0, 2, 1, 3:50], "strictly increasing"),
    (np.r_[0, 1, 1, 2:50], "strictly increasing"),
])
def test_unsorted_or_duplicate_bars_are_refused_before_writing(make_bars, same, order, match):
    st = DuckDBStore()
    stored = make_bars(50, seed=3)
    st.write_bars(stored)
    bad = make_bars(50, seed=4).take(order)
    with pytest.raises(InputError, match=match):
        st.write_bars(bad)
    same.bars(st.read_bars("binance", BTC), stored)


@pytest.mark.parametrize("field, value", [("venue", ""), ("symbol", None), ("venue", "  ")])
def test_bars_without_venue_or_symbol_are_refused(make_bars, field, value):
    bars = replace(make_bars(5), **{field: value})
    with pytest.raises(InputError, match=f"need a {field}"):
        DuckDBStore().write_bars(bars)


@pytest.mark.parametrize("error, raised", [
    (OSError, OSError),
    (duckdb.IOException, RetryLaterError),
])
def test_a_failing_write_rolls_back_the_whole_batch(make_bars, same, monkeypatch, error, raised):
    st = DuckDBStore()
    stored = make_bars(100, seed=5)
    st.write_bars(stored)
    real_insert = DuckDBStore._insert

    def insert_then_fail(self, con, batch, sql, params):
        real_insert(self, con, batch, sql, params)
        assert con.execute("SELECT count(*) FROM bars").fetchall()[0][0] > 100  # rows went in
        raise error("disk went away mid-batch")

    monkeypatch.setattr(DuckDBStore, "_insert", insert_then_fail)
    with pytest.raises(raised, match="mid-batch"):
        st.write_bars(make_bars(100, seed=6, start_ms=int(stored.ts_ms[50])))
    monkeypatch.undo()
    same.bars(st.read_bars("binance", BTC), stored)
    st.write_bars(make_bars(3, seed=7, start_ms=int(stored.ts_ms[-1]) + 300_000))
    assert len(st.read_bars("binance", BTC)) == 103  # the store is usable afterwards


def test_snapshots_round_trip_upsert_and_window(make_snapshot, same):
    st = DuckDBStore()
    snaps = [make_snapshot(1_000 * i, seed=i) for i in (3, 1, 2)]
    for s in snaps:
        assert st.write_snapshot(s) == 1
    back = st.read_snapshots("binance", BTC)
    assert [s.ts_ms for s in back] == [1_000, 2_000, 3_000]
    for got, want in zip(back, sorted(snaps, key=lambda s: s.ts_ms)):
        same.snapshot(got, want)
    newer = make_snapshot(2_000, seed=9, bins=7)
    st.write_snapshot(newer)
    window = st.read_snapshots("binance", BTC, 2_000, 3_000)
    assert len(window) == 1
    same.snapshot(window[0], newer)
    assert st.read_snapshots("okx", BTC) == []


@pytest.mark.parametrize("change, match", [
    ({"long_usd": np.ones(3)}, "one length"),
    ({"price_bins_usd": np.linspace(2.0, 1.0, 50)}, "strictly ascending"),
    ({"params": {"when": object()}}, "JSON-ready"),
    ({"short_usd": np.full(50, np.nan)}, "finite"),
    ({"symbol": ""}, "need a symbol"),
])
def test_bad_snapshots_are_refused(make_snapshot, change, match):
    st = DuckDBStore()
    with pytest.raises(InputError, match=match):
        st.write_snapshot(replace(make_snapshot(), **change))
    assert st.series() == []


def test_runs_newest_first_filter_and_idempotent_id():
    st = DuckDBStore()
    a = st.record_run("backtest", {"window": "A"}, {"spearman": np.float64(0.4)}, ts_ms=1_000)
    b = st.record_run("heatmap", {"lookback": "7d", "w": np.arange(3)}, {"bars": 10}, ts_ms=2_000)
    c = st.record_run("backtest", {"window": "B"}, {"spearman": None}, ts_ms=2_000)
    runs = st.list_runs()
    assert [r["run_id"] for r in runs] == [c, b, a]
    assert runs[1] == {"run_id": b, "kind": "heatmap", "ts_ms": 2_000,
                       "params": {"lookback": "7d", "w": [0, 1, 2]}, "summary": {"bars": 10}}
    assert [r["run_id"] for r in st.list_runs("backtest")] == [c, a]
    st.record_run("backtest", {"window": "A"}, {"spearman": 0.5}, run_id=a, ts_ms=1_000)
    again = st.list_runs("backtest")
    assert len(again) == 2 and again[1]["summary"] == {"spearman": 0.5}
    with pytest.raises(InputError, match="kind"):
        st.record_run("", {}, {})
    with pytest.raises(InputError, match="JSON-ready"):
        st.record_run("x", {"f": print}, {})


def test_file_store_persists_and_read_only_refuses_writes(tmp_path, make_bars, same):
    path = tmp_path / "liq.duckdb"
    bars = make_bars(120)
    with DuckDBStore(path) as st:
        st.write_bars(bars)
    with DuckDBStore(path, read_only=True) as ro:
        same.bars(ro.read_bars("binance", BTC), bars)
        with pytest.raises(InputError, match="read-only"):
            ro.write_bars(bars)
    st = DuckDBStore(path)
    st.close()
    with pytest.raises(InputError, match="closed"):
        st.series()


def test_open_errors_say_what_to_do(tmp_path):
    with pytest.raises(InputError, match="no store at"):
        DuckDBStore(tmp_path / "absent.duckdb", read_only=True)
    with pytest.raises(InputError, match="does not exist"):
        DuckDBStore(tmp_path / "no" / "such" / "x.duckdb")
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"this is not a database" * 500)
    with pytest.raises(InputError, match="cannot open store"):
        DuckDBStore(junk)
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE t (x INTEGER)")
    con.close()
    with pytest.raises(InputError, match="not a liqmap store"):
        DuckDBStore(other)


def test_a_newer_schema_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "new.duckdb"
    monkeypatch.setattr(duck_mod, "SCHEMA_VERSION", 7)
    DuckDBStore(path).close()
    monkeypatch.undo()
    with pytest.raises(InputError, match="schema version 7.*upgrade liqmap"):
        DuckDBStore(path)


def test_a_store_locked_by_another_process_is_retry_later(tmp_path):
    path = tmp_path / "locked.duckdb"
    DuckDBStore(path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from liqmap.store import DuckDBStore; "
         f"s = DuckDBStore({str(path)!r}); print('open', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open", holder.stderr.read()
        with pytest.raises(RetryLaterError, match="in use by another process"):
            DuckDBStore(path)
    finally:
        holder.communicate(input="", timeout=30)
    DuckDBStore(path).close()  # free again once the holder has exited


def test_open_store_resolves_env_then_default(tmp_path, monkeypatch, make_bars):
    monkeypatch.setenv("LIQMAP_DB", str(tmp_path / "env.duckdb"))
    with open_store() as st:
        st.write_bars(make_bars(3))
        assert st.path == str(tmp_path / "env.duckdb")
    monkeypatch.delenv("LIQMAP_DB")
    monkeypatch.chdir(tmp_path)
    with open_store() as st:
        assert st.path == "liqmap.duckdb" and st.series() == []
    assert (tmp_path / "liqmap.duckdb").is_file()
    with open_store(tmp_path / "env.duckdb", read_only=True) as st:
        assert [s.rows for s in st.series()] == [3]
