"""export-parquet is whole or absent: staged in a hidden folder, moved in file by file.

Tests run as root here, where ``chmod`` does not stop writes, so a full disk and a
read-only file system are simulated by raising the ``OSError`` the kernel would, from the
Parquet writer (after a part of the files) or from ``os.replace`` (after the first file).
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

import pyarrow.dataset as ds
import pytest

import liqmap.store._parquet as pq_mod
from liqmap import InputError
from liqmap.store import DuckDBStore, export_parquet, import_parquet

ETH = "ETH/USDT:USDT"


def _store(make_bars, make_snapshot, seed: int, n: int = 600) -> DuckDBStore:
    st = DuckDBStore()
    st.write_bars(make_bars(n, seed=seed))                           # ~2 days of 5m bars
    st.write_bars(make_bars(60, seed=seed + 1, venue="bybit", symbol=ETH, bar_ms=3_600_000))
    bars = st.read_bars("binance", "BTC/USDT:USDT")
    st.write_snapshot(make_snapshot(int(bars.ts_ms[10]), seed=seed))
    st.record_run("backtest", {"seed": seed}, {"n": n}, ts_ms=int(bars.ts_ms[0]))
    return st


@pytest.fixture
def old(make_bars, make_snapshot):
    return _store(make_bars, make_snapshot, seed=1)


@pytest.fixture
def new(make_bars, make_snapshot):
    """Other values on the same days, and one more day of bars."""
    return _store(make_bars, make_snapshot, seed=7, n=900)


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes); folders as ``None``."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


def _temporaries(*folders: Path) -> list[str]:
    return sorted(p.name for f in folders for p in f.rglob("*") if ".tmp-" in p.name)


def _fail_on_call(monkeypatch, module, name: str, call: int, exc: OSError,
                  before=None, every_later: bool = False) -> None:
    """``module.name`` raises ``exc`` on call number ``call`` (and later ones with
    ``every_later``); ``before(args)`` runs first on the failing call (half a write)."""
    real, calls = getattr(module, name), []

    def wrapped(*args, **kwargs):
        calls.append(args)
        if len(calls) == call or (every_later and len(calls) > call):
            if before is not None:
                before(*args, **kwargs)
            raise exc
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapped)


def test_rename_failing_after_the_first_file_leaves_the_previous_export(old, new, tmp_path,
                                                                       monkeypatch):
    out = tmp_path / "exp"
    export_parquet(old, out)
    before = _tree(out)
    _fail_on_call(monkeypatch, os, "replace", 2, OSError(errno.ENOSPC, "No space left"))
    with pytest.raises(InputError, match=r"disk full while writing .*exp.*free space"):
        export_parquet(new, out)
    monkeypatch.undo()
    assert _tree(out) == before
    assert _temporaries(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp"]


def test_writer_failing_half_way_leaves_the_previous_export(old, new, tmp_path, monkeypatch):
    out = tmp_path / "exp"
    export_parquet(old, out)
    before = _tree(out)

    def half(table, folder, **kwargs):  # a partition folder and a truncated file
        (Path(folder) / "venue=bybit").mkdir(parents=True, exist_ok=True)
        (Path(folder) / "venue=bybit" / "part-0.parquet").write_bytes(b"PAR1trunc")

    _fail_on_call(monkeypatch, pq_mod.ds, "write_dataset", 2,
                  OSError(errno.ENOSPC, "No space left on device"), before=half)
    with pytest.raises(InputError) as info:
        export_parquet(new, out)
    monkeypatch.undo()
    assert f"disk full while writing {out / 'bars'}" in str(info.value)
    assert _tree(out) == before
    assert _temporaries(tmp_path) == []


def test_rename_failing_from_the_first_file_read_only(old, new, tmp_path, monkeypatch):
    out = tmp_path / "exp"
    export_parquet(old, out)
    before = _tree(out)
    _fail_on_call(monkeypatch, os, "replace", 1, OSError(errno.EROFS, "Read-only file system"),
                  every_later=True)
    with pytest.raises(InputError, match="read-only file system; choose a writable folder"):
        export_parquet(new, out)
    monkeypatch.undo()
    assert _tree(out) == before
    assert _temporaries(tmp_path) == []


def test_when_undo_fails_too_the_previous_files_are_kept_and_named(old, new, tmp_path,
                                                                  monkeypatch):
    out = tmp_path / "exp"
    export_parquet(old, out)
    before = _tree(out)
    _fail_on_call(monkeypatch, os, "replace", 2, OSError(errno.EROFS, "Read-only file system"),
                  every_later=True)
    with pytest.raises(InputError, match="incomplete; its previous files are kept in") as info:
        export_parquet(new, out)
    monkeypatch.undo()
    kept = Path(str(info.value).rsplit("kept in ", 1)[1])
    assert kept.is_dir() and kept.parent == tmp_path
    saved = _tree(kept / ".replaced")
    changed = [k for k, v in _tree(out).items() if before.get(k) != v]
    assert changed and all(saved[k] == before[k] for k in changed)


def test_failure_into_a_new_folder_leaves_no_folder(new, tmp_path, monkeypatch):
    _fail_on_call(monkeypatch, os, "replace", 3, OSError(errno.ENOSPC, "No space left"))
    with pytest.raises(InputError, match="disk full"):
        export_parquet(new, tmp_path / "a" / "exp")
    monkeypatch.undo()
    assert list((tmp_path / "a").iterdir()) == []


def test_reexport_replaces_the_files_of_written_partitions_only(old, new, tmp_path, same):
    out = tmp_path / "exp"
    export_parquet(old, out)
    part = sorted((out / "bars").rglob("date=*"))[0]
    (part / "part-7.parquet").write_bytes((part / "part-0.parquet").read_bytes())  # stale
    (part / "notes.txt").write_text("stale")
    other = out / "bars" / "venue=okx" / "symbol=BTC-USDT-SWAP" / "date=2020-01-01"
    other.mkdir(parents=True)
    (other / "part-0.parquet").write_bytes(b"not written by this export")

    counts = export_parquet(new, out)
    assert sorted(p.name for p in part.iterdir()) == ["part-0.parquet"]
    assert (other / "part-0.parquet").read_bytes() == b"not written by this export"
    shutil.rmtree(out / "bars" / "venue=okx")
    fresh = tmp_path / "fresh"
    export_parquet(new, fresh)
    assert _tree(out) == _tree(fresh)  # every old partition rewritten, byte for byte
    assert _temporaries(tmp_path) == []
    back = DuckDBStore()
    assert import_parquet(back, out) == {t: n for t, n in counts.items() if n}
    for s in new.series():
        if s.table == "bars":
            same.bars(back.read_bars(s.venue, s.symbol), new.read_bars(s.venue, s.symbol))
    n = sum(s.rows for s in new.series() if s.table == "bars")
    assert ds.dataset(out / "bars", partitioning="hive").count_rows() == n


def test_out_that_is_a_file_is_refused(new, tmp_path):
    f = tmp_path / "afile"
    f.write_text("keep me")
    with pytest.raises(InputError, match=f"--out {f} is a file, give a folder"):
        export_parquet(new, f)
    assert f.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_a_folder_where_a_file_goes_is_refused(old, new, tmp_path):
    out = tmp_path / "exp"
    export_parquet(old, out)
    target = sorted((out / "runs").rglob("part-0.parquet"))[0]
    target.unlink()
    target.mkdir()
    before = _tree(out)
    with pytest.raises(InputError, match=f"cannot write {target}: a folder of that name"):
        export_parquet(new, out)
    assert _tree(out) == before
    assert _temporaries(tmp_path) == []


def test_a_file_where_a_folder_goes_is_refused(new, tmp_path):
    out = tmp_path / "exp"
    out.mkdir()
    (out / "bars").write_text("in the way")
    with pytest.raises(InputError, match="a file is in the way where a folder is needed"):
        export_parquet(new, out)
    assert _tree(out) == {"bars": b"in the way"}
    assert _temporaries(tmp_path) == []


def test_staging_falls_back_inside_out_when_the_parent_cannot_be_written(old, tmp_path,
                                                                        monkeypatch):
    out = tmp_path / "exp"
    out.mkdir()
    real, dirs = tempfile.mkdtemp, []

    def mkdtemp(prefix=None, dir=None, **kwargs):
        dirs.append(Path(dir))
        if Path(dir) == tmp_path:
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(prefix=prefix, dir=dir, **kwargs)

    monkeypatch.setattr(pq_mod.tempfile, "mkdtemp", mkdtemp)
    export_parquet(old, out)
    assert dirs == [tmp_path, out.resolve()]
    assert _temporaries(tmp_path) == []
    assert {p.name for p in out.iterdir()} == {"bars", "snapshots", "runs"}
