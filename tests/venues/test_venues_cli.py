"""``liqmap download`` end to end against the loopback archive (no network)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from liqmap.cli import app, main
from liqmap.venues.binance import load_binance_bars

runner = CliRunner()
UM = "data/futures/um"


def _args(site, out, *extra):
    return ["download", "--venue", "binance", "--symbol", "BTC/USDT:USDT",
            "--start", "2025-12-01", "--end", "2025-12-03",
            "--datasets", "klines-5m,metrics,fundingRate", "--out", str(out),
            "--base-url", site.url, *extra]


def test_download_json_then_resume(archive_site, tmp_path):
    out = tmp_path / "data"
    res = runner.invoke(app, _args(archive_site, out, "--json"))
    assert res.exit_code == 0, res.output
    first = json.loads(res.stdout)
    assert (first["fetched"], first["missing"], first["failed"]) == (5, 2, 0)
    bars = load_binance_bars(
        [out / f"{UM}/daily/klines/BTCUSDT/5m/BTCUSDT-5m-2025-12-0{d}.csv" for d in (1, 2)],
        [out / f"{UM}/daily/metrics/BTCUSDT/BTCUSDT-metrics-2025-12-0{d}.csv" for d in (1, 2)],
        gaps="ignore")
    assert len(bars) == 48
    second = json.loads(runner.invoke(app, _args(archive_site, out, "--json")).stdout)
    assert (second["fetched"], second["skipped"]) == (0, 5)


def test_download_table_output_and_failure_exit_code(archive_site, tmp_path):
    rel = f"/{UM}/daily/metrics/BTCUSDT/BTCUSDT-metrics-2025-12-02.zip.CHECKSUM"
    archive_site.fail[rel] = [403]
    res = runner.invoke(app, _args(archive_site, tmp_path / "d"))
    assert res.exit_code == 1
    assert "failed" in res.output and "HTTP 403" in res.output


def test_bad_dates_say_what_to_fix(archive_site, tmp_path, capsys):
    args = _args(archive_site, tmp_path / "d")
    args[args.index("2025-12-03")] = "2025-11-01"
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2
    assert "swap them" in capsys.readouterr().err


def test_download_into_a_duckdb_file(archive_site, tmp_path):
    store_mod = pytest.importorskip("liqmap.store", reason="liqmap.store.DuckDBStore not built")
    db = tmp_path / "liq.duckdb"
    res = runner.invoke(app, _args(archive_site, tmp_path / "d", "--db", str(db), "--json"))
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["stored_bars"] == 48
    store = store_mod.DuckDBStore(db, read_only=True)
    try:
        bars = store.read_bars("binance", "BTC/USDT:USDT")
    finally:
        store.close()
    assert len(bars) == 48 and bars.funding_rate is not None
