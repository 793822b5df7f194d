"""``liqmap version``: print the package version."""

from __future__ import annotations

import json

import typer

from liqmap import __version__
from liqmap.cli import _options as o


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command("version")
    def version(as_json: bool = o.as_json("Print JSON.")) -> None:
        """Print the liqmap version."""
        print(json.dumps({"version": __version__}) if as_json else __version__)
