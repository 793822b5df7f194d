"""Output files that are whole or absent: the one home of every file liqmap writes.

Every output (charts, reports, CSV, JSON, presets, downloads) is written to a temporary
file in the target's own folder (``.<name>.tmp-XXXXXXXX<ext>``, the real extension kept so
that matplotlib and pandas pick the format from it), flushed to disk (``fsync``) and renamed
over the target with :func:`os.replace`, which is atomic on POSIX and Windows:

- an interrupted or failed run leaves the old file (or none), never half of one, and the
  temporary file is removed;
- a symlink planted at the target path is replaced by a regular file, its target untouched
  (``rename`` does not follow a link at the destination);
- an ``OSError`` while writing (read-only file system, permission, full disk, a file where a
  folder should be) becomes :class:`~liqmap.InputError` naming the path and what to do.

This module imports only the standard library and ``liqmap._exceptions``, so every layer
may use it.

Examples
--------
>>> with atomic_path("out/map.png") as tmp:          # doctest: +SKIP
...     fig.savefig(tmp)
>>> atomic_write_text("out/summary.json", "{}")      # doctest: +SKIP
PosixPath('out/summary.json')
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from liqmap._exceptions import InputError

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "ensure_out_dir",
           "output_error"]

# errno values that mean "this output cannot be written here" (not a read problem)
_WRITE_ERRNOS = frozenset(
    getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EFBIG", "EROFS", "EACCES", "EPERM",
                                      "ENOTDIR", "EISDIR", "EEXIST", "ENAMETOOLONG")
    if hasattr(errno, name))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()  # what a plain open(path, "w") would give; read once


def output_error(path: str | os.PathLike, exc: OSError) -> InputError:
    """The :class:`InputError` for an ``OSError`` raised while writing ``path``.

    Examples
    --------
    >>> output_error("out/x.html", OSError(errno.ENOSPC, "No space left on device"))
    InputError('disk full while writing out/x.html; free space and rerun')
    """
    code = exc.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return InputError(f"disk full while writing {path}; free space and rerun")
    if code == errno.EFBIG:
        return InputError(f"{path} is larger than the file system allows; write it to "
                          "another disk (--out)")
    if code == errno.EROFS:
        return InputError(f"cannot write to {path}: read-only file system; choose a "
                          "writable folder (--out)")
    if code in (errno.EACCES, errno.EPERM):
        return InputError(f"cannot write to {path}: permission denied; choose a folder you "
                          "can write to (--out) or fix its permissions")
    if code in (errno.ENOTDIR, errno.EEXIST):
        return InputError(f"cannot write to {path}: a file is in the way where a folder is "
                          "needed; give a folder (--out)")
    if code == errno.EISDIR:
        return InputError(f"cannot write {path}: a folder of that name is in the way; remove "
                          "it or choose another folder (--out)")
    if code == errno.ENAMETOOLONG:
        return InputError(f"cannot write {path}: the name is too long for the file system; "
                          "choose a shorter path")
    reason = exc.strerror or str(exc)
    return InputError(f"cannot write {path}: {reason}; check the folder and rerun")


def ensure_out_dir(path: str | os.PathLike, *, what: str = "--out") -> Path:
    """Create the output folder ``path`` (and its parents); refuse a file in its place.

    Parameters
    ----------
    path : str or PathLike
        The folder.
    what : str, default "--out"
        How the message names it (the option it came from).

    Raises
    ------
    InputError
        ``path`` is a file, or the folder cannot be created (read-only, permission).

    Examples
    --------
    >>> ensure_out_dir("out")  # doctest: +SKIP
    PosixPath('out')
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{what} {path} is a file, give a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a dangling symlink, or a file created meanwhile
        raise InputError(f"{what} {path} exists and is not a folder, give a folder") from None
    except OSError as exc:
        raise output_error(path, exc) from None
    return path


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, *, tmp_suffix: str | None = None
                ) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; on success it replaces ``target``.

    Write the whole content to the yielded path with any writer (``open``, pandas,
    ``fig.savefig``, ``fig.write_html``). If the block raises, the temporary file is
    deleted and ``target`` is left as it was.

    Parameters
    ----------
    target : str or PathLike
        The file to write; its folder is created.
    tmp_suffix : str, optional
        Ending of the temporary name (default: ``target``'s extension).

    Raises
    ------
    InputError
        The folder or file cannot be written (read-only, permission, full disk, a file
        where a folder should be, a folder where the file should be).

    Examples
    --------
    >>> with atomic_path("out/bars.parquet") as tmp:  # doctest: +SKIP
    ...     frame.to_parquet(tmp)
    """
    target = Path(target)
    folder = ensure_out_dir(target.parent, what="output folder")
    suffix = target.suffix if tmp_suffix is None else tmp_suffix
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.tmp-", suffix=suffix, dir=folder)
        os.close(fd)
    except OSError as exc:
        raise output_error(target, exc) from None
    tmp = Path(name)
    try:
        try:
            os.chmod(tmp, _FILE_MODE)
            yield tmp
        except OSError as exc:
            if exc.errno in _WRITE_ERRNOS:
                raise output_error(target, exc) from None
            raise
        _commit(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _commit(tmp: Path, target: Path) -> None:
    try:
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        raise output_error(target, exc) from None
    _fsync_dir(target.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(target: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically; return the path.

    Examples
    --------
    >>> atomic_write_bytes("out/x.bin", b"abc")  # doctest: +SKIP
    PosixPath('out/x.bin')
    """
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def atomic_write_text(target: str | os.PathLike, text: str, *, encoding: str = "utf-8"
                      ) -> Path:
    """Write ``text`` to ``target`` atomically (UTF-8 by default); return the path.

    Examples
    --------
    >>> atomic_write_text("out/summary.json", "{}")  # doctest: +SKIP
    PosixPath('out/summary.json')
    """
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(target)
