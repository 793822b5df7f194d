"""How a failed DuckDB open or write becomes liqmap's error: retry later, or fix your input.

DuckDB words each cause of a failed open or write in its message (lower case, DuckDB 1.x and
2.x); the phrases below are matched, never a bare "lock" (that would match "block" in a
corruption message).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from liqmap._exceptions import InputError, LiqmapError, RetryLaterError

__all__ = ["DEFAULT_DB", "classify_store_error", "store_fault"]

DEFAULT_DB = "liqmap.duckdb"

#: How DuckDB words each cause of a failed open or write (lower case, DuckDB 1.x and 2.x).
#: Matched as phrases: a bare "lock" would also match "block" in a corruption message.
_LOCKED = ("could not set lock", "conflicting lock")
_DENIED = ("permission denied", "operation not permitted", "read-only file system")
_NOT_A_FILE = ("is a directory", "not a directory")
_DAMAGED = ("not a valid duckdb", "corrupt", "checksum", "could not read enough bytes",
            "failed to deserialize", "invalid database", "serialization error")


def store_fault(exc: BaseException) -> bool:
    """Whether ``exc`` is about the store file (I/O, damage, lock), not about a query."""
    low = str(exc).lower()
    return isinstance(exc, duckdb.IOException) or any(
        k in low for k in _LOCKED + _DENIED + _NOT_A_FILE + _DAMAGED)


def classify_store_error(path: str, exc: BaseException, *, action: str = "open") -> LiqmapError:
    """The liqmap error for a DuckDB error on the store at ``path``.

    - lock held by another process: :class:`~liqmap.RetryLaterError` (retrying helps);
    - permission denied or a read-only file system, a directory, a damaged file or one
      that is not a DuckDB database: :class:`~liqmap.InputError` (retrying never helps),
      each saying what to do;
    - any other I/O error (a full disk, a network file system): RetryLaterError.

    Examples
    --------
    >>> err = classify_store_error("x.duckdb", OSError('Could not set lock on file "x.duckdb"'))
    >>> type(err).__name__
    'RetryLaterError'
    >>> type(classify_store_error("x.duckdb", OSError("Corrupt database file: block 8"))).__name__
    'InputError'
    """
    text = str(exc)
    low = text.lower()
    if any(k in low for k in _LOCKED):
        return RetryLaterError(f"store {path} is in use by another process ({text}); close "
                               "that process or retry when it is done")
    if any(k in low for k in _DENIED):
        return InputError(f"cannot {action} store {path}: permission denied ({text}); "
                          "make the file and its folder writable (chmod u+w), give another "
                          "--db, or use a read-only command (show-store, export-parquet)")
    if any(k in low for k in _NOT_A_FILE):
        return InputError(f"cannot {action} store {path}: it is a directory, not a DuckDB file "
                          f"({text}); give a file path such as {Path(path) / DEFAULT_DB}")
    if any(k in low for k in _DAMAGED):
        return InputError(f"cannot {action} store {path}: it is damaged or not a DuckDB file "
                          f"({text}); restore it from a backup, rebuild it (ingest the source "
                          "files again, or import-parquet an export into a new --db), or give "
                          "another --db")
    if isinstance(exc, (duckdb.IOException, OSError)):
        return RetryLaterError(f"cannot {action} store {path}: {text}; check the disk and "
                               "retry")
    return InputError(f"cannot {action} store {path}: {text}; give a liqmap DuckDB file")
