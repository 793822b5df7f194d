"""Suite-wide settings.

Hypothesis runs derandomized by default (profile ``ci``), so a CI run is repeatable: the
same examples every time. Set ``HYPOTHESIS_PROFILE=explore`` for fresh random examples
(200 per property unless a test sets its own) when hunting for new edge cases.

The loader fixtures (``fx``, ``names``, ``raw_dir``) serve the bar loaders of ``tests/io``
and the venues' file loaders of ``tests/venues``. Helpers are given as pytest fixtures
(not imported), so the tests run whether or not ``tests/`` is a package.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

if TYPE_CHECKING:
    from liqmap import DataError

settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RAW = Path(__file__).resolve().parents[2] / "shared" / "data" / "raw"


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
