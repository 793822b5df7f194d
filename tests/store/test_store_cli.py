"""Store commands end to end on a temporary database (no network)."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from liqmap import InputError
from liqmap.cli import app
from liqmap.io import load_sample
from liqmap.store import DuckDBStore
from liqmap.venues.binance import (
    load_binance_bars,
    load_forceorder_csv,
    load_liquidation_snapshot,
)

runner = CliRunner()
SNAPSHOT = "BTCUSDT-liquidationSnapshot-2025-12-27.csv"
FORCEORDER = "forceorder_allsymbols_sample.csv"


def _json(result) -> dict:
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def _bar_csv(bars, path):
    pd.DataFrame({n: getattr(bars, n) for n in ("ts_ms", "open", "high", "low", "close",
                                                "volume", "open_interest")}).to_csv(path,
                                                                                     index=False)
    return path


def test_ingest_sample_then_show_store(tmp_path, same):
    db = str(tmp_path / "s.duckdb")
    out = _json(runner.invoke(app, ["ingest-bars", "--sample", "btcusdt-5m-2025-12", "--db", db,
                                    "--json"]))
    sample = load_sample()
    assert out["inputs"][0]["rows"] == len(sample)
    shown = _json(runner.invoke(app, ["show-store", "--db", db, "--json"]))
    assert shown["series"] == [{"table": "bars", "venue": sample.venue, "symbol": sample.symbol,
                                "rows": len(sample), "first_ts_ms": int(sample.ts_ms[0]),
                                "last_ts_ms": int(sample.ts_ms[-1])}]
    with DuckDBStore(db, read_only=True) as st:
        same.bars(st.read_bars(sample.venue, sample.symbol), sample)
    text = runner.invoke(app, ["show-store", "--db", db])
    assert text.exit_code == 0 and f"{len(sample):,}" in text.stdout


def test_ingest_generic_files_with_venue_symbol_and_env_db(tmp_path, make_bars, monkeypatch):
    monkeypatch.setenv("LIQMAP_DB", str(tmp_path / "env.duckdb"))
    a = _bar_csv(make_bars(100, seed=1), tmp_path / "a.csv")
    b = _bar_csv(make_bars(100, seed=2, start_ms=1_764_547_200_000 + 30_000_000),
                 tmp_path / "b.csv")
    out = _json(runner.invoke(app, ["ingest-bars", str(a), str(b), "--venue", "okx",
                                    "--symbol", "BTC/USDT:USDT", "--json"]))
    assert [i["rows"] for i in out["inputs"]] == [100, 100]
    assert out["db"] == str(tmp_path / "env.duckdb")
    assert [(s["venue"], s["rows"]) for s in out["series"]] == [("okx", 200)]  # 100 overlap


def test_ingest_binance_archive_klines_with_metrics(tmp_path, fx, same):
    db = str(tmp_path / "k.duckdb")
    kl, mt = fx("BTCUSDT-5m-2025-12-01.csv"), fx("BTCUSDT-metrics-2025-12-01.csv")
    out = _json(runner.invoke(app, ["ingest-bars", str(kl), "--metrics", str(mt), "--db", db,
                                    "--json"]))
    want = load_binance_bars(kl, mt)
    assert out["inputs"][0]["rows"] == len(want)
    with DuckDBStore(db) as st:
        same.bars(st.read_bars("binance", "BTC/USDT:USDT"), want)


def test_a_bad_file_among_good_ones_writes_nothing(tmp_path, make_bars, fx):
    db = tmp_path / "bad.duckdb"
    good = _bar_csv(make_bars(50), tmp_path / "good.csv")
    res = runner.invoke(app, ["ingest-bars", str(good), str(fx("broken_unsorted.csv")),
                              "--db", str(db)])
    assert res.exit_code != 0 and isinstance(res.exception, InputError)
    assert not db.exists()  # validated before the store was even opened
    res = runner.invoke(app, ["ingest-bars", "--db", str(db)])
    assert "give one or more bar files" in str(res.exception)


def test_ingest_liquidations_twice_and_across_sources(tmp_path, fx):
    db = str(tmp_path / "l.duckdb")
    snap, force = fx(SNAPSHOT), fx(FORCEORDER)
    out = _json(runner.invoke(app, ["ingest-liquidations", str(snap), "--db", db, "--json"]))
    with open(snap, newline="") as fh:
        distinct = {tuple(r) for r in list(csv.reader(fh))[1:]}
    assert out["inputs"] == [{"source": str(snap), "rows_read": len(distinct),
                              "rows_new": len(distinct)}]
    again = _json(runner.invoke(app, ["ingest-liquidations", str(snap), str(force), "--db", db,
                                      "--json"]))
    stored = load_liquidation_snapshot(snap)
    keys = set(zip(stored.ts_ms, stored.side, stored.price, stored.qty_coin))
    rec = load_forceorder_csv(force)
    new = {k for k in zip(rec.ts_ms, rec.side, rec.price, rec.qty_coin) if k not in keys}
    assert [i["rows_new"] for i in again["inputs"]] == [0, len(new)]
    assert again["series"][0]["rows"] == len(distinct) + len(new)


def test_export_import_parquet_commands(tmp_path, fx):
    src, dst, folder = str(tmp_path / "a.duckdb"), str(tmp_path / "b.duckdb"), tmp_path / "pq"
    _json(runner.invoke(app, ["ingest-bars", "--sample", "btcusdt-5m-2025-12", "--db", src,
                              "--json"]))
    _json(runner.invoke(app, ["ingest-liquidations", str(fx(SNAPSHOT)), "--db", src, "--json"]))
    exp = _json(runner.invoke(app, ["export-parquet", "--db", src, "--out", str(folder),
                                    "--json"]))
    assert exp["rows"]["bars"] == len(load_sample()) and exp["rows"]["runs"] == 0
    for _ in range(2):  # importing twice changes nothing
        imp = _json(runner.invoke(app, ["import-parquet", str(folder), "--db", dst, "--json"]))
        assert imp["series"] == exp["series"]
    only = _json(runner.invoke(app, ["export-parquet", "--db", src, "--out",
                                     str(tmp_path / "only"), "--table", "realized", "--json"]))
    assert set(only["rows"]) == {"realized"}
    assert not (tmp_path / "only" / "bars").exists()


@pytest.mark.parametrize("args, match", [
    (["show-store"], "no store at"),
    (["export-parquet", "--out", "x", "--table", "trades"], "unknown table"),
    (["import-parquet", "."], "no liqmap Parquet export"),
])
def test_errors_say_what_to_fix(tmp_path, monkeypatch, args, match):
    monkeypatch.chdir(tmp_path)
    if args[0] == "export-parquet":
        DuckDBStore(tmp_path / "liqmap.duckdb").close()
    res = runner.invoke(app, args)
    assert res.exit_code != 0 and isinstance(res.exception, InputError)
    assert match in str(res.exception)
