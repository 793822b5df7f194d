"""The import graph is the architecture: it has no cycle and follows one layer order.

- The numeric core never imports the outer layers (venues, storage, plots, service, CLI).
- The import graph of ``liqmap`` has no cycle. Every ``import`` statement counts: at module
  level, inside functions (an import inside a function that closes a cycle hides a wrong
  dependency) and under ``if TYPE_CHECKING:`` (no runtime cycle, but a type needed from an
  upper layer belongs lower, or behind a ``Protocol``). A cycle is reported as its path, each
  hop with file, line and kind.
- Every import goes to the same top-level package, a peer in the same layer or a lower layer
  of :data:`LAYERS`, the one place the order is written (``docs/architecture.md`` draws a
  copy, kept equal by a test).
- No private name (``_x``) and no private module crosses top-level packages, except the
  exception root ``liqmap._exceptions``.

Not edges: dynamic imports by string (the root package's lazy ``_LAZY`` re-exports, the CLI's
command discovery), and the implicit import of a package's ``__init__`` when one of its
submodules is imported (``from liqmap.store import _records`` is an edge to
``liqmap.store._records`` only). Inside the package nothing imports a lazily re-exported name
from the root (that would hide an upward import behind ``liqmap.__getattr__``).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
CORE = SRC / "liqmap" / "core"
ALLOWED_LIQMAP = ("liqmap.core", "liqmap._exceptions")
FORBIDDEN_THIRD_PARTY = ("matplotlib", "plotly", "typer", "rich", "pandas", "duckdb", "ccxt",
                         "fastapi", "dask")

# The layer order, lowest first. A module's unit is its top-level package (``liqmap.venues``
# for ``liqmap.venues.binance.live``) or, for a top-level module, the module itself (``liqmap``
# is the root ``__init__``: its static imports only). A unit may import itself, its layer's
# peers (the graph stays acyclic) and any lower layer; never a higher one. The venue adapters
# sit below the store (which checks names against their registry) and the live engine (which
# runs their clients); they never import either.
LAYERS = {
    "exceptions": ("liqmap._exceptions",),
    "core": ("liqmap.core",),
    "parameters and helpers": ("liqmap", "liqmap.fmt", "liqmap.outputs", "liqmap.params",
                               "liqmap.preset_files", "liqmap.timeutil"),
    "loaders and charts": ("liqmap.io", "liqmap.plots"),
    "venue adapters": ("liqmap.venues",),
    "storage": ("liqmap.store",),
    "estimators": ("liqmap.model", "liqmap.model_setup"),
    "engines": ("liqmap.cascade", "liqmap.live", "liqmap.watch"),
    "studies, checks, scorecard": ("liqmap.checks", "liqmap.scorecard", "liqmap.studies"),
    "service and scale-out": ("liqmap.scaleout", "liqmap.service"),
    "cli": ("liqmap.cli",),
}
PRIVATE_OK = ("liqmap._exceptions",)


# --------------------------------------------------------------------------- the checker
@dataclass(frozen=True, slots=True)
class Edge:
    """``src`` imports ``dst`` (both module names); ``names`` are the imported names."""

    src: str
    dst: str
    path: str
    line: int
    kind: str  # "module level", "in function", "type-checking"
    names: tuple[str, ...] = ()

    def where(self) -> str:
        return f"{self.path}:{self.line} ({self.kind})"


def module_files(src: Path, package: str) -> dict[str, Path]:
    """``{module name: file}`` of every module of ``package`` under ``src``."""
    out = {}
    for p in sorted((src / package).rglob("*.py")):
        parts = list(p.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def _kinds(tree: ast.Module) -> dict[int, str]:
    """``{id(node): kind}`` for nodes inside functions or ``if TYPE_CHECKING:`` blocks."""
    kind = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            kind.update((id(n), "in function") for n in ast.walk(node) if id(n) not in kind)
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            kind.update((id(n), "type-checking") for n in ast.walk(node))
    return kind


def _targets(node, me: str, is_pkg: bool, mods) -> list[tuple[str, tuple[str, ...]]]:
    """(imported module, imported names) of one import statement, inside ``mods`` only."""
    def known(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    if isinstance(node, ast.Import):
        return [(m, ()) for m in (known(a.name) for a in node.names) if m]
    base = node.module or ""
    if node.level:
        pkg = (me if is_pkg else me.rpartition(".")[0]).split(".")
        base = ".".join(pkg[:len(pkg) - node.level + 1] + ([base] if base else []))
    out = []
    for a in node.names:
        sub = f"{base}.{a.name}"
        dst = sub if sub in mods else known(base)
        if dst:
            out.append((dst, () if dst == sub else (a.name,)))
    return out


def import_edges(src: Path, package: str) -> list[Edge]:
    """Every import between modules of ``package``, wherever the statement stands."""
    mods = module_files(src, package)
    edges = []
    for me, path in mods.items():
        tree = ast.parse(path.read_text(), str(path))
        kinds = _kinds(tree)
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for dst, names in _targets(node, me, path.name == "__init__.py", mods):
                if dst != me:
                    edges.append(Edge(me, dst, str(path.relative_to(src)), node.lineno,
                                      kinds.get(id(node), "module level"), names))
    return edges


def _sccs(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while not comp or comp[-1] != v:
                comp.append(stack.pop())
                on.discard(comp[-1])
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def find_cycles(edges: list[Edge]) -> list[str]:
    """One cycle per strongly connected component, written hop by hop with file and line."""
    graph, first = {}, {}
    for e in edges:
        graph.setdefault(e.src, set()).add(e.dst)
        first.setdefault((e.src, e.dst), e)
    out = []
    for comp in _sccs(graph):
        start, inside = comp[0], set(comp)
        prev, todo = {start: None}, [start]
        while todo and start not in [w for v in todo for w in graph[v]]:
            nxt = []
            for v in todo:
                for w in sorted(graph[v] & inside):
                    if w not in prev:
                        prev[w] = v
                        nxt.append(w)
            todo = nxt
        last = next(v for v in todo if start in graph[v])
        path = [last]
        while prev[path[-1]] is not None:
            path.append(prev[path[-1]])
        path = path[::-1] + [start]
        hops = [f"{a} -> {b} [{first[(a, b)].where()}]" for a, b in zip(path, path[1:])]
        out.append("cycle: " + " ; ".join(hops))
    return out


def unit_of(module: str) -> str:
    """The layer unit of a module: its top-level package, or the top-level module itself."""
    return ".".join(module.split(".")[:2])


def layer_violations(edges: list[Edge], layers: dict[str, tuple[str, ...]]) -> list[str]:
    """Imports of a higher layer, and modules whose unit is in no layer."""
    rank = {u: (i, name) for i, (name, us) in enumerate(layers.items()) for u in us}
    out, homeless = [], {}
    for e in edges:
        us, ud = unit_of(e.src), unit_of(e.dst)
        for u in (us, ud):
            if u not in rank:
                homeless.setdefault(u, f"{u} is in no layer: add it to LAYERS ({e.where()})")
        if us != ud and us in rank and ud in rank and rank[ud][0] > rank[us][0]:
            out.append(f"{e.where()}: {e.src} [{rank[us][1]}] imports {e.dst} "
                       f"[{rank[ud][1]}, a higher layer]")
    return sorted(out + list(homeless.values()))


def private_crossings(edges: list[Edge]) -> list[tuple[str, str, str]]:
    """(importer, private target, where) for private names or modules crossing top packages."""
    out = []
    for e in edges:
        if unit_of(e.src) == unit_of(e.dst) or e.dst in PRIVATE_OK:
            continue
        private_mod = any(p.startswith("_") and not p.startswith("__")
                          for p in e.dst.split(".")[1:])
        names = [n for n in e.names if n.startswith("_") and not n.startswith("__")]
        if private_mod:
            out.append((e.src, e.dst, e.where()))
        out += [(e.src, f"{e.dst}.{n}", e.where()) for n in names]
    return out


def private_attributes(src: Path, package: str) -> list[tuple[str, str, str]]:
    """(module, private target, where) for ``alias._name`` on a module of another package."""
    mods, out = module_files(src, package), []
    for me, path in mods.items():
        tree = ast.parse(path.read_text(), str(path))
        alias = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                alias.update((a.asname or a.name, sub) for a in node.names
                             if (sub := f"{node.module}.{a.name}") in mods)
            elif isinstance(node, ast.Import):
                alias.update((a.asname, a.name) for a in node.names
                             if a.asname and a.name in mods)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.attr.startswith("_") and not node.attr.startswith("__")
                    and node.value.id in alias
                    and unit_of(alias[node.value.id]) != unit_of(me)):
                out.append((me, f"{alias[node.value.id]}.{node.attr}",
                            f"{path.relative_to(src)}:{node.lineno} (attribute)"))
    return out


# --------------------------------------------------------------------------- the tests
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


def test_import_graph_has_no_cycle():
    edges = import_edges(SRC, "liqmap")
    assert len(edges) > 500  # the reader sees the whole package
    assert any(e.kind == "in function" for e in edges)
    cycles = find_cycles(edges)
    assert not cycles, "import cycles (break each one):\n" + "\n".join(cycles)


def test_imports_follow_the_layer_order():
    bad = layer_violations(import_edges(SRC, "liqmap"), LAYERS)
    assert not bad, "imports against the layer order (LAYERS):\n" + "\n".join(bad)


def test_every_unit_has_one_layer_and_every_layer_unit_exists():
    mods = module_files(SRC, "liqmap")
    listed = [u for us in LAYERS.values() for u in us]
    assert len(listed) == len(set(listed))
    assert sorted({unit_of(m) for m in mods} - set(listed)) == [], "add them to LAYERS"
    assert sorted(set(listed) - set(mods)) == [], "LAYERS names units that do not exist"


def test_no_private_name_crosses_packages():
    found = private_crossings(import_edges(SRC, "liqmap")) + private_attributes(SRC, "liqmap")
    bad = [f"{w}: {s} uses {t}" for s, t, w in found]
    assert not bad, ("private names imported from another package (make them public or "
                     "move them):\n" + "\n".join(bad))


def test_no_module_imports_a_lazy_root_name():
    root = ast.parse((SRC / "liqmap" / "__init__.py").read_text())
    lazy = {k.value for n in ast.walk(root) if isinstance(n, ast.Assign)
            and any(getattr(t, "id", "") == "_LAZY" for t in n.targets)
            for k in n.value.keys}
    assert "LiquidationModel" in lazy
    bad = [f"{e.where()}: {e.src} imports {sorted(set(e.names) & lazy)} from liqmap"
           for e in import_edges(SRC, "liqmap") if e.dst == "liqmap" and set(e.names) & lazy]
    assert bad == []



def drawn_layers(doc: str) -> list[tuple[str, tuple[str, ...]]]:
    """The layer diagram of ``docs/architecture.md`` (first ``text`` block under "## Layers")
    as ``(layer, units)`` rows, highest first; a row with an empty name continues the last."""
    block = doc.split("\n## Layers\n", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    rows: list[tuple[str, tuple[str, ...]]] = []
    for line in block.splitlines():
        if line.startswith("|"):
            name, units = (c.strip() for c in line.strip().strip("|").split("|"))
            cells = tuple(u.strip() for u in units.split(",") if u.strip())
            if name:
                rows.append((name, cells))
            else:
                rows[-1] = (rows[-1][0], rows[-1][1] + cells)
    return rows


def test_architecture_doc_copies_the_layers():
    doc = (SRC.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert drawn_layers(doc) == list(LAYERS.items())[::-1], (
        "docs/architecture.md's layer diagram differs from LAYERS: redraw it")

# ------------------------------------------------------------- the checker catches plants
def _plant(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = tmp_path / "fakepkg" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


def test_checker_reports_a_cycle_hidden_in_functions(tmp_path):
    src = _plant(tmp_path, {
        "__init__.py": "",
        "low.py": "def f():\n    from fakepkg.high import g\n    return g\n",
        "high.py": "from fakepkg import low\n\n\ndef g():\n    return low\n",
        "ok.py": "from fakepkg import low\n",
    })
    cycles = find_cycles(import_edges(src, "fakepkg"))
    assert cycles == [
        "cycle: fakepkg.high -> fakepkg.low [fakepkg/high.py:1 (module level)] ; "
        "fakepkg.low -> fakepkg.high [fakepkg/low.py:2 (in function)]"]


def test_checker_reports_cycles_through_relative_and_type_checking_imports(tmp_path):
    src = _plant(tmp_path, {
        "__init__.py": "",
        "sub/__init__.py": "",
        "sub/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                    "    from ..b import B\n",
        "b.py": "from .sub import a\n",
    })
    (cycle,) = find_cycles(import_edges(src, "fakepkg"))
    assert "fakepkg.sub.a -> fakepkg.b [fakepkg/sub/a.py:3 (type-checking)]" in cycle


def test_checker_reports_an_upward_import_and_a_unit_without_layer(tmp_path):
    src = _plant(tmp_path, {
        "__init__.py": "",
        "core/__init__.py": "",
        "core/book.py": "def f():\n    import fakepkg.cli.main\n",
        "cli/__init__.py": "",
        "cli/main.py": "from fakepkg.core import book\nfrom fakepkg import extra\n",
        "extra.py": "",
    })
    layers = {"core": ("fakepkg.core",), "cli": ("fakepkg.cli",)}
    bad = layer_violations(import_edges(src, "fakepkg"), layers)
    assert bad == [
        "fakepkg.extra is in no layer: add it to LAYERS (fakepkg/cli/main.py:2 (module level))",
        "fakepkg/core/book.py:2 (in function): fakepkg.core.book [core] imports "
        "fakepkg.cli.main [cli, a higher layer]"]


def test_checker_reports_private_names_across_packages(tmp_path):
    src = _plant(tmp_path, {
        "__init__.py": "",
        "a/__init__.py": "", "a/_impl.py": "X = 1\n", "a/mod.py": "_y = 1\n",
        "a/same.py": "from fakepkg.a._impl import X\n",
        "b.py": "def f():\n    from fakepkg.a.mod import _y\n    from fakepkg.a import _impl\n",
        "c.py": "from fakepkg.a import mod as m\n\nZ = m._y\n",
    })
    found = private_crossings(import_edges(src, "fakepkg")) + private_attributes(src, "fakepkg")
    assert found == [("fakepkg.b", "fakepkg.a.mod._y", "fakepkg/b.py:2 (in function)"),
                     ("fakepkg.b", "fakepkg.a._impl", "fakepkg/b.py:3 (in function)"),
                     ("fakepkg.c", "fakepkg.a.mod._y", "fakepkg/c.py:3 (attribute)")]
