"""Shared fixtures for the loader tests: fixture paths and error-message checks.

Helpers are given as pytest fixtures (not imported), so the tests run whether or not
``tests/`` is a package.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from liqmap import DataError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RAW = Path(__file__).resolve().parents[3] / "shared" / "data" / "raw"


def _check_names(err: DataError, path: Path | str, row: int | None, *fixes: str) -> None:
    text = str(err)
    assert err.source is not None and str(path) in err.source and str(path) in text
    if row is not None:
        assert err.row == row and f"row {row}:" in text
    for fix in fixes:
        assert fix in text, f"{fix!r} not in {text!r}"


@pytest.fixture
def fx():
    """``fx(name)``: path of a file in tests/fixtures."""
    return lambda name: FIXTURES / name


@pytest.fixture
def names():
    """``names(err, path, row, *fixes)``: the error names file, row and each fix text."""
    return _check_names


@pytest.fixture
def raw_dir() -> Path:
    """../shared/data/raw, or skip when absent."""
    if not RAW.is_dir():
        pytest.skip("../shared/data/raw is absent (real-data check)")
    return RAW
