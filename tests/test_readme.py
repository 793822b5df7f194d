"""README's Python example runs as printed, with ``import liqmap`` only, so it cannot rot."""

from __future__ import annotations

import ast
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_example() -> str:
    """The first ```python block of README's "## Python" section."""
    section = README.read_text(encoding="utf-8").split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block, "README's '## Python' section has no ```python block"
    return block.group(1)


def test_readme_example_imports_only_the_package():
    tree = ast.parse(python_example())
    imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert [ast.unparse(n) for n in imports] == ["import liqmap"]


def test_readme_example_runs_and_writes_its_charts(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # est.plot("out") writes into tmp_path/out
    namespace: dict[str, object] = {}
    exec(compile(python_example(), str(README), "exec"), namespace)
    est = namespace["est"]
    imb = est.summary()["map"]["imbalance"]["20pct"]
    assert imb["short_usd"] > 0 and imb["long_usd"] > 0
    assert {p.name for p in (tmp_path / "out").iterdir()} >= {
        "liqmap_heatmap.png", "liqmap_heatmap.html", "liqmap_map.png", "liqmap_map.html"}
