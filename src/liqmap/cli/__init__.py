"""The one liqmap command line: verb-noun commands, ``--json`` on every command with numbers.

Command modules are the ``cmd_*.py`` files of this package; each defines
``register(app: typer.Typer) -> None``. Errors derived from ``LiqmapError`` are printed
as one line that says what to fix, with exit code 2 (fix your input) or 3 (retry later).
"""

from __future__ import annotations

import errno
import gc
import importlib
import os
import pkgutil
import sys

import typer

from liqmap._exceptions import InputError, LiqmapError, RetryLaterError

__all__ = ["app", "main"]

app = typer.Typer(
    name="liqmap",
    help="Liquidation levels, heatmaps, maps and cascades for crypto perpetual futures.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain click help and usage errors: no rich import on every --help (about 0.1 s), and
    # help texts print as written (rich markup ate "[model]" and other brackets)
    rich_markup_mode=None,
)


@app.callback()
def _root() -> None:
    """Liquidation levels, heatmaps, maps and cascades for crypto perpetual futures."""


def _register_commands() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            module = importlib.import_module(f"{__name__}.{info.name}")
            module.register(app)


_register_commands()


def main(argv: list[str] | None = None) -> None:
    """Run the CLI (exits the process with the command's code).

    Standard output is flushed before returning, inside the handled region: a reader that
    went away (``| head``) ends the run quietly with exit code 1 (as Python and click do),
    and a full device (``> /dev/full``) is reported as an error with exit code 2.
    """
    try:
        try:
            app(args=argv, prog_name="liqmap")
        finally:
            sys.stdout.flush()
            if argv is None:  # the console script: the process ends with this call
                _skip_exit_collections()
    except LiqmapError as exc:
        retry = isinstance(exc, RetryLaterError)
        kind = "retry later" if retry else "fix your input"
        print(f"liqmap: error ({kind}): {exc}", file=sys.stderr)
        raise SystemExit(3 if retry else 2 if isinstance(exc, InputError) else 1) from None
    except BrokenPipeError:
        _stdout_to_devnull()
        raise SystemExit(1) from None
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        _stdout_to_devnull()
        print("liqmap: error (fix your input): stdout: no space left on device; free space "
              "or write the output elsewhere", file=sys.stderr)
        raise SystemExit(2) from None


def _skip_exit_collections() -> None:
    """Move every object to the collector's permanent generation (``gc.freeze``): the
    collections of interpreter shutdown then skip numba's large object graph (about 0.5 s
    after a compiled kernel ran, issue #16). Only the collector's walk is skipped: atexit
    handlers, finalizers and file flushes run as before; the OS frees the memory."""
    gc.freeze()


def _stdout_to_devnull() -> None:
    """Point the stdout descriptor at the null device, so that the flush at interpreter
    shutdown does not fail again (the Python docs' recipe for SIGPIPE)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (tests, wrappers)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
