"""Hostile outputs: ``--out`` that cannot be written, planted symlinks, full or closed stdout.

Every output file goes through ``liqmap.outputs`` (temporary file in the same folder, then
``os.replace``). Tests run as root here, where ``chmod`` does not stop writes, so a read-only
mount and a full disk are simulated by raising the ``OSError`` the kernel would
(``EROFS`` from the rename, ``ENOSPC`` from the chart writer after half a file); the
permission case runs for real only when ``os.access`` says the folder is not writable.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

import liqmap.outputs

MAP = ["map", "--lookback", "24h"]


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if ".tmp-" in p.name)


@pytest.mark.parametrize("argv", [MAP, ["heatmap", "--lookback", "24h"]], ids=["map", "heatmap"])
def test_out_that_is_an_existing_file_is_refused(cli, refused, tmp_path, argv):
    f = tmp_path / "afile.txt"
    f.write_text("keep me")
    res = cli([*argv, "--out", f])
    refused(res, 2, f"--out {f} is a file, give a folder")
    assert f.read_text() == "keep me"


def test_out_below_a_file_is_refused(cli, refused, tmp_path):
    f = tmp_path / "afile.txt"
    f.write_text("keep me")
    res = cli([*MAP, "--out", f / "sub"])
    refused(res, 2, str(f / "sub"), "give a folder")
    assert f.read_text() == "keep me"


def test_read_only_mount_is_refused_and_the_old_file_kept(cli, refused, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "liqmap_map.png").write_bytes(b"old png")

    def read_only(*_a, **_k):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(liqmap.outputs.os, "replace", read_only)
    res = cli([*MAP, "--out", out])
    refused(res, 2, "cannot write to", str(out / "liqmap_map.png"), "read-only file system",
            "writable folder")
    assert (out / "liqmap_map.png").read_bytes() == b"old png"
    assert _temporaries(out) == []
    assert sorted(p.name for p in out.iterdir()) == ["liqmap_map.png"]


def test_folder_without_write_permission_for_real(cli, refused, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    try:
        if os.access(out, os.W_OK):
            pytest.skip("running as root: chmod does not stop writes (EROFS/EACCES simulated "
                        "in test_read_only_mount_is_refused_and_the_old_file_kept)")
        res = cli([*MAP, "--out", out])
        refused(res, 2, str(out), "permission denied")
        assert list(out.iterdir()) == []
    finally:
        out.chmod(0o755)


def _half_then_enospc(write_half):
    def writer(self, path, *args, **kwargs):
        write_half(Path(path))
        raise OSError(errno.ENOSPC, "No space left on device")
    return writer


@pytest.mark.parametrize("writer", ["html", "png"])
def test_full_disk_leaves_no_partial_file_and_the_old_one_intact(cli, refused, tmp_path,
                                                                 monkeypatch, writer):
    out = tmp_path / "out"
    out.mkdir()
    name = f"liqmap_map.{writer}"
    (out / name).write_bytes(b"old complete file")
    if writer == "html":
        from liqmap.plots import _html

        half = _half_then_enospc(lambda p: p.write_text("<html><body>trunc"))
        monkeypatch.setattr(_html, "_write_text", lambda path, text: half(None, path))
    else:
        import matplotlib.figure

        monkeypatch.setattr(matplotlib.figure.Figure, "savefig",
                            _half_then_enospc(lambda p: p.write_bytes(b"\x89PNG\r\n")))
    res = cli([*MAP, "--out", out])
    refused(res, 2, f"disk full while writing {out / name}", "free space and rerun")
    assert (out / name).read_bytes() == b"old complete file"
    assert _temporaries(out) == []


def test_planted_symlink_at_the_output_is_not_followed(cli, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "liqmap_map.html").symlink_to(victim)
    res = cli([*MAP, "--out", out])
    assert res.code == 0, res.err
    assert victim.read_text() == "precious"
    html = out / "liqmap_map.html"
    assert not html.is_symlink() and html.is_file()
    assert html.read_text(encoding="utf-8").rstrip().endswith("</html>")
    assert _temporaries(out) == []


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_json_to_a_full_stdout(cli_subprocess):
    with open("/dev/full", "w") as full:
        res = cli_subprocess([*MAP, "--no-plots", "--json"], stdout=full)
    assert "Traceback" not in res.err and "Exception ignored" not in res.err, res.err
    assert res.code == 2, res.err
    assert "stdout: no space left on device" in res.err


def test_json_to_a_closed_pipe_ends_quietly(cli_subprocess):
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before liqmap writes a byte
    try:
        res = cli_subprocess([*MAP, "--no-plots", "--json"], stdout=write_end)
    finally:
        os.close(write_end)
    assert res.err.strip() == "", res.err
    assert res.code == 1


@pytest.mark.parametrize("argv", [[*MAP, "--no-plots", "--json"], [*MAP, "--no-plots"]],
                         ids=["json", "table"])
def test_piped_into_head_prints_no_traceback(argv):
    cmd = (f"{sys.executable} -c 'from liqmap.cli import main; main()' "
           + " ".join(argv) + " | head -c 10")
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr, \
        proc.stderr
    assert len(proc.stdout) == 10


class _Stdout:
    """A stdout whose every flush fails with ``exc`` (no real file descriptor)."""

    def __init__(self, exc: OSError):
        self.exc, self.text = exc, []

    def write(self, s):
        self.text.append(s)
        return len(s)

    def flush(self):
        raise self.exc


@pytest.mark.parametrize("exc, code, message", [
    (BrokenPipeError(errno.EPIPE, "Broken pipe"), 1, ""),
    (OSError(errno.ENOSPC, "No space left on device"), 2, "stdout: no space left on device"),
])
def test_main_handles_a_failing_stdout_in_process(monkeypatch, capsys, exc, code, message):
    from liqmap.cli import main

    monkeypatch.setattr(sys, "stdout", _Stdout(exc))
    with pytest.raises(SystemExit) as info:
        main(["show-config", "--json"])
    assert info.value.code == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert message in err if message else err == ""


# -- export-parquet: staged in a hidden folder, moved in file by file ---------------------

@pytest.fixture
def parquet_db(tmp_path) -> Path:
    """A small store (bars over a few days and a run) for export-parquet."""
    from liqmap.io import load_sample
    from liqmap.store import DuckDBStore

    path = tmp_path / "store.duckdb"
    with DuckDBStore(path) as st_:
        st_.write_bars(load_sample().take(slice(0, 900)))
        st_.record_run("backtest", {"window": "A"}, {"spearman": 0.3})
    return path


def _tree(folder: Path) -> dict[str, bytes | None]:
    return {p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


def test_export_parquet_out_that_is_a_file_is_refused(cli, refused, tmp_path, parquet_db):
    f = tmp_path / "afile.parquet"
    f.write_text("keep me")
    res = cli(["export-parquet", "--db", parquet_db, "--out", f])
    refused(res, 2, f"--out {f} is a file, give a folder")
    assert f.read_text() == "keep me"


def test_export_parquet_full_disk_keeps_the_previous_export(cli, refused, tmp_path,
                                                           monkeypatch, parquet_db):
    import pyarrow.dataset

    out = tmp_path / "export"
    assert cli(["export-parquet", "--db", parquet_db, "--out", out]).code == 0
    before = _tree(out)
    real = pyarrow.dataset.write_dataset

    def half_then_enospc(table, folder, **kwargs):  # a truncated file, then the full disk
        real(table.slice(0, 1), folder, **kwargs)
        for part in Path(folder).rglob("*.parquet"):
            part.write_bytes(part.read_bytes()[:20])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pyarrow.dataset, "write_dataset", half_then_enospc)
    res = cli(["export-parquet", "--db", parquet_db, "--out", out])
    refused(res, 2, f"disk full while writing {out / 'bars'}", "free space and rerun")
    assert _tree(out) == before
    assert _temporaries(tmp_path) == []


def test_export_parquet_read_only_rename_keeps_the_previous_export(cli, refused, tmp_path,
                                                                  monkeypatch, parquet_db):
    out = tmp_path / "export"
    assert cli(["export-parquet", "--db", parquet_db, "--out", out]).code == 0
    before = _tree(out)
    real, calls = os.replace, []

    def read_only_after_the_first(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise OSError(errno.EROFS, "Read-only file system")
        return real(*args, **kwargs)

    monkeypatch.setattr(os, "replace", read_only_after_the_first)
    res = cli(["export-parquet", "--db", parquet_db, "--out", out])
    refused(res, 2, "cannot write to", str(out), "read-only file system", "writable folder")
    assert _tree(out) == before
    assert _temporaries(tmp_path) == []
