"""Shared helpers for the hostile-input suite.

Every case runs the real command line (``liqmap.cli.main``, the function the ``liqmap``
script calls) in-process and asserts what a user would see: the exit code (2 = fix your
input, 3 = retry later), that the message names the file/row/key and the fix, and that no
traceback is printed. ``run_cli_subprocess`` runs the installed entry point in a child
process for the cases where the process boundary matters (stdout to a full device, signals).
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

from liqmap.cli import main


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


def run_cli(argv: list[str], env: dict[str, str] | None = None,
            monkeypatch: pytest.MonkeyPatch | None = None) -> CliResult:
    """Run ``liqmap ARGV`` in-process; an escaping exception is reported as a traceback."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.ExitStack() as stack:
        if env:
            mp = stack.enter_context(pytest.MonkeyPatch.context()) if monkeypatch is None \
                else monkeypatch
            for k, v in env.items():
                mp.setenv(k, v)
        stack.enter_context(contextlib.redirect_stdout(out))
        stack.enter_context(contextlib.redirect_stderr(err))
        try:
            main([str(a) for a in argv])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # noqa: BLE001 - the test reports it as a crash
            err.write(traceback.format_exc())
            code = 1
    return CliResult(code, out.getvalue(), err.getvalue())


def run_cli_subprocess(argv: list[str], *, env: dict[str, str] | None = None,
                       stdout=subprocess.PIPE, timeout: float = 120,
                       cwd: str | Path | None = None) -> CliResult:
    """Run the installed ``liqmap`` entry point in a child process."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run([sys.executable, "-c", "from liqmap.cli import main; main()",
                           *map(str, argv)], stdout=stdout, stderr=subprocess.PIPE,
                          env=full_env, timeout=timeout, text=True, cwd=cwd)
    return CliResult(proc.returncode, proc.stdout or "", proc.stderr)


def assert_refused(res: CliResult, code: int, *fragments: str) -> None:
    """Exit ``code``, no traceback, and every fragment (case-insensitive) in stderr."""
    assert "Traceback" not in res.err, res.err
    assert res.code == code, (res.code, res.err, res.out[-2000:])
    low = res.err.lower()
    for frag in fragments:
        assert frag.lower() in low, (frag, res.err)


@pytest.fixture
def cli():
    """``cli(argv, env=None) -> CliResult``: the command line, in-process."""
    return run_cli


@pytest.fixture
def cli_subprocess():
    """``cli_subprocess(argv, env=None, stdout=PIPE) -> CliResult``: in a child process."""
    return run_cli_subprocess


@pytest.fixture
def refused():
    """``refused(result, code, *fragments)``: exit code, no traceback, fragments in stderr."""
    return assert_refused
