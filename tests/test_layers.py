"""The numeric core never imports the outer layers (venues, storage, plots, service, CLI)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "src" / "liqmap" / "core"
ALLOWED_LIQMAP = ("liqmap.core", "liqmap._exceptions")
FORBIDDEN_THIRD_PARTY = ("matplotlib", "plotly", "typer", "rich", "pandas", "duckdb", "ccxt",
                         "fastapi", "dask")


def _imports(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_core_modules_import_only_core_and_exceptions():
    offenders = []
    for path in sorted(CORE.glob("*.py")):
        for mod in _imports(path):
            top = mod.split(".")[0]
            if top == "liqmap" and not mod.startswith(ALLOWED_LIQMAP):
                offenders.append(f"{path.name}: {mod}")
            if top in FORBIDDEN_THIRD_PARTY:
                offenders.append(f"{path.name}: {mod}")
    assert offenders == []
    assert len(list(CORE.glob("*.py"))) >= 5


def test_importing_the_core_loads_no_outer_layer():
    mods = sorted(p.stem for p in CORE.glob("*.py") if p.stem != "__init__")
    code = ("import sys\n" + "".join(f"import liqmap.core.{m}\n" for m in mods) +
            "bad = [m for m in sys.modules if m.startswith(('liqmap.io', 'liqmap.plots', "
            "'liqmap.cli', 'liqmap.model', 'liqmap.checks', 'matplotlib', 'plotly', 'typer'))]\n"
            "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
