"""Parquet export/import: hive partitions, idempotent import, other engines read it."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow.dataset as ds
import pytest

from liqmap import InputError
from liqmap.store import DuckDBStore, export_parquet, import_parquet
from liqmap.venues.binance import load_liquidation_snapshot

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
DAY_MS = 86_400_000


@pytest.fixture
def filled(make_bars, make_snapshot, fx):
    """A store with two bar series (one without optional columns), liquidations,
    snapshots and runs, spanning several UTC days."""
    st = DuckDBStore()
    st.write_bars(make_bars(1000, seed=1))                       # 3.5 days of 5m bars
    st.write_bars(make_bars(200, seed=2, venue="bybit", symbol=ETH, bar_ms=3_600_000,
                            optional=False))                    # 8.3 days of 1h bars
    st.write_realized(load_liquidation_snapshot(fx("BTCUSDT-liquidationSnapshot-2025-12-27.csv")))
    bars = st.read_bars("binance", BTC)
    for i, ts in enumerate(bars.ts_ms[::250]):
        st.write_snapshot(make_snapshot(int(ts), seed=i, bins=20 + i))
    st.record_run("backtest", {"window": "A"}, {"spearman": 0.31, "nan": float("nan")},
                  ts_ms=int(bars.ts_ms[0]))
    st.record_run("heatmap", {"lookback": "7d"}, {"bars": 1000}, ts_ms=int(bars.ts_ms[-1]))
    return st


def _assert_same_store(a: DuckDBStore, b: DuckDBStore, same) -> None:
    assert a.series() == b.series()
    for s in a.series():
        if s.table == "bars":
            same.bars(b.read_bars(s.venue, s.symbol), a.read_bars(s.venue, s.symbol))
        elif s.table == "realized":
            same.realized(b.read_realized(s.venue, s.symbol), a.read_realized(s.venue, s.symbol))
        else:
            for x, y in zip(b.read_snapshots(s.venue, s.symbol),
                            a.read_snapshots(s.venue, s.symbol), strict=True):
                same.snapshot(x, y)
    ra, rb = a.list_runs(), b.list_runs()
    assert [r["run_id"] for r in ra] == [r["run_id"] for r in rb]
    assert np.isnan(rb[-1]["summary"].pop("nan")) and np.isnan(ra[-1]["summary"].pop("nan"))
    assert ra == rb


def test_export_then_import_into_a_fresh_store_reads_equal(filled, tmp_path, same):
    counts = export_parquet(filled, tmp_path / "exp")
    rows = {s.table: 0 for s in filled.series()}
    for s in filled.series():
        rows[s.table] += s.rows
    assert counts == {**rows, "runs": 2}
    fresh = DuckDBStore()
    assert import_parquet(fresh, tmp_path / "exp") == counts
    _assert_same_store(filled, fresh, same)


def test_import_twice_stores_nothing_twice(filled, tmp_path, same):
    export_parquet(filled, tmp_path / "exp")
    fresh = DuckDBStore()
    import_parquet(fresh, tmp_path / "exp")
    import_parquet(fresh, tmp_path / "exp")
    _assert_same_store(filled, fresh, same)
    files = sorted((tmp_path / "exp").rglob("*.parquet"))
    export_parquet(filled, tmp_path / "exp")  # re-export replaces, does not append
    assert sorted((tmp_path / "exp").rglob("*.parquet")) == files
    n_bars = sum(s.rows for s in filled.series() if s.table == "bars")
    assert ds.dataset(tmp_path / "exp" / "bars", partitioning="hive").count_rows() == n_bars
    import_parquet(fresh, tmp_path / "exp")
    _assert_same_store(filled, fresh, same)


def test_partitions_are_venue_symbol_and_utc_date(filled, tmp_path):
    export_parquet(filled, tmp_path / "exp", tables=["bars"])
    leaf = {p.parent.relative_to(tmp_path / "exp").as_posix()
            for p in (tmp_path / "exp").rglob("*.parquet")}
    bars = filled.read_bars("binance", BTC)
    days = np.unique(bars.ts_ms // DAY_MS).astype("datetime64[D]").astype(str)
    want = {f"bars/venue=binance/symbol=BTC%2FUSDT%3AUSDT/date={d}" for d in days}
    assert want <= leaf and len(want) >= 4
    assert all(p.startswith("bars/") for p in leaf)
    assert not (tmp_path / "exp" / "realized").exists()


def test_pyarrow_dataset_reads_the_export(filled, tmp_path):
    export_parquet(filled, tmp_path / "exp")
    table = ds.dataset(tmp_path / "exp" / "bars", format="parquet",
                       partitioning="hive").to_table()
    for s in filled.series():
        if s.table != "bars":
            continue
        sel = table.filter((ds.field("venue") == s.venue) & (ds.field("symbol") == s.symbol))
        ts = np.sort(sel["ts_ms"].to_numpy())
        np.testing.assert_array_equal(ts, filled.read_bars(s.venue, s.symbol).ts_ms)
    eth = table.filter(ds.field("symbol") == ETH)
    assert eth["volume"].null_count == eth.num_rows  # not given != NaN


def test_duckdb_read_parquet_with_hive_partitioning_reads_the_export(filled, tmp_path):
    export_parquet(filled, tmp_path / "exp")
    root = (tmp_path / "exp").as_posix()
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT venue, symbol, count(*), sum(close), "
        f"count(*) FILTER (WHERE CAST(epoch_ms(ts_ms) AS DATE) <> date) "
        f"FROM read_parquet('{root}/bars/**/*.parquet', hive_partitioning = true) "
        "GROUP BY ALL ORDER BY venue").fetchall()
    want = [(v, s, len(b), float(np.sum(b.close)), 0)
            for v, s, b in [("binance", BTC, filled.read_bars("binance", BTC)),
                            ("bybit", ETH, filled.read_bars("bybit", ETH))]]
    assert [r[:3] + (r[4],) for r in rows] == [w[:3] + (w[4],) for w in want]
    np.testing.assert_allclose([r[3] for r in rows], [w[3] for w in want], rtol=1e-12)
    liq = con.execute(f"SELECT sum(notional_usd) FROM read_parquet('{root}/realized/**/*.parquet',"
                      " hive_partitioning = true)").fetchall()[0][0]
    assert liq == pytest.approx(filled.read_realized("binance", BTC).notional_usd.sum())


def test_bad_tables_and_empty_folders_are_refused(filled, tmp_path):
    with pytest.raises(InputError, match=r"unknown table\(s\) \['trades'\]"):
        export_parquet(filled, tmp_path / "exp", tables=["bars", "trades"])
    with pytest.raises(InputError, match="no liqmap Parquet export"):
        import_parquet(DuckDBStore(), tmp_path)
