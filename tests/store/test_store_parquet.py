"""Parquet export/import: hive partitions, idempotent import, other engines read it;
every table (predictions, level approaches and tier tables too), older exports."""

from __future__ import annotations

import contextlib
import io
import shutil
from dataclasses import replace
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from liqmap import DataError, InputError
from liqmap.cli import main
from liqmap.core.tiers import build_tiers, get_tier_table
from liqmap.store import (
    TABLES,
    BarPrediction,
    DuckDBStore,
    LevelApproach,
    export_parquet,
    import_parquet,
    read_parquet_export,
)
from liqmap.venues.binance import load_liquidation_snapshot

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
DAY_MS = 86_400_000
OLD_TABLES = ("bars", "realized", "snapshots", "runs")  # what an older liqmap exported
NEW_TABLES = ("predictions", "level_approaches", "tier_tables")
FETCHED = replace(get_tier_table("bybit"), version="2026-12-01", source="fetched", verified=True,
                  tiers=build_tiers(((0, 2e6, 100, 0.005), (2e6, float("inf"), 50, 0.01))))


def _approach(ts: int, side: str = "long", level: float = 85_000.0, **kw) -> LevelApproach:
    base = dict(venue="binance", symbol=BTC, ts_ms=ts, side=side, cluster_price_usd=level,
                notional_usd=5e7, price_usd=85_500.0, distance_pct=-0.58,
                horizon_start_ms=ts + 300_000, horizon_ms=3_600_000, outcome="pending",
                crossed_ts_ms=None, max_beyond_pct=0.0, move_pct=-0.2,
                realized_long_usd=0.0, realized_short_usd=0.0, map_ts_ms=None)
    base.update(kw)
    return LevelApproach(**base)


def _fill_new_tables(st: DuckDBStore, t0: int) -> None:
    """Predictions of two series, level approaches (NULL and set optional times, several
    days) and two fetched tier tables (one with an open last cap, one in coin)."""
    st.write_predictions([BarPrediction("binance", BTC, t0 + i * 300_000, 300_000, 1e6 + i,
                                        2e5 * i, {"leverage": "all-leverage", "i": i})
                          for i in range(400)])  # 400 x 5 min: two UTC days
    st.write_predictions([BarPrediction("bybit", ETH, t0, 3_600_000, 0.0, 12.5, {})])
    st.write_level_approaches([
        _approach(t0),
        _approach(t0 + DAY_MS, "short", 95_000.0, outcome="through", crossed_ts_ms=t0 + DAY_MS,
                  max_beyond_pct=1.2, realized_short_usd=2e6, map_ts_ms=t0 + DAY_MS - 300_000),
        _approach(t0 + 2 * DAY_MS, venue="okx", outcome="rejected", map_ts_ms=t0),
    ])
    st.write_tier_table(FETCHED, t0 + 123)
    st.write_tier_table(get_tier_table("okx"), t0 + 456)


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
    _fill_new_tables(st, int(bars.ts_ms[0]))
    return st


def _new_tables(st: DuckDBStore) -> dict:
    """Every row of the newer tables, through the store's API (tier tables with their
    fetch time)."""
    return {"predictions": {(s.venue, s.symbol): st.read_predictions(s.venue, s.symbol)
                            for s in st.series() if s.table == "predictions"},
            "level_approaches": st.read_level_approaches(),
            "tier_tables": st.read_tier_tables(with_fetched_ms=True)}


def _rows(path: Path | DuckDBStore) -> dict:
    """Row count of every table (SQL on the file: duplicates would show)."""
    if isinstance(path, DuckDBStore):
        return {t: path._conn().execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
                for t in TABLES}
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in TABLES}
    finally:
        con.close()


def _assert_same_store(a: DuckDBStore, b: DuckDBStore, same) -> None:
    assert a.series() == b.series()
    for s in a.series():
        if s.table == "bars":
            same.bars(b.read_bars(s.venue, s.symbol), a.read_bars(s.venue, s.symbol))
        elif s.table == "realized":
            same.realized(b.read_realized(s.venue, s.symbol), a.read_realized(s.venue, s.symbol))
        elif s.table == "snapshots":
            for x, y in zip(b.read_snapshots(s.venue, s.symbol),
                            a.read_snapshots(s.venue, s.symbol), strict=True):
                same.snapshot(x, y)
    assert _new_tables(a) == _new_tables(b)
    ra, rb = a.list_runs(), b.list_runs()
    assert [r["run_id"] for r in ra] == [r["run_id"] for r in rb]
    assert np.isnan(rb[-1]["summary"].pop("nan")) and np.isnan(ra[-1]["summary"].pop("nan"))
    assert ra == rb


def test_export_then_import_into_a_fresh_store_reads_equal(filled, tmp_path, same):
    counts = export_parquet(filled, tmp_path / "exp")
    rows = {s.table: 0 for s in filled.series()}
    for s in filled.series():
        rows[s.table] += s.rows
    assert counts == {**rows, "runs": 2, "level_approaches": 3, "tier_tables": 2}
    assert counts["predictions"] == 401 and set(counts) == set(TABLES)
    assert all(n > 0 for n in _rows(filled).values())  # every table holds rows
    fresh = DuckDBStore()
    assert import_parquet(fresh, tmp_path / "exp") == counts
    _assert_same_store(filled, fresh, same)
    assert _rows(fresh) == _rows(filled)


def test_import_twice_stores_nothing_twice(filled, tmp_path, same):
    export_parquet(filled, tmp_path / "exp")
    fresh = DuckDBStore()
    import_parquet(fresh, tmp_path / "exp")
    import_parquet(fresh, tmp_path / "exp")
    _assert_same_store(filled, fresh, same)
    assert _rows(fresh) == _rows(filled)
    files = sorted((tmp_path / "exp").rglob("*.parquet"))
    assert {f.relative_to(tmp_path / "exp").parts[0] for f in files} == set(TABLES)
    export_parquet(filled, tmp_path / "exp")  # re-export replaces, does not append
    assert sorted((tmp_path / "exp").rglob("*.parquet")) == files
    n_bars = sum(s.rows for s in filled.series() if s.table == "bars")
    assert ds.dataset(tmp_path / "exp" / "bars", partitioning="hive").count_rows() == n_bars
    import_parquet(fresh, tmp_path / "exp")
    _assert_same_store(filled, fresh, same)
    assert _rows(fresh) == _rows(filled)


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


# -- the newer tables: layout, older exports, damaged files --------------------------------

def test_newer_tables_are_hive_partitioned_and_other_engines_read_them(filled, tmp_path):
    out = tmp_path / "exp"
    export_parquet(filled, out, tables=NEW_TABLES)
    assert sorted(p.name for p in out.iterdir()) == sorted(NEW_TABLES)
    leaf = {p.parent.relative_to(out).as_posix() for p in out.rglob("*.parquet")}
    assert {"tier_tables/venue=bybit/symbol=BTCUSDT/version=2026-12-01",
            "tier_tables/venue=okx/symbol=BTC-USDT-SWAP/version=" + get_tier_table("okx").version,
            "predictions/venue=bybit/symbol=ETH%2FUSDT%3AUSDT/date=2025-12-01",
            "level_approaches/venue=okx/symbol=BTC%2FUSDT%3AUSDT/date=2025-12-03"} <= leaf
    preds = ds.dataset(out / "predictions", partitioning="hive").to_table()
    assert sorted(set(preds.filter(ds.field("venue") == "binance")["date"].to_pylist())) == \
        ["2025-12-01", "2025-12-02"]
    root = out.as_posix()
    con = duckdb.connect()
    tiers = con.execute(f"SELECT venue, symbol, CAST(version AS VARCHAR), fetched_ms, verified "
                        f"FROM read_parquet('{root}/tier_tables/**/*.parquet', "
                        "hive_partitioning = true) ORDER BY venue").fetchall()
    t0 = int(filled.read_bars("binance", BTC).ts_ms[0])
    assert tiers == [("bybit", "BTCUSDT", "2026-12-01", t0 + 123, True),
                     ("okx", "BTC-USDT-SWAP", get_tier_table("okx").version, t0 + 456,
                      get_tier_table("okx").verified)]
    nulls = con.execute(f"SELECT count(*) FILTER (WHERE crossed_ts_ms IS NULL), "
                        f"count(*) FILTER (WHERE map_ts_ms IS NULL) FROM read_parquet("
                        f"'{root}/level_approaches/**/*.parquet', hive_partitioning = true)"
                        ).fetchall()[0]
    assert nulls == (2, 1)  # no time stays NULL, not 0


def test_an_export_without_the_newer_folders_still_imports(filled, tmp_path, same):
    out = tmp_path / "exp"
    counts = export_parquet(filled, out, tables=OLD_TABLES)  # the layout older liqmaps wrote
    assert set(counts) == set(OLD_TABLES)
    assert not any((out / t).exists() for t in NEW_TABLES)
    fresh = DuckDBStore()
    assert import_parquet(fresh, out) == counts
    assert _new_tables(fresh) == {"predictions": {}, "level_approaches": [], "tier_tables": []}
    for s in filled.series():
        if s.table == "bars":
            same.bars(fresh.read_bars(s.venue, s.symbol), filled.read_bars(s.venue, s.symbol))
    assert len(fresh.list_runs()) == 2
    export_parquet(filled, out)  # the newer tables added to the same folder later
    assert import_parquet(fresh, out)["tier_tables"] == 2
    _assert_same_store(filled, fresh, same)


def test_a_store_made_before_the_newer_tables_exports_and_imports(tmp_path, make_bars):
    path = tmp_path / "old.duckdb"
    with DuckDBStore(path) as st:
        st.write_bars(make_bars(300))
    con = duckdb.connect(str(path))
    for t in NEW_TABLES:
        con.execute(f"DROP TABLE {t}")
    con.close()
    with DuckDBStore(path, read_only=True) as old:  # as export-parquet opens it
        counts = export_parquet(old, tmp_path / "exp")
    assert counts == {**dict.fromkeys(TABLES, 0), "bars": 300}
    assert sorted(p.name for p in (tmp_path / "exp").iterdir()) == ["bars"]
    fresh = DuckDBStore()
    assert import_parquet(fresh, tmp_path / "exp") == {"bars": 300}
    assert _rows(fresh) == {**dict.fromkeys(TABLES, 0), "bars": 300}


def test_reexport_of_a_resolved_approach_and_a_new_fetch_replaces_them(filled, tmp_path):
    out = tmp_path / "exp"
    export_parquet(filled, out)
    first = filled.read_level_approaches()[0]
    filled.write_level_approaches([replace(first, outcome="rejected", move_pct=0.4)])
    filled.write_tier_table(replace(FETCHED, source="fetched again"), 1_770_000_000_000)
    filled.write_predictions([replace(filled.read_predictions("bybit", ETH)[0], bar_ms=60_000)])
    export_parquet(filled, out)
    fresh = DuckDBStore()
    import_parquet(fresh, out)
    assert _new_tables(fresh) == _new_tables(filled)
    assert _rows(fresh) == _rows(filled)


def test_importing_an_older_export_keeps_resolved_approaches_and_later_fetches(
        filled, tmp_path):
    out = tmp_path / "old"
    export_parquet(filled, out)  # the first approach pending, FETCHED fetched at t0 + 123
    first = filled.read_level_approaches()[0]
    assert first.outcome == "pending"
    resolved = replace(first, outcome="through", crossed_ts_ms=first.ts_ms + 600_000,
                       max_beyond_pct=0.8, realized_long_usd=1e6)
    filled.write_level_approaches([resolved])
    (_, fetched_ms), _okx = filled.read_tier_tables(with_fetched_ms=True)
    later = replace(FETCHED, source="fetched later the same day")
    filled.write_tier_table(later, fetched_ms + 3_600_000)
    before, rows = _new_tables(filled), _rows(filled)
    import_parquet(filled, out)
    assert _new_tables(filled) == before and _rows(filled) == rows
    assert resolved in filled.read_level_approaches()
    assert filled.read_tier_tables("bybit") == [later]


def test_a_store_that_cannot_hold_a_table_is_refused_before_any_write(filled, tmp_path):
    export_parquet(filled, tmp_path / "exp")
    export = read_parquet_export(tmp_path / "exp")
    assert len(export.level_approaches) == 3 and len(export.tier_tables) == 2

    class NoWatch:  # a store without level approaches or tier tables
        def __getattr__(self, name):
            if name in ("write_level_approaches", "write_tier_table"):
                raise AttributeError(name)
            raise AssertionError(f"{name} called before the check")

    with pytest.raises(InputError, match="no write_level_approaches"):
        import_parquet(NoWatch(), export)  # type: ignore[arg-type]


def _cli(argv: list) -> tuple[int, str]:
    """``liqmap ARGV`` in-process: (exit code, stderr)."""
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in argv])
        except SystemExit as exc:
            return int(exc.code or 0), err.getvalue()
    return 0, err.getvalue()


@pytest.fixture
def exported(tmp_path, make_bars) -> tuple[Path, Path]:
    """(store file with rows in every table, its export-parquet folder made by the CLI)."""
    db = tmp_path / "src.duckdb"
    with DuckDBStore(db) as st:
        bars = make_bars(300)
        st.write_bars(bars)
        st.record_run("backtest", {}, {"spearman": 0.3}, ts_ms=int(bars.ts_ms[0]))
        _fill_new_tables(st, int(bars.ts_ms[0]))
    code, err = _cli(["export-parquet", "--db", db, "--out", tmp_path / "exp", "--json"])
    assert code == 0, err
    return db, tmp_path / "exp"


def _spoil(folder: Path, table: str, kind: str) -> tuple[Path, list[str]]:
    """Damage one file of ``table``; (that file, fragments the refusal must show)."""
    path = sorted((folder / table).rglob("*.parquet"))[0]
    if kind == "random bytes":
        path.write_bytes(np.random.default_rng(3).bytes(2000))
        return path, ["not a readable Parquet file"]
    if kind == "foreign file":
        pq.write_table(pa.table({"id": [1, 2], "note": ["a", "b"]}), path)
        return path, ["missing column(s)", f"liqmap {table} export"]
    data = pq.ParquetFile(path).read()
    col, value, fragment = {
        "predictions": ("predicted_long_usd", -5.0, "predicted_long_usd must be a finite"),
        "level_approaches": ("outcome", "maybe", "outcome must be one of"),
        "tier_tables": ("tiers", "[]", "has no tiers"),
    }[table]
    i = data.column_names.index(col)
    data = data.set_column(i, col, pa.array([value] * data.num_rows, data.schema.field(i).type))
    pq.write_table(data, path)
    return path, ["row 0", fragment]


@pytest.mark.parametrize("kind", ["random bytes", "foreign file", "refused record"])
@pytest.mark.parametrize("table", NEW_TABLES)
def test_a_damaged_newer_table_file_is_refused_naming_it_and_nothing_changes(
        exported, tmp_path, table, kind):
    db, folder = exported
    target = tmp_path / "copy.duckdb"
    shutil.copy(db, target)
    before, data = _rows(target), target.read_bytes()
    path, fragments = _spoil(folder, table, kind)
    code, err = _cli(["import-parquet", folder, "--db", target])
    assert code == 2 and "Traceback" not in err, err
    assert "fix your input" in err and str(path) in err, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    assert _rows(target) == before and target.read_bytes() == data
    fresh = tmp_path / "new.duckdb"
    assert _cli(["import-parquet", folder, "--db", fresh])[0] == 2
    assert not fresh.exists()
    with pytest.raises(DataError) as exc:
        read_parquet_export(folder)
    assert exc.value.source == str(path)


def test_the_cli_round_trip_carries_every_table(exported, tmp_path):
    db, folder = exported
    target = tmp_path / "back.duckdb"
    for _ in range(2):  # twice: nothing stored twice
        code, err = _cli(["import-parquet", folder, "--db", target, "--json"])
        assert code == 0, err
        assert _rows(target) == _rows(db)
    with DuckDBStore(db, read_only=True) as a, DuckDBStore(target, read_only=True) as b:
        assert _new_tables(a) == _new_tables(b)


UNUSABLE_TIERS = [  # (column of the export file, value, the field the refusal names)
    ("version", "garbage", "version"),  # the partition folder's value
    ("notional_unit", "eur", "notional_unit"),
    ("contract_size", 0.0, "contract_size"),
    ("fetched_ms", 10**18, "fetched_ms"),
    ("tiers", "[[0, null, 100, NaN, 0]]", "mmr"),
    ("tiers", "[[0, 1e6, 100, 0.005, 0], [1e6, null, 50, 1.5, 4950]]", "mmr"),
    ("tiers", "[[0, null, 0, 0.005, 0]]", "max_leverage"),
]


@pytest.mark.parametrize(("column", "value", "field"), UNUSABLE_TIERS,
                         ids=[f"{c[0]}={c[1]}" for c in UNUSABLE_TIERS])
def test_an_unusable_tier_table_in_an_export_is_refused_and_nothing_changes(
        tmp_path, column, value, field):
    t0 = 1_766_232_000_000
    src = DuckDBStore()
    src.write_tier_table(FETCHED, t0)
    out = tmp_path / "exp"
    export_parquet(src, out, tables=("tier_tables",))
    (path,) = sorted((out / "tier_tables").rglob("*.parquet"))
    if column == "version":
        folder = path.parent.rename(path.parent.with_name(f"version={value}"))
        path = folder / path.name
    else:
        data = pq.ParquetFile(path).read()
        i = data.column_names.index(column)
        pq.write_table(data.set_column(i, column, pa.array([value], data.schema.field(i).type)),
                       path)
    target = DuckDBStore()
    target.write_tier_table(get_tier_table("okx"), t0)
    before = _new_tables(target)
    with pytest.raises(DataError) as exc:
        import_parquet(target, out)
    msg = str(exc.value)
    assert exc.value.source == str(path) and field in msg and "bybit" in msg, msg
    assert _new_tables(target) == before and _rows(target)["tier_tables"] == 1
