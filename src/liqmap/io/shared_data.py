"""Where the shared research data lives (the recordings and exports of the studies).

The folder is ``$LIQMAP_SHARED_DATA`` when set, else ``../shared/data`` next to the working
directory or next to the repository; it holds ``raw/`` (see ``raw/SOURCES.md``).

>>> shared_data_dir()  # doctest: +SKIP
PosixPath('/work/shared/data')
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["shared_data_dir"]


def shared_data_dir() -> Path | None:
    """The shared data folder: ``$LIQMAP_SHARED_DATA`` or ``../shared/data`` (None if absent)."""
    env = os.environ.get("LIQMAP_SHARED_DATA")
    cands = [Path(env)] if env else []
    here = Path(__file__).resolve()
    cands += [Path.cwd().parent / "shared" / "data", here.parents[3].parent / "shared" / "data"]
    for c in cands:
        if (c / "raw").is_dir():
            return c
    return None
