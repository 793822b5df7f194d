"""``liqmap scan``: a generated market as a table and JSON, the store and file sources, sorting
and ``--top``, and errors that exit 2 naming the fix."""

from __future__ import annotations

import json

import pytest

from liqmap.cli import main
from liqmap.scaleout import generated_market
from liqmap.store import open_store


def run(argv: list[str]) -> None:
    """Run the CLI as the ``liqmap`` script does; a success exits with code 0."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code in (0, None)


def fails(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    return capsys.readouterr().err


def scan_json(capsys, *args: str) -> dict:
    run(["scan", *args, "--json"])
    return json.loads(capsys.readouterr().out)


def test_generated_market_json_is_labelled_sorted_and_cut(capsys):
    res = scan_json(capsys, "--generated", "3", "--sort", "ceiling", "--top", "5")
    assert (res["generated"], res["n_series"], res["n_rows"]) == (True, 12, 5)
    assert res["sort_by"] == "ceiling" and res["scheduler"] == "serial"
    d = [r["squeeze_ceiling"]["distance_pct"] for r in res["rows"]]
    assert d == sorted(d)
    assert all(r["source"].startswith("generated market") for r in res["rows"])


def test_filters_and_table(capsys):
    res = scan_json(capsys, "--generated", "4", "--venue", "okx", "--symbol", "ETH",
                    "--symbol", "GEN004/USDT:USDT", "--sort", "symbol")
    assert [(r["symbol"], r["venue"]) for r in res["rows"]] == [
        ("ETH/USDT:USDT", "okx"), ("GEN004/USDT:USDT", "okx")]
    run(["scan", "--generated", "4", "--venue", "hyperliquid"])
    out = capsys.readouterr().out
    assert "GENERATED MARKET (not market data)" in out and "BTC/USDC:USDC" in out
    assert "fallback BTC tiers" in out and "own tiers" in out


def test_store_and_file_sources(capsys, tmp_path):
    db = tmp_path / "s.duckdb"
    series = generated_market(2, venues=("bybit", "okx"), n_bars=200)
    with open_store(db) as store:
        for s in series:
            store.write_bars(s.bars())
    res = scan_json(capsys, "--db", str(db), "--venue", "okx", "--sort", "symbol")
    assert [(r["symbol"], r["venue"]) for r in res["rows"]] == [
        ("BTC/USDT:USDT", "okx"), ("ETH/USDT:USDT", "okx")]
    b = series[0].bars()
    csv = tmp_path / "btc.csv"
    csv.write_text("ts_ms,open,high,low,close,volume,open_interest\n" + "".join(
        f"{t},{o:.17g},{h:.17g},{lo:.17g},{c:.17g},1.0,{oi:.17g}\n" for t, o, h, lo, c, oi in
        zip(b.ts_ms, b.open, b.high, b.low, b.close, b.open_interest)))
    res = scan_json(capsys, "--input", f"{csv}@binance:BTC/USDT:USDT")
    assert [(r["symbol"], r["venue"], r["generated"]) for r in res["rows"]] == [
        ("BTC/USDT:USDT", "binance", False)]


def test_bad_inputs_exit_2_naming_the_fix(capsys, tmp_path, monkeypatch):
    err = fails(capsys, ["scan", "--generated", "2", "--venue", "kraken"])
    assert "unknown venue(s) ['kraken']" in err and "binance, bybit, okx, hyperliquid" in err
    empty = tmp_path / "empty.duckdb"
    open_store(empty).close()
    err = fails(capsys, ["scan", "--db", str(empty)])
    assert "holds no bars" in err and "ingest-bars" in err and "--generated 30" in err
    err = fails(capsys, ["scan", "--db", str(empty), "--venue", "kraken"])
    assert "unknown venue 'kraken'" in err
    monkeypatch.delenv("LIQMAP_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    err = fails(capsys, ["scan"])
    assert "no store at" in err and "--generated N" in err
    err = fails(capsys, ["scan", "--generated", "2", "--sort", "biggest"])
    assert "unknown --sort 'biggest'" in err and "nearest-cluster" in err
    err = fails(capsys, ["scan", "--input", "x.csv"])
    assert "FILE@VENUE:SYMBOL" in err
    err = fails(capsys, ["scan", "--input", "nope.csv@okx:BTC/USDT:USDT"])
    assert "no file nope.csv" in err
    err = fails(capsys, ["scan", "--generated", "2", "--scheduler", "nohost"])
    assert "scheduler address 'nohost' is malformed" in err
