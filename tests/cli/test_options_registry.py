"""One option registry: every command-line flag is declared in one place.

A flag (``--out``, ``-o``) is spelled once, in one ``typer.Option`` call, either in
``liqmap/cli/_options.py`` (the registry) or, for an option of one command only, in that
command's module. The model-parameter flags are spelled in ``liqmap.params.PARAMS``.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import typer

from liqmap.cli import app
from liqmap.params import PARAMS

CLI = Path(__file__).resolve().parents[2] / "src" / "liqmap" / "cli"
REGISTRY = CLI / "_options.py"


def _is_option_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    return ((isinstance(f, ast.Attribute) and f.attr == "Option"
             and isinstance(f.value, ast.Name) and f.value.id == "typer")
            or (isinstance(f, ast.Name) and f.id == "Option"))


def declared_flags(paths) -> dict[str, list[str]]:
    """``{flag: ["file:line", ...]}`` for every flag written as text in a ``typer.Option``."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not _is_option_call(node):
                continue
            for arg in node.args:
                if (isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                        and arg.value.startswith("-")):
                    found[arg.value].append(f"{path.name}:{node.lineno}")
    return dict(found)


def _cli_files() -> list[Path]:
    return sorted(CLI.glob("*.py"))


def test_scanner_sees_a_second_declaration(tmp_path):
    a, b = tmp_path / "cmd_a.py", tmp_path / "cmd_b.py"
    a.write_text('import typer\nOUT = typer.Option("out", "--out", "-o", help="x")\n')
    b.write_text('import typer\n\ndef f(out: str = typer.Option("x", "--out")):\n    pass\n')
    assert declared_flags([a, b]) == {"--out": ["cmd_a.py:2", "cmd_b.py:3"],
                                      "-o": ["cmd_a.py:2"]}


def test_every_flag_is_declared_once():
    twice = {f: where for f, where in declared_flags(_cli_files()).items() if len(where) > 1}
    assert twice == {}, ("declare a flag once in liqmap/cli/_options.py and reuse it "
                         f"(a function there takes each command's default and help): {twice}")


def test_model_flags_are_spelled_only_in_params():
    model = {spec.flag for spec in PARAMS.values()}
    written = {f: w for f, w in declared_flags(_cli_files()).items() if f in model}
    assert written == {}, f"model flags come from liqmap.params.PARAMS: {written}"


def _commands(group, path=()):
    for name, cmd in sorted(group.commands.items()):
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, path + (name,))
        else:
            yield " ".join(path + (name,)), cmd


def test_flags_of_several_commands_come_from_the_registry():
    """Checked on the built command tree, so a flag declared without a literal counts too."""
    users: dict[str, set[str]] = defaultdict(set)
    for name, cmd in _commands(typer.main.get_command(app)):
        for p in cmd.params:
            for flag in (*p.opts, *p.secondary_opts):
                if flag.startswith("-"):
                    users[flag].add(name)
    registry = set(declared_flags([REGISTRY])) | {spec.flag for spec in PARAMS.values()}
    shared = {f for f, cmds in users.items() if len(cmds) > 1}
    assert shared, "the command tree should have flags shared by several commands"
    assert shared - registry == set(), {f: sorted(users[f]) for f in shared - registry}
    local = set(declared_flags([p for p in _cli_files() if p != REGISTRY]))
    assert local & shared == set()
