"""Child process of ``test_store_kill.py``: writes numbered bar batches into a DuckDB store.

Usage: ``python store_kill_child.py DB FIRST COUNT ROWS [HOLD_AT HOLD_ROWS]``

Batch ``i`` holds the bars ``i*ROWS .. (i+1)*ROWS - 1`` (1-minute bars from
2025-12-01), each with ``volume == i``, written with one ``write_bars`` call (one
transaction). The child prints ``begin i`` just before each write and ``committed i``
after it returns. With
``HOLD_AT``, batch ``HOLD_AT`` has ``HOLD_ROWS`` rows and the child stops *inside* its
transaction, after the rows were inserted and before COMMIT, prints ``holding HOLD_AT``
and waits to be killed.
"""

from __future__ import annotations

import sys

import numpy as np

from liqmap.core.bars import Bars
from liqmap.store import DuckDBStore

START_MS = 1_764_547_200_000
BAR_MS = 60_000


def batch(i: int, rows: int, first_row: int) -> Bars:
    """Batch ``i``: ``rows`` bars from bar number ``first_row``, volume ``i``."""
    idx = np.arange(first_row, first_row + rows, dtype=np.int64)
    close = 1_000.0 + idx
    return Bars(ts_ms=START_MS + BAR_MS * idx, open=close, high=close + 1.0, low=close - 1.0,
                close=close, open_interest=0.5 * idx, volume=np.full(rows, float(i)),
                source=f"batch {i}")


def hold_inside_transaction(batch_id: int) -> None:
    """Make the next write stop after its INSERT, before COMMIT."""
    real = DuckDBStore._insert

    def insert_and_wait(self, con, table, sql, params):
        real(self, con, table, sql, params)
        print(f"holding {batch_id}", flush=True)
        sys.stdin.read()  # the parent kills us here
        raise SystemExit("parent closed stdin without killing the child")

    DuckDBStore._insert = insert_and_wait


def main(argv: list[str]) -> None:
    path, first, count, rows = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    hold_at = int(argv[4]) if len(argv) > 4 else -1
    store = DuckDBStore(path)
    for i in range(first, first + count):
        size = rows
        if i == hold_at:
            size = int(argv[5])
            hold_inside_transaction(i)
        rows_i = batch(i, size, i * rows)
        print(f"begin {i}", flush=True)
        store.write_bars(rows_i)
        print(f"committed {i}", flush=True)
    store.close()


if __name__ == "__main__":
    main(sys.argv[1:])
