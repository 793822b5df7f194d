"""Small helpers shared by the loaders and validation modules: reading a CSV with every
failure turned into a :class:`~liqmap.DataError`, error location and value display."""

from __future__ import annotations

import lzma
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from liqmap._exceptions import DataError

__all__: list[str] = []

_COMPRESSED = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz", ".zip": "zip"}
_DECOMPRESS_ERRORS = (EOFError, zlib.error, zipfile.BadZipFile, lzma.LZMAError)


def _read_error(path: Path, exc: BaseException) -> DataError:
    """What a failed ``pandas.read_csv`` of ``path`` means for the user."""
    kind = _COMPRESSED.get(path.suffix.lower())
    if isinstance(exc, pd.errors.EmptyDataError):
        return DataError("file is empty; download or export it again", source=str(path))
    if isinstance(exc, UnicodeDecodeError):
        byte = exc.object[exc.start:exc.start + 1]
        return DataError(f"is not UTF-8 text (byte {exc.start} is {byte!r}): a binary file, or "
                         "text in another encoding; give a CSV saved as UTF-8", source=str(path))
    if kind and isinstance(exc, (*_DECOMPRESS_ERRORS, OSError)) and not isinstance(
            exc, (FileNotFoundError, PermissionError, IsADirectoryError)):
        return DataError(f"file is truncated or not {kind} ({exc}); download it again",
                         source=str(path))
    if isinstance(exc, pd.errors.ParserError):
        return DataError(f"cannot be parsed as CSV ({str(exc).strip()}); check that it is a "
                         "comma-separated file with one header line", source=str(path))
    return DataError(f"cannot be read ({exc}); check the path, its permissions and that it "
                     "is a valid file of its kind", source=str(path))


def _looks_binary(path: Path) -> bool:
    """A NUL byte in the first 8 KiB: no CSV text has one."""
    try:
        with path.open("rb") as fh:
            return b"\x00" in fh.read(8192)
    except OSError:
        return False  # read_csv reports it


def read_csv_file(path: str | Path, **kwargs) -> pd.DataFrame:
    """``pandas.read_csv`` (compression from the suffix), failures as ``DataError``.

    A truncated or corrupt ``.gz`` (``EOFError``, which the command line would otherwise
    print as a bare "Aborted."), a binary or non-UTF-8 file, an empty file or a CSV that
    does not parse each get a message naming the file and what to do.
    """
    p = Path(path)
    if p.suffix.lower() not in _COMPRESSED and _looks_binary(p):
        raise DataError("is a binary file, not CSV text; give the CSV itself (UTF-8, one "
                        "header line)", source=str(p))
    try:
        return pd.read_csv(p, **kwargs)
    except (*_DECOMPRESS_ERRORS, ValueError, OSError) as exc:
        raise _read_error(p, exc) from exc


def _show(value: object) -> str:
    """A value for a message: strings quoted, numbers plain (``nan``, ``0.0``)."""
    return repr(value) if isinstance(value, str) else str(value)


def _where(frame: pd.DataFrame, pos: int, source: str) -> dict:
    """``source=`` and ``row=`` for the error at positional row ``pos``."""
    src = str(frame["_file"].iat[pos]) if "_file" in frame else source
    return {"source": src, "row": int(frame["_row"].iat[pos])}


def _first(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def _bar_ms(ts: np.ndarray) -> int:
    steps = np.diff(ts)
    steps = steps[steps > 0]
    return int(np.median(steps)) if steps.size else 0
