"""The one liqmap command line: verb-noun commands, ``--json`` on every command with numbers.

Command modules are the ``cmd_*.py`` files of this package; each defines
``register(app: typer.Typer) -> None``. Errors derived from ``LiqmapError`` are printed
as one line that says what to fix, with exit code 2 (fix your input) or 3 (retry later).
"""

from __future__ import annotations

import importlib
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
    """Run the CLI (exits the process with the command's code)."""
    try:
        app(args=argv, prog_name="liqmap")
    except LiqmapError as exc:
        retry = isinstance(exc, RetryLaterError)
        kind = "retry later" if retry else "fix your input"
        print(f"liqmap: error ({kind}): {exc}", file=sys.stderr)
        raise SystemExit(3 if retry else 2 if isinstance(exc, InputError) else 1) from None
