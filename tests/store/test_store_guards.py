"""What the store refuses before its transaction, what it reports about rows an older
liqmap stored, and how DuckDB's errors on the file are classified."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from liqmap import DataError, InputError, RetryLaterError
from liqmap.core.realized import MAX_EVENT_NOTIONAL_USD, RealizedLiquidations
from liqmap.store import DuckDBStore, export_parquet, import_parquet, read_parquet_export

TS = 1_766_847_448_493


def _liq(ts, notional=(1.0,)):
    n = len(ts)
    return RealizedLiquidations(ts_ms=np.asarray(ts), side=np.ones(n, dtype=np.int8),
                                price=np.full(n, 100.0), qty_coin=np.ones(n),
                                notional_usd=np.resize(np.asarray(notional, float), n))


def test_microsecond_times_are_refused_by_every_write(make_bars, make_snapshot):
    st = DuckDBStore()
    with pytest.raises(InputError, match="row 1: ts_ms .* microseconds"):
        st.write_realized(_liq([TS, TS * 1000]))
    bars = make_bars(5)
    with pytest.raises(InputError, match="microseconds"):
        st.write_bars(replace(bars, ts_ms=bars.ts_ms * 1000))
    with pytest.raises(InputError, match="microseconds"):
        st.write_snapshot(make_snapshot(TS * 1000))
    assert st.series() == []


def test_a_liquidation_above_the_plausible_notional_is_refused():
    st = DuckDBStore()
    st.write_realized(_liq([TS], [MAX_EVENT_NOTIONAL_USD]))  # the bound itself is allowed
    with pytest.raises(InputError, match=r"row 1 has notional_usd 1e\+15.*wrong unit"):
        st.write_realized(_liq([TS, TS + 1], [1.0, 1e15]))
    assert [s.rows for s in st.series()] == [1]


def test_suspect_rows_name_what_an_older_liqmap_stored(tmp_path, make_bars):
    path = tmp_path / "old.duckdb"
    with DuckDBStore(path) as st:
        st.write_bars(make_bars(5))
        con = st._conn()  # rows written around today's checks, as an older liqmap did
        con.execute("INSERT INTO realized VALUES ('binance', 'BTC/USDT:USDT', ?, 1, 1, 1, 1), "
                    "('Binance', 'BTCUSDT', ?, 1, 1, 1, 1e20)", [TS * 1000, TS])
    with DuckDBStore(path, read_only=True) as st:
        found = {(s.venue, s.reason.split(" ")[0], s.examples_ts_ms) for s in st.suspect_rows()}
        assert ("binance", "ts_ms", (TS * 1000,)) in found
        assert ("Binance", "notional_usd", (TS,)) in found
        assert ("Binance", "stored", ()) in found
        assert len(st.series()) == 3  # reading never fails on them


def test_read_parquet_export_checks_everything_and_writes_nothing(tmp_path, make_bars):
    st = DuckDBStore()
    st.write_bars(make_bars(300))
    st.write_realized(_liq([TS, TS + 5]))
    export_parquet(st, tmp_path / "exp")
    export = read_parquet_export(tmp_path / "exp")
    assert export.counts == {"bars": 300, "realized": 2}
    fresh = DuckDBStore()
    assert import_parquet(fresh, export) == export.counts
    assert fresh.series() == st.series()
    part = sorted((tmp_path / "exp" / "bars").rglob("*.parquet"))[-1]
    table = pq.read_table(part)
    seconds = pa.array(table["ts_ms"].to_numpy() // 1000)
    pq.write_table(table.set_column(table.column_names.index("ts_ms"), "ts_ms", seconds), part)
    with pytest.raises(DataError, match="row 0: ts_ms .* seconds: multiply by 1000") as exc:
        read_parquet_export(tmp_path / "exp")
    assert exc.value.source == str(part)


def test_errors_found_while_reading_are_classified(tmp_path, make_bars, monkeypatch):
    import duckdb

    st = DuckDBStore(tmp_path / "r.duckdb")
    st.write_bars(make_bars(5))
    real = st._conn()

    class Broken:
        def execute(self, *a, **k):
            raise duckdb.Error("Corrupt database file: computed checksum 1 does not match "
                               "stored checksum 2 in block at location 8192")

    monkeypatch.setattr(st, "_con", Broken())
    with pytest.raises(InputError, match="cannot read store .* damaged"):
        st.series()

    class Locked:
        def execute(self, *a, **k):
            raise duckdb.IOException('Could not set lock on file "r.duckdb"')

    monkeypatch.setattr(st, "_con", Locked())
    with pytest.raises(RetryLaterError, match="in use by another process"):
        st.list_runs()
    monkeypatch.setattr(st, "_con", real)
    st.close()
