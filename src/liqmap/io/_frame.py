"""Small helpers shared by the validation modules: error location and value display."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__: list[str] = []


def _show(value: object) -> str:
    """A value for a message: strings quoted, numbers plain (``nan``, ``0.0``)."""
    return repr(value) if isinstance(value, str) else str(value)


def _where(frame: pd.DataFrame, pos: int, source: str) -> dict:
    """``source=`` and ``row=`` for the error at positional row ``pos``."""
    src = str(frame["_file"].iat[pos]) if "_file" in frame else source
    return {"source": src, "row": int(frame["_row"].iat[pos])}


def _first(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def _bar_ms(ts: np.ndarray) -> int:
    steps = np.diff(ts)
    steps = steps[steps > 0]
    return int(np.median(steps)) if steps.size else 0
