"""The public surface: sorted, complete, importable, and the README's Python example runs.

As httpx's ``tests/test_exported_members.py``: a package's ``__all__`` is exactly the public
names its ``__init__.py`` binds (imports, assignments, functions, classes; not submodules,
not ``from __future__``), in ``sorted()`` order. The root adds its lazy re-exports (``_LAZY``)
and ``__version__``. The names are read from the source, so what other tests import (a
submodule set as an attribute, a lazy value cached in ``globals()``) cannot hide a gap.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

import liqmap

SRC = Path(liqmap.__file__).resolve().parent
PACKAGES = sorted(
    ".".join(init.parent.relative_to(SRC.parent).parts)
    for init in SRC.rglob("__init__.py") if "__pycache__" not in init.parts
)
# public names a package binds but does not export, each with the step that removes it
PENDING_UNEXPORTED = {
    "liqmap.cli": ({"InputError", "LiqmapError", "RetryLaterError"},
                   "caught in main(); import them under private names when the CLI settles"),
}


def _bound_names(tree: ast.Module) -> set[str]:
    """Names bound at module level (inside top-level ``if``/``try`` too), as written."""
    names: set[str] = set()
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            names |= {a.asname or a.name for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.asname or a.name.partition(".")[0] for a in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.If, ast.Try)):
            stack += [*node.body, *node.orelse, *getattr(node, "finalbody", [])]
            stack += [s for h in getattr(node, "handlers", []) for s in h.body]
    return names


def public_names(package: str) -> list[str]:
    """The public names ``package``'s ``__init__.py`` binds, submodules left out, sorted."""
    module = importlib.import_module(package)
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    names = {n for n in _bound_names(tree) if not n.startswith("_")}
    if package == "liqmap":
        names |= set(module._LAZY) | {"__version__"}
    return sorted(n for n in names if not inspect.ismodule(getattr(module, n)))


def test_root_all_is_exactly_the_public_names():
    assert liqmap.__all__ == public_names("liqmap")


def test_every_lazy_name_resolves_to_its_module():
    for name, module in liqmap._LAZY.items():
        assert getattr(liqmap, name) is getattr(importlib.import_module(module), name), name
    assert set(liqmap._LAZY) <= set(dir(liqmap))


@pytest.mark.parametrize("package", PACKAGES)
def test_package_all_is_exactly_its_public_names(package):
    module = importlib.import_module(package)
    assert hasattr(module, "__all__"), f"{package}: add __all__ = {public_names(package)!r}"
    exported = list(module.__all__)
    assert exported == sorted(exported), f"{package}: sort __all__"
    pending, reason = PENDING_UNEXPORTED.get(package, (set(), ""))
    assert pending <= set(public_names(package)), f"{package}: drop the stale pending entry"
    expected = [n for n in public_names(package) if n not in pending]
    assert exported == expected, (
        f"{package}: __all__ misses {sorted(set(expected) - set(exported))}, "
        f"exports unbound {sorted(set(exported) - set(expected))}")
    for name in exported:
        assert hasattr(module, name), f"{package}.{name}"


def test_the_subpackages_named_in_issue_12_are_checked():
    assert {f"liqmap.{p}" for p in ("core", "io", "store", "live", "service", "scaleout",
                                    "scorecard", "venues", "plots")} <= set(PACKAGES)


def test_the_package_is_typed():
    assert (SRC / "py.typed").is_file()


def test_all_is_sorted_and_every_name_exists():
    assert liqmap.__all__ == sorted(liqmap.__all__)
    for name in liqmap.__all__:
        assert hasattr(liqmap, name), name


def test_public_classes_are_exported():
    public = {n for n in dir(liqmap)
              if isinstance(getattr(liqmap, n), type) and not n.startswith("_")}
    assert public <= set(liqmap.__all__)
    assert {"LiquidationModel", "CascadeSimulator", "LiqMap"} <= public


def test_exception_tree_has_two_branches():
    assert issubclass(liqmap.DataError, liqmap.InputError)
    assert issubclass(liqmap.ConfigError, liqmap.InputError)
    assert issubclass(liqmap.InputError, liqmap.LiqmapError)
    assert issubclass(liqmap.RetryLaterError, liqmap.LiqmapError)
    assert not issubclass(liqmap.RetryLaterError, liqmap.InputError)


def test_readme_python_example(tmp_path):
    est = liqmap.LiquidationModel(leverage="all-leverage", side_model="candle").run(
        liqmap.load_sample(), lookback="7d")
    imb = est.summary()["map"]["imbalance"]["20pct"]
    assert imb["short_usd"] > 0 and imb["long_usd"] > 0
    files = est.plot(tmp_path)
    assert {p.name for p in files.values()} == {
        "liqmap_heatmap.png", "liqmap_heatmap.html", "liqmap_map.png", "liqmap_map.html"}
    assert liqmap.liquidation_price("binance", "long", 100_000, 0.1, 1_000) == \
        __import__("pytest").approx(90_361.45, abs=0.01)
