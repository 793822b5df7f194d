"""liqmap.outputs: every output file is whole or absent, and write failures say what to do."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from liqmap import outputs
from liqmap._exceptions import InputError
from liqmap.outputs import atomic_path, atomic_write_bytes, atomic_write_text, ensure_out_dir


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name)


def test_write_text_and_bytes_create_the_folder_and_leave_no_temporary(tmp_path):
    p = atomic_write_text(tmp_path / "a" / "b" / "x.json", "{}")
    assert p.read_text() == "{}"
    q = atomic_write_bytes(tmp_path / "a" / "y.bin", b"\x00\x01")
    assert q.read_bytes() == b"\x00\x01"
    assert _leftovers(p.parent) == [] and _leftovers(q.parent) == []


def test_file_mode_follows_the_umask_not_mkstemp(tmp_path):
    p = atomic_write_text(tmp_path / "x.html", "<html>")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask


def test_temporary_name_is_hidden_in_the_same_folder_and_keeps_the_extension(tmp_path):
    with atomic_path(tmp_path / "map.png") as tmp:
        assert tmp.parent == tmp_path
        assert tmp.name.startswith(".map.png.tmp-") and tmp.suffix == ".png"
        tmp.write_bytes(b"png")
    assert (tmp_path / "map.png").read_bytes() == b"png"


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("writer crashed")
    assert target.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_full_disk_while_writing_is_an_input_error_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("old")
    with (pytest.raises(InputError, match="disk full while writing .*report.html; free space"),
          atomic_path(target) as tmp):
        tmp.write_text("trunc")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert target.read_text() == "old"
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("code, fragment", [
    (errno.EROFS, "read-only file system"),
    (errno.EACCES, "permission denied"),
    (errno.ENOSPC, "disk full"),
    (errno.EISDIR, "a folder of that name is in the way"),
])
def test_os_errors_from_the_rename_become_input_errors(tmp_path, monkeypatch, code, fragment):
    target = tmp_path / "x.csv"
    target.write_text("old")

    def fail(*_a, **_k):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(outputs.os, "replace", fail)
    with pytest.raises(InputError, match=fragment) as info:
        atomic_write_text(target, "new")
    assert str(target) in str(info.value)
    assert target.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_a_read_error_inside_the_block_is_not_disguised(tmp_path):
    with pytest.raises(FileNotFoundError), atomic_path(tmp_path / "x.csv") as tmp:
        tmp.write_text("x")
        (tmp_path / "missing.csv").read_text()
    assert list(tmp_path.iterdir()) == []


def test_a_symlink_at_the_target_is_replaced_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "out").mkdir()
    link = tmp_path / "out" / "map.html"
    link.symlink_to(victim)
    atomic_write_text(link, "<html>")
    assert victim.read_text() == "precious"
    assert not link.is_symlink() and link.read_text() == "<html>"


def test_a_folder_at_the_target_is_refused(tmp_path):
    (tmp_path / "x.html").mkdir()
    with pytest.raises(InputError, match="folder of that name is in the way"):
        atomic_write_text(tmp_path / "x.html", "y")
    assert _leftovers(tmp_path) == []


def test_ensure_out_dir_refuses_a_file_and_a_path_through_a_file(tmp_path):
    f = tmp_path / "afile"
    f.write_text("keep")
    with pytest.raises(InputError, match=r"--out .*afile is a file, give a folder"):
        ensure_out_dir(f)
    with pytest.raises(InputError, match="a file is in the way"):
        ensure_out_dir(f / "sub")
    with pytest.raises(InputError, match="output folder .*afile is a file"):
        atomic_write_text(f / "x.json", "{}")
    assert f.read_text() == "keep"


def test_ensure_out_dir_refuses_a_dangling_symlink(tmp_path):
    (tmp_path / "out").symlink_to(tmp_path / "nowhere")
    with pytest.raises(InputError, match="is not a folder"):
        ensure_out_dir(tmp_path / "out")


def test_ensure_out_dir_accepts_an_existing_folder_and_a_link_to_one(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert ensure_out_dir(tmp_path / "real") == tmp_path / "real"
    assert ensure_out_dir(tmp_path / "link").is_dir()


def test_a_folder_that_cannot_be_written(tmp_path):
    """Real permissions when they bite (not as root); otherwise the errno path is simulated."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as root: chmod does not stop writes (simulated elsewhere)")
        with pytest.raises(InputError, match="permission denied|read-only"):
            atomic_write_text(folder / "x.json", "{}")
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


@pytest.mark.parametrize("code, fragment", [
    (errno.ENOSPC, "disk full while writing out/x; free space and rerun"),
    (errno.EROFS, "cannot write to out/x: read-only file system"),
    (errno.EACCES, "permission denied"),
    (errno.EPERM, "permission denied"),
    (errno.ENOTDIR, "give a folder"),
    (errno.EISDIR, "remove it or choose another folder"),
    (errno.ENAMETOOLONG, "too long"),
    (errno.EFBIG, "larger than the file system allows"),
    (errno.EIO, "cannot write out/x: Input/output error; check the folder and rerun"),
])
def test_output_error_messages(code, fragment):
    err = outputs.output_error("out/x", OSError(code, os.strerror(code)))
    assert isinstance(err, InputError)
    assert fragment in str(err)


def test_the_venues_names_still_work_and_keep_part_temporaries(tmp_path):
    from liqmap.venues import atomic_path as venues_atomic_path
    from liqmap.venues import atomic_write_bytes as venues_write

    with venues_atomic_path(tmp_path / "a.zip") as tmp:
        assert tmp.name.startswith(".a.zip.") and tmp.name.endswith(".part")
        tmp.write_bytes(b"z")
    assert venues_write(tmp_path / "b.zip", b"y").read_bytes() == b"y"
    assert (tmp_path / "a.zip").read_bytes() == b"z"
