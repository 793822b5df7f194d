"""Files that are whole or absent: atomic writes and the download manifest.

Every file the downloaders keep is written through :mod:`liqmap.outputs` (the one home of
atomic output): a temporary file in the same folder, flushed to disk (``fsync``) and
renamed over the target with :func:`os.replace`. An interrupted run leaves either the old
file or the new one, never half of one; stray temporaries (``.<name>.tmp-*.part``) are
removed on failure.

The manifest (``manifest.json`` in the output folder) records, per kept file, its
sha256 and size. A re-run skips a file whose bytes on disk still hash to the recorded
value, without asking the network.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from liqmap import outputs
from liqmap._exceptions import DataError

__all__ = ["Manifest", "atomic_path", "atomic_write_bytes", "sha256_file"]


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """:func:`liqmap.outputs.atomic_path` with downloads' ``.part`` temporary names.

    Examples
    --------
    >>> with atomic_path("out/bars.parquet") as tmp:  # doctest: +SKIP
    ...     frame.to_parquet(tmp)
    """
    with outputs.atomic_path(target, tmp_suffix=".part") as tmp:
        yield tmp


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


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Manifest:
    """sha256 and size of every kept file, by path relative to ``root``; saved atomically.

    Examples
    --------
    >>> m = Manifest("data")  # doctest: +SKIP
    >>> m.is_complete("data/futures/um/daily/klines/BTCUSDT/5m/BTCUSDT-5m-2025-12-01.zip")  # doctest: +SKIP
    False
    """

    NAME = "manifest.json"

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.path = self.root / self.NAME
        self._lock = threading.Lock()
        self.entries: dict[str, dict] = self._load()

    def _load(self) -> dict[str, dict]:
        if not self.path.is_file():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataError(f"the download manifest is unreadable ({exc}); delete it to "
                            "re-verify every file (files already there are re-downloaded)",
                            source=str(self.path)) from exc
        files = data.get("files") if isinstance(data, dict) else None
        if not isinstance(files, dict):
            raise DataError("the download manifest has no 'files' table; delete it",
                            source=str(self.path))
        return files

    def key(self, path: str | os.PathLike) -> str:
        """The manifest key of ``path`` (POSIX path relative to the root)."""
        return Path(path).resolve().relative_to(self.root.resolve()).as_posix()

    def is_complete(self, path: str | os.PathLike) -> bool:
        """True when ``path`` exists and hashes to its recorded sha256."""
        entry = self.entries.get(self.key(path))
        p = Path(path)
        if not entry or not p.is_file() or p.stat().st_size != entry.get("bytes"):
            return False
        return sha256_file(p) == entry.get("sha256")

    def record(self, path: str | os.PathLike, sha256: str, extra: dict | None = None) -> None:
        """Record a kept file and save the manifest (atomically)."""
        entry = {"sha256": sha256, "bytes": Path(path).stat().st_size, **(extra or {})}
        with self._lock:
            self.entries[self.key(path)] = entry
            body = json.dumps({"files": self.entries}, indent=1, sort_keys=True)
            atomic_write_bytes(self.path, body.encode("utf-8"))
