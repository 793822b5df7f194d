"""The level book compiled ahead of time, so that a command does not load numba at all.

numba's cache (``@njit(cache=True)``) saves the compile, but a process that loads a cached
kernel still imports numba and its registries (about 0.7 s here, several times the kernel).
``make install`` therefore also builds :func:`liqmap.core._book_nb.run_book_nb` with
``numba.pycc`` into an extension module beside this file, ``_book_aot``: importing it costs
under a millisecond and needs only NumPy. :func:`book_kernel` hands it out when it is
present and built from the current kernel source; otherwise (not built, built from another
version of the source or against another NumPy, or the platform cannot build it) the book
runs through numba's just-in-time kernel as before, with the same results
(``tests/core/test_aot.py`` checks both against each other and the plain twin).

A stamp file beside the module, ``_book_aot.stamp``, holds the SHA-256 of the kernel source
(``_book_nb.py``; ``choices.py``, whose constants are compiled in; this file, the build
recipe), the NumPy version, the
interpreter's cache tag and the machine it was built for; any mismatch, an unreadable stamp or
a module that will not load means "not present". The code is built for a generic CPU of the
machine's architecture (numba's ``pycc`` default), so a copied package folder runs anywhere
that architecture does.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import platform
import sys
import warnings
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["MODULE", "SIGNATURE", "book_kernel", "build_book_aot", "expected_stamp"]

MODULE = "_book_aot"
"""Name of the extension module (and stem of its stamp file) in this package folder."""

SIGNATURE = (
    "Tuple((f8[:], f8[:], f8[:], f8[:], f8[:, :], f8[:, :], f8[:, :]))"
    "(f8[:], f8[:], f8[:], f8[:], f8[:, :], f8[:, :], f8[:], f8[:], f8[:], f8[:], i8[:],"
    " f8[:], f8[:], i8[:], f8, f8, i8, i8[:], i8)"
)
"""The one signature exported: the argument types ``liqmap.core.book`` passes."""

_ARG_KINDS = ("f1", "f1", "f1", "f1", "f2", "f2", "f1", "f1", "f1", "f1", "i1", "f1", "f1",
              "i1", "s", "s", "s", "i1", "s")
_HERE = Path(__file__).resolve().parent


def expected_stamp() -> str:
    """What the stamp of a current build says: kernel source hash, NumPy version, interpreter
    and machine."""
    h = hashlib.sha256()
    for name in ("_book_nb.py", "choices.py", "aot.py"):
        h.update((_HERE / name).read_bytes())
    return (f"{h.hexdigest()} numpy={np.__version__} python={sys.implementation.cache_tag} "
            f"machine={platform.machine()}\n")


def _module_file(where: Path) -> Path | None:
    """The module built for this interpreter (its own extension suffix), if any."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = where / f"{MODULE}{suffix}"
        if path.is_file():
            return path
    return None


def _stamp_ok(where: Path) -> bool:
    try:
        return (where / f"{MODULE}.stamp").read_text() == expected_stamp()
    except (OSError, UnicodeDecodeError):
        return False


@cache
def _loaded(folder: str) -> Callable[..., Any] | None:
    where = Path(folder)
    path = _module_file(where)
    if path is None or not _stamp_ok(where):
        return None
    try:
        spec = importlib.util.spec_from_file_location(MODULE, path)
        if spec is None or spec.loader is None:
            return None
        module = importlib.util.module_from_spec(spec)  # loads the shared object
        spec.loader.exec_module(module)
        fn: Callable[..., Any] = module.run_book
    except (ImportError, OSError, AttributeError):  # damaged, or built for another ABI
        return None
    return fn


def _fits(args: tuple[Any, ...]) -> bool:
    for a, kind in zip(args, _ARG_KINDS, strict=True):
        if kind == "s":
            continue
        want = np.float64 if kind[0] == "f" else np.int64
        if not isinstance(a, np.ndarray) or a.dtype != want or a.ndim != int(kind[1]):
            return False
    return True


def book_kernel(args: tuple[Any, ...], folder: Path | None = None) -> Callable[..., Any] | None:
    """The ahead-of-time kernel if it is built, current and takes ``args``' types; else None."""
    fn = _loaded(str(folder or _HERE))
    return fn if fn is not None and _fits(args) else None


def _nogil_flags(flags_type: type) -> type:
    """numba's compile flags with ``release_gil`` on, as ``@njit(nogil=True)`` sets them:
    ``pycc`` takes no such option, and the kernel touches no Python object, so its wrapper
    may release the GIL around the call. A server computing a map in one thread then keeps
    answering from its cache in the others (``benchmarks/bench_service_load.py``)."""

    class NoGilFlags(flags_type):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.release_gil = True

    return NoGilFlags


def build_book_aot(folder: Path | None = None) -> Path:
    """Compile ``run_book_nb`` ahead of time into ``folder`` (default: this package folder)
    and write its stamp; returns the module's path. Takes about 15 s. Raises ``ImportError``
    when this numba has no ``numba.pycc``, ``OSError`` when the folder is not writable."""
    from liqmap.core import _book_nb

    with warnings.catch_warnings():  # numba.pycc is marked "pending deprecation" since 0.57
        warnings.simplefilter("ignore")
        from numba.pycc import CC
        from numba.pycc import compiler as pycc_compiler

        where = Path(folder or _HERE)
        (where / f"{MODULE}.stamp").unlink(missing_ok=True)  # no stamp while half-built
        cc = CC(MODULE)  # type: ignore[no-untyped-call]
        cc.output_dir = str(where)
        cc.verbose = False
        cc.export("run_book", SIGNATURE)(_book_nb.run_book_nb.py_func)  # type: ignore[no-untyped-call]
        plain = pycc_compiler.Flags
        setattr(pycc_compiler, "Flags", _nogil_flags(plain))  # noqa: B010 - for this build only
        try:
            cc.compile()
        finally:
            setattr(pycc_compiler, "Flags", plain)  # noqa: B010
    (where / f"{MODULE}.stamp").write_text(expected_stamp())
    _loaded.cache_clear()
    built = _module_file(where)
    if built is None:
        raise OSError(f"numba.pycc wrote no {MODULE} module into {where}")
    return built


if __name__ == "__main__":  # pragma: no cover - python -m liqmap.core.aot
    print(build_book_aot(), file=sys.stderr)
