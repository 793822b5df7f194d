"""Benchmark the DuckDB store on one year of 1-minute bars (525,600 rows).

Times, in the same run: writing the year into a fresh DuckDB file (one transaction),
upserting it again (every key already stored), reading it back, a one-day window read,
and exporting / importing hive-partitioned Parquet; and, as the reference, plain
``pyarrow.parquet`` writing and reading the same columns to one file. Prints each time
and its ratio to the reference. Checks that what is read back equals what was written
(a benchmark, not a timed test: it fails only on a mismatch, never on speed).

Run: ``.venv/bin/python benchmarks/bench_store.py``
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from liqmap.core.bars import Bars
from liqmap.store import DuckDBStore, export_parquet, import_parquet

N = 525_600
START_MS, BAR_MS = 1_735_689_600_000, 60_000  # 2025-01-01 UTC, 1-minute bars
COLUMNS = ("open", "high", "low", "close", "open_interest", "volume", "taker_buy_volume",
           "taker_delta", "funding_rate")


def year_of_bars(seed: int = 0) -> Bars:
    """Synthetic 1-minute BTC bars with every optional column."""
    rng = np.random.default_rng(seed)
    close = 90_000 * np.exp(np.cumsum(rng.normal(0, 6e-4, N)))
    open_ = np.r_[close[0], close[:-1]]
    volume = rng.gamma(2.0, 10.0, N)
    buy = volume * rng.uniform(0.3, 0.7, N)
    return Bars(ts_ms=START_MS + BAR_MS * np.arange(N, dtype=np.int64), open=open_,
                high=np.maximum(open_, close) * 1.0005, low=np.minimum(open_, close) * 0.9995,
                close=close, open_interest=80_000 + np.cumsum(rng.normal(0, 5, N)),
                volume=volume, taker_buy_volume=buy, taker_delta=2 * buy - volume,
                funding_rate=np.repeat(rng.normal(1e-4, 4e-5, N // 480 + 1), 480)[:N],
                source="bench")


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _check(a: Bars, b: Bars) -> None:
    np.testing.assert_array_equal(a.ts_ms, b.ts_ms)
    for name in COLUMNS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def main() -> None:
    bars = year_of_bars()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        table = pa.table({"ts_ms": bars.ts_ms, **{c: getattr(bars, c) for c in COLUMNS}})
        ref_write, _ = _timed(lambda: pq.write_table(table, folder / "ref.parquet"))
        ref_read, _ = _timed(lambda: pq.read_table(folder / "ref.parquet"))
        store = DuckDBStore(folder / "bench.duckdb")
        rows = {}
        t_write, rows["write"] = _timed(lambda: store.write_bars(bars))
        t_upsert, rows["upsert"] = _timed(lambda: store.write_bars(bars))
        t_read, back = _timed(lambda: store.read_bars(bars.venue, bars.symbol))
        _check(back, bars)
        day = START_MS + 200 * 86_400_000
        t_day, one = _timed(lambda: store.read_bars(bars.venue, bars.symbol, day,
                                                    day + 86_400_000))
        assert len(one) == 1_440
        t_export, _ = _timed(lambda: export_parquet(store, folder / "export", tables=["bars"]))
        fresh = DuckDBStore(folder / "fresh.duckdb")
        t_import, _ = _timed(lambda: import_parquet(fresh, folder / "export"))
        _check(fresh.read_bars(bars.venue, bars.symbol), bars)
        store.close()
        fresh.close()
    print(f"{N:,} 1-minute bars, {len(COLUMNS) + 1} columns")
    print(f"reference pyarrow.parquet: write {ref_write * 1e3:8.1f} ms  "
          f"read {ref_read * 1e3:8.1f} ms")
    for name, sec, ref in (("store write (1 transaction)", t_write, ref_write),
                           ("store upsert, all keys exist", t_upsert, ref_write),
                           ("store read, whole year", t_read, ref_read),
                           ("store read, one day", t_day, ref_read),
                           ("export hive Parquet", t_export, ref_write),
                           ("import hive Parquet", t_import, ref_write)):
        print(f"{name:30s} {sec * 1e3:8.1f} ms  = {sec / ref:6.1f} x reference")
    print(f"rows written {rows['write']:,}, upserted {rows['upsert']:,}; reads match")


if __name__ == "__main__":
    main()
