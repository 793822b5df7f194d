"""Hostile and careless input to the store commands: names, liquidation files, store files,
Parquet imports.

Every refused case asserts the exit code (2 fix your input, 3 retry later), that stderr
names the file/row/key and the fix, that no traceback is printed, and that the row count
of every table (read through the store's own API) is what it was before the command.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqmap import DataError, InputError, RetryLaterError
from liqmap.core.realized import RealizedLiquidations
from liqmap.io import load_sample
from liqmap.store import DuckDBStore, classify_store_error
from liqmap.venues.binance import load_liquidation_snapshot

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SNAP = FIXTURES / "BTCUSDT-liquidationSnapshot-2025-12-27.csv"
BTC = "BTC/USDT:USDT"
HEADER = ("time,side,order_type,time_in_force,original_quantity,price,average_price,"
          "order_status,last_fill_quantity,accumulated_fill_quantity\n")
TS = 1_766_847_448_493  # 2025-12-27, Unix ms
LO_MS, HI_MS = 946_684_800_000, 4_102_444_800_000  # 2000-01-01 .. 2100-01-01


@dataclass(frozen=True)
class CliResult:
    """What ``refused`` reads, for a command run in a child process of our own."""

    code: int
    out: str
    err: str


def _row(ts: object = TS, qty: object = "0.004", side: str = "SELL",
         order_type: str = "LIMIT") -> str:
    return f"{ts},{side},{order_type},IOC,{qty},87000,87506.5,FILLED,{qty},{qty}\n"


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A small store with bars, liquidations and a run, copied by each test."""
    path = tmp_path_factory.mktemp("tpl") / "tpl.duckdb"
    with DuckDBStore(path) as st_:
        st_.write_bars(load_sample().take(slice(0, 200)))
        st_.write_realized(load_liquidation_snapshot(SNAP))
        st_.record_run("backtest", {"window": "A"}, {"spearman": 0.3})
    return path


@pytest.fixture
def db(template, tmp_path) -> Path:
    path = tmp_path / "store.duckdb"
    shutil.copy(template, path)
    return path


def counts(path: Path) -> dict:
    """Rows per table, venue and symbol, and runs, through the store's own API."""
    with DuckDBStore(path, read_only=True) as st_:
        rows = {(s.table, s.venue, s.symbol): s.rows for s in st_.series()}
        rows["runs"] = len(st_.list_runs())
    return rows


# -- 1. venue and symbol ----------------------------------------------------------------

@pytest.mark.parametrize("args, fragments", [
    (["--venue", "junk"], ["unknown venue 'junk'", "binance, binance-inverse, bybit, okx, "
                           "hyperliquid", "binanceusdm"]),
    (["--venue", "ftx"], ["unknown venue 'ftx'", "use one of"]),
    (["--venue", ""], ["venue is empty", "give one of binance"]),
    (["--venue", "   "], ["venue is empty"]),
    (["--symbol", ""], ["symbol is empty", "BTC/USDT:USDT"]),
    (["--symbol", "BTC/USDT"], ["spot symbol", "BTC/USDT:USDT"]),
    (["--symbol", "BTC_USDT"], ["symbol 'BTC_USDT' is not understood for binance", "BTCUSDT"]),
    (["--venue", "okx", "--symbol", "BTCUSDT"], ["not understood for okx", "BTC-USDT-SWAP"]),
    (["--symbol", "BTC/USDT:USDT; drop table bars"], ["not understood"]),
])
@pytest.mark.parametrize("command", ["ingest-liquidations", "ingest-bars"])
def test_unknown_or_empty_venue_and_symbol_are_refused_before_writing(cli, refused, db,
                                                                      command, args,
                                                                      fragments):
    before = counts(db)
    files = [SNAP] if command == "ingest-liquidations" else ["--sample", "btcusdt-5m-2025-12"]
    res = cli([command, *files, *args, "--db", db])
    refused(res, 2, *fragments)
    assert counts(db) == before


def test_bad_names_create_no_store(cli, refused, tmp_path):
    res = cli(["ingest-liquidations", SNAP, "--venue", "Binanse", "--db", tmp_path / "n.duckdb"])
    refused(res, 2, "unknown venue 'Binanse'")
    assert not (tmp_path / "n.duckdb").exists()


@pytest.mark.parametrize("venue, symbol, stored", [
    ("Binance", None, ("binance", BTC)),
    ("BINANCE", "btcusdt", ("binance", BTC)),
    ("binanceusdm", "BTCUSDT", ("binance", BTC)),
    ("binancecoinm", "BTCUSD_PERP", ("binance-inverse", "BTC/USD:BTC")),
    (" OKX ", "BTC-USDT-SWAP", ("okx", BTC)),
    ("okx", "btc-usd-swap", ("okx", "BTC/USD:BTC")),
    ("Bybit", "BTCUSDT", ("bybit", BTC)),
    ("bybit", "BTCUSD", ("bybit", "BTC/USD:BTC")),
    ("hyperliquid", "BTC", ("hyperliquid", "BTC/USDC:USDC")),
    ("hyperliquid", "BTC/USDC:USDC", ("hyperliquid", "BTC/USDC:USDC")),
    (None, "btc/usdt:usdt", ("binance", BTC)),
])
def test_ccxt_ids_and_venue_ids_are_stored_canonically(cli, tmp_path, venue, symbol, stored):
    path = tmp_path / "c.duckdb"
    args = ["ingest-liquidations", SNAP, "--db", path, "--json"]
    args += ["--venue", venue] if venue is not None else []
    args += ["--symbol", symbol] if symbol is not None else []
    res = cli(args)
    assert res.code == 0, res.err
    assert set(counts(path)) == {("realized", *stored), "runs"}


def test_the_store_itself_refuses_unknown_venues_and_spells_aliases(tmp_path):
    bars = load_sample().take(slice(0, 20))
    with DuckDBStore(tmp_path / "lib.duckdb") as st_:
        with pytest.raises(InputError, match="unknown venue 'Binanse'"):
            st_.write_bars(replace(bars, venue="Binanse"))
        assert st_.series() == []
        st_.write_bars(replace(bars, venue="binanceusdm", symbol="BTCUSDT"))
        assert [(s.venue, s.symbol) for s in st_.series()] == [("binance", BTC)]


# -- 2. liquidation files ---------------------------------------------------------------

LIQ_CASES = {
    "microseconds": (_row() + _row(TS * 1000), 1, ["column 'time'", "microseconds",
                                                   "divide by 1000"]),
    "nanoseconds": (_row(TS * 1_000_000), 0, ["microseconds or nanoseconds", "1000000"]),
    "seconds": (_row(TS // 1000), 0, ["column 'time'", "seconds", "multiply by 1000"]),
    "1970": (_row(5), 0, ["out of range"]),
    "fractional ms": (_row() + _row(f"{TS}.5"), 1, ["whole Unix milliseconds", "round it"]),
    "empty time": (_row(""), 0, ["column 'time'", "empty"]),
    "1e15 quantity": (_row(qty="1e15"), 0, ["notional", "above 1e+10 USD", "wrong unit",
                                             "fix or delete the row"]),
    "latin-1 in side": (_row(side="SELL\xe9"), 0, ["side must be BUY or SELL"]),
}


@pytest.mark.parametrize("case", sorted(LIQ_CASES))
def test_bad_liquidation_files_are_refused_with_file_row_and_fix(cli, refused, db, tmp_path,
                                                                 case):
    body, row, fragments = LIQ_CASES[case]
    path = tmp_path / f"{case.replace(' ', '_')}.csv"
    path.write_bytes((HEADER + body).encode("latin-1"))
    before = counts(db)
    res = cli(["ingest-liquidations", path, "--db", db])
    refused(res, 2, str(path), f"row {row}:", *fragments)
    assert counts(db) == before


def test_forceorder_recording_in_microseconds_is_refused(cli, refused, db, tmp_path):
    path = tmp_path / "force.csv"
    line = "BTC,SELL,LIMIT,IOC,0.004,87000,87506.5,FILLED,0.004,0.004,{ts},350.0\n"
    path.write_text(line.format(ts=TS) + line.format(ts=TS * 1000))
    before = counts(db)
    res = cli(["ingest-liquidations", path, "--db", db])
    refused(res, 2, str(path), "row 1:", "column 'trade_time_ms'", "microseconds")
    assert counts(db) == before


@pytest.mark.parametrize("data, fragments", [
    (b"time,side\x00\x00\n1,2\n", ["NUL bytes", "UTF-8"]),
    (b"\xff\xfet\x00i\x00m\x00e\x00", ["NUL bytes", "UTF-16"]),
])
def test_binary_or_utf16_liquidation_files_are_refused(cli, refused, db, tmp_path, data,
                                                       fragments):
    path = tmp_path / "binary.csv"
    path.write_bytes(data)
    before = counts(db)
    refused(cli(["ingest-liquidations", path, "--db", db]), 2, str(path), *fragments)
    assert counts(db) == before


def test_latin1_bytes_in_fields_liqmap_ignores_are_read(cli, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + _row(order_type="LIMIT\xe9")).encode("latin-1"))
    res = cli(["ingest-liquidations", path, "--db", tmp_path / "l.duckdb", "--json"])
    assert res.code == 0, res.err
    assert counts(tmp_path / "l.duckdb")[("realized", "binance", BTC)] == 1


def test_whole_ms_written_with_a_decimal_point_are_accepted(tmp_path):
    path = tmp_path / "whole.csv"
    path.write_text(HEADER + _row(f"{TS}.000"))
    assert load_liquidation_snapshot(path).ts_ms.tolist() == [TS]


_OUTSIDE = st.one_of(st.integers(-(2**53), LO_MS - 1), st.integers(HI_MS + 1, 2**62))


@settings(max_examples=40, deadline=None)
@given(ts=_OUTSIDE, row=st.integers(0, 3))
def test_any_time_outside_the_ms_range_is_refused_before_the_transaction(ts, row):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "liq.csv"
        rows = [_row(TS + i) for i in range(4)]
        rows[row] = _row(ts)
        path.write_text(HEADER + "".join(rows))
        with pytest.raises(DataError) as exc:
            load_liquidation_snapshot(path)
        assert exc.value.row == row and str(path) in str(exc.value)
        if ts > HI_MS:  # the store refuses what no loader checked, before its transaction
            st_ = DuckDBStore()
            liq = RealizedLiquidations(ts_ms=np.array([TS, ts]), side=np.array([1, -1]),
                                       price=np.ones(2), qty_coin=np.ones(2),
                                       notional_usd=np.ones(2))
            with pytest.raises(InputError, match="row 1: ts_ms .* is out of range"):
                st_.write_realized(liq)
            assert st_.series() == []


def test_show_store_prints_a_store_with_rows_an_older_liqmap_let_in(cli, db):
    con = duckdb.connect(str(db))  # rows the checks above now refuse
    con.execute("INSERT INTO realized VALUES (?, ?, ?, 1, 87000, 0.1, 8700), "
                "(?, ?, ?, 1, 87000, 0.1, 8700), ('Binance', 'BTCUSDT', ?, 1, 87000, 1e15, 1e20)",
                ["binance", BTC, TS * 1000, "binance", BTC, TS // 1000, TS])
    con.close()
    res = cli(["show-store", "--db", db])
    assert res.code == 0 and "Traceback" not in res.err, res.err
    assert "(not Unix ms)" in res.out
    assert "ts_ms outside 2000..2100" in res.out and str(TS * 1000) in res.out
    assert "notional_usd above 1e+10 USD" in res.out
    assert "canonical binance BTC/USDT:USDT" in res.out and "DELETE FROM realized" in res.out
    js = cli(["show-store", "--db", db, "--json"])
    assert js.code == 0
    suspect = json.loads(js.out)["suspect"]
    assert {(s["table"], s["venue"], s["rows"]) for s in suspect} >= {
        ("realized", "binance", 2), ("realized", "Binance", 1)}


# -- 3. store files of the wrong kind ---------------------------------------------------

def _holder(path: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from liqmap.store import DuckDBStore; "
         f"s = DuckDBStore({str(path)!r}); print('open', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "open", proc.stderr.read()
    return proc


@pytest.mark.parametrize("command", ["ingest-liquidations", "show-store", "import-parquet"])
def test_a_lock_held_by_another_process_is_retry_later(cli, refused, db, tmp_path, command):
    before = counts(db)
    args = {"ingest-liquidations": [SNAP], "show-store": [],
            "import-parquet": [_export(cli, db, tmp_path)]}[command]
    holder = _holder(db)
    try:
        res = cli([command, *args, "--db", db])
    finally:
        holder.communicate(input="", timeout=30)
    refused(res, 3, str(db), "in use by another process", "retry when it is done")
    assert counts(db) == before


def _damaged(kind: str, template: Path, path: Path) -> None:
    data = template.read_bytes()
    if kind == "random bytes":
        path.write_bytes(np.random.default_rng(0).bytes(100_000))
    elif kind == "text":
        path.write_bytes(b"this is not a database\n" * 500)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "truncated header":
        path.write_bytes(data[:5000])
    else:  # a damaged block: DuckDB's message says "block", which once read as "lock"
        buf = bytearray(data)
        buf[8192:16384] = np.random.default_rng(1).bytes(8192)
        path.write_bytes(bytes(buf))


@pytest.mark.parametrize("kind", ["random bytes", "text", "empty", "truncated",
                                  "truncated header", "damaged block"])
@pytest.mark.parametrize("command", ["ingest-liquidations", "show-store"])
def test_a_damaged_store_is_fix_your_input_and_left_alone(cli, refused, template, tmp_path,
                                                          kind, command):
    path = tmp_path / "bad.duckdb"
    _damaged(kind, template, path)
    data = path.read_bytes()
    res = cli([command, *([SNAP] if command != "show-store" else []), "--db", path])
    refused(res, 2, str(path), "damaged or not a DuckDB file", "restore it from a backup")
    assert "in use" not in res.err and "retry" not in res.err
    assert path.read_bytes() == data


@pytest.mark.parametrize("command", ["ingest-liquidations", "show-store", "import-parquet"])
def test_a_directory_as_db_is_fix_your_input(cli, refused, tmp_path, command):
    folder = tmp_path / "dir.duckdb"
    folder.mkdir()
    args = {"ingest-liquidations": [SNAP], "show-store": [],
            "import-parquet": [_export(cli, None, tmp_path)]}[command]
    res = cli([command, *args, "--db", folder])
    refused(res, 2, str(folder), "is a directory", "give a file path such as")
    assert list(folder.iterdir()) == []


def _no_dac_override() -> list[str] | None:
    """A command prefix under which chmod 0o444 stops this user's writes, or None.

    Root ignores file modes (CAP_DAC_OVERRIDE); ``setpriv`` drops that capability for the
    child. A non-root user needs no prefix.
    """
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        return None
    with tempfile.NamedTemporaryFile(delete=False) as probe:
        pass  # only its name is needed: created empty, closed, unlinked below
    os.chmod(probe.name, 0o444)
    try:
        res = subprocess.run(["setpriv", "--bounding-set=-dac_override,-dac_read_search",
                              sys.executable, "-c", f"open({probe.name!r}, 'a')"],
                             capture_output=True, timeout=60)
        return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] \
            if res.returncode != 0 else None
    finally:
        os.unlink(probe.name)


def test_a_read_only_store_file_is_fix_your_input_not_retry(refused, db):
    prefix = _no_dac_override()
    if prefix is None:
        pytest.skip("running as root without setpriv: chmod does not stop root's writes "
                    "(the classification is tested on DuckDB's own message below)")
    before = counts(db)
    os.chmod(db, 0o444)
    try:
        run = [*prefix, sys.executable, "-c", "from liqmap.cli import main; main()"]
        proc = subprocess.run([*run, "ingest-liquidations", str(SNAP), "--db", str(db)],
                              capture_output=True, text=True, timeout=120)
        shown = subprocess.run([*run, "show-store", "--db", str(db), "--json"],
                               capture_output=True, text=True, timeout=120)
    finally:
        os.chmod(db, 0o644)
    refused(CliResult(proc.returncode, proc.stdout, proc.stderr), 2, str(db),
            "permission denied", "make the file and its folder writable")
    assert shown.returncode == 0, shown.stderr  # reading a read-only store still works
    assert counts(db) == before


@pytest.mark.parametrize("text, kind, fragment", [
    ('IO Error: Could not set lock on file "x.duckdb": Conflicting lock is held in '
     "/usr/bin/python3.11 (PID 11216). See also https://duckdb.org/docs/current/connect/"
     "concurrency", RetryLaterError, "in use by another process"),
    ('IO Error: Cannot open file "x.duckdb": Permission denied', InputError,
     "permission denied"),
    ('IO Error: Cannot open file "x.duckdb": Operation not permitted', InputError,
     "permission denied"),
    ('IO Error: Cannot open file "x.duckdb": Read-only file system', InputError,
     "permission denied"),
    ('IO Error: Could not read from file "x.duckdb": Is a directory', InputError,
     "is a directory"),
    ('IO Error: The file "x.duckdb" exists, but it is not a valid DuckDB database file!',
     InputError, "damaged or not a DuckDB file"),
    ('IO Error: Could not read enough bytes from file "x.duckdb": attempted to read 3192 '
     "bytes from location 5000", InputError, "damaged or not a DuckDB file"),
    ("Corrupt database file: computed checksum 6295344264638844850 does not match stored "
     "checksum 14952316655279918852 in block at location 8192", InputError,
     "damaged or not a DuckDB file"),
    ('IO Error: Could not write file "x.duckdb": No space left on device', RetryLaterError,
     "check the disk and retry"),
])
def test_store_errors_are_classified_by_duckdbs_own_words(text, kind, fragment):
    exc = duckdb.Error(text) if text.startswith("Corrupt") else duckdb.IOException(text)
    got = classify_store_error("x.duckdb", exc)
    assert type(got) is kind and fragment in str(got) and "x.duckdb" in str(got)


# -- 4. Parquet import ------------------------------------------------------------------

def _export(cli, db: Path | None, tmp_path: Path) -> Path:
    """An export-parquet folder of the template data (``db`` or a fresh small store)."""
    out = tmp_path / "export"
    if db is None:
        db = tmp_path / "src.duckdb"
        with DuckDBStore(db) as st_:
            st_.write_realized(load_liquidation_snapshot(SNAP))
    res = cli(["export-parquet", "--db", db, "--out", out, "--json"])
    assert res.code == 0, res.err
    return out


def _one_file(folder: Path, table: str) -> Path:
    return sorted((folder / table).rglob("*.parquet"))[0]


def _spoil(kind: str, folder: Path) -> tuple[Path, list[str]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = _one_file(folder, "realized")
    if kind == "random bytes":
        path.write_bytes(np.random.default_rng(2).bytes(3000))
        return path, ["not a readable Parquet file"]
    if kind == "truncated":
        path.write_bytes(path.read_bytes()[:100])
        return path, ["not a readable Parquet file"]
    if kind == "stray file":
        stray = folder / "bars" / "notes.txt"
        stray.parent.mkdir(exist_ok=True)
        stray.write_text("hello")
        return stray, ["not a readable Parquet file", "remove the file"]
    table = pq.read_table(path)
    if kind == "missing column":
        pq.write_table(table.drop_columns(["price"]), path)
        return path, ["missing column(s) ['price']"]
    if kind == "microseconds":
        ts = table["ts_ms"].to_numpy().copy()
        ts[1] *= 1000
        pq.write_table(table.set_column(0, "ts_ms", pa.array(ts)), path)
        return path, ["row 1:", "microseconds"]
    if kind == "text prices":
        i = table.column_names.index("price")
        pq.write_table(table.set_column(i, "price", pa.array(["x"] * len(table))), path)
        return path, ["column 'price' cannot be read as double"]
    assert kind == "huge notional"
    i = table.column_names.index("notional_usd")
    pq.write_table(table.set_column(i, "notional_usd", pa.array([1e20] * len(table))), path)
    return folder / "realized", ["notional_usd", "wrong unit"]


SPOILS = ["random bytes", "truncated", "stray file", "missing column", "microseconds",
          "text prices", "huge notional"]


@pytest.mark.parametrize("kind", SPOILS)
def test_a_bad_parquet_import_creates_no_store(cli, refused, tmp_path, kind):
    folder = _export(cli, None, tmp_path)
    where, fragments = _spoil(kind, folder)
    target = tmp_path / "new.duckdb"
    res = cli(["import-parquet", folder, "--db", target])
    refused(res, 2, str(where), *fragments)
    assert not target.exists() and not Path(f"{target}.wal").exists()


@pytest.mark.parametrize("kind", SPOILS)
def test_a_bad_parquet_import_leaves_an_existing_store_unchanged(cli, refused, db, tmp_path,
                                                                 kind):
    folder = _export(cli, None, tmp_path)
    _spoil(kind, folder)
    before, data = counts(db), db.read_bytes()
    res = cli(["import-parquet", folder, "--db", db])
    refused(res, 2, "fix")
    assert counts(db) == before and db.read_bytes() == data
