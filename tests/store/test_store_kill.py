"""A real ingest process killed with SIGKILL loses no committed batch and leaves no half batch.

The child (``store_kill_child.py``) writes numbered batches of bars, one transaction each,
printing ``begin i`` before and ``committed i`` after each write. The test kills it
(SIGKILL) at a random moment inside a write (a random fraction of the write time it
measured), reopens the database and checks batch by batch. A second test stops the child
*inside* a large transaction (rows inserted, no COMMIT yet) before killing it. No result
depends on timing: wherever the kill lands, the same assertions must hold.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from liqmap.store import DuckDBStore

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

CHILD = Path(__file__).with_name("store_kill_child.py")
START_MS, BAR_MS, ROWS = 1_764_547_200_000, 60_000, 3_000
WATCHDOG_S = 120  # only a guard against a hung child; never reached when things work


class Child:
    """The ingest subprocess, read line by line, with a watchdog against hangs."""

    def __init__(self, *args: object):
        self.proc = subprocess.Popen([sys.executable, str(CHILD), *map(str, args)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.watchdog = threading.Timer(WATCHDOG_S, self.proc.kill)
        self.watchdog.start()
        self.committed: list[int] = []
        self.write_s: list[float] = []  # measured duration of each write
        self._began = 0.0

    def read_until(self, predicate) -> str:
        while True:
            line = self.proc.stdout.readline()
            if not line:
                self.proc.wait()
                pytest.fail(f"child ended early (rc {self.proc.returncode}): "
                            f"{self.proc.stderr.read()}")
            if line.startswith("begin "):
                self._began = time.perf_counter()
            if line.startswith("committed "):
                self.committed.append(int(line.split()[1]))
                self.write_s.append(time.perf_counter() - self._began)
            if predicate(line):
                return line

    def kill(self) -> None:
        self.proc.kill()  # SIGKILL
        self.proc.wait()
        self.watchdog.cancel()
        assert self.proc.returncode == -signal.SIGKILL
        # lines the child printed before it died were printed after their commit
        for line in self.proc.stdout.read().splitlines():
            if line.startswith("committed "):
                self.committed.append(int(line.split()[1]))
        self.proc.stdin.close()
        self.proc.stdout.close()
        self.proc.stderr.close()


def _stored_batches(path: Path) -> dict[int, int]:
    """Rows per batch id in the reopened store; checks each row's content too."""
    with DuckDBStore(path) as st:
        bars = st.read_bars("binance", "BTC/USDT:USDT")
    row = (bars.ts_ms - START_MS) // BAR_MS
    ids = row // ROWS
    np.testing.assert_array_equal(bars.close, 1_000.0 + row)
    np.testing.assert_array_equal(bars.volume, ids.astype(float))  # written by batch `id`
    got, counts = np.unique(ids, return_counts=True)
    return dict(zip(got.tolist(), counts.tolist()))


def test_sigkill_during_ingest_keeps_every_committed_batch_whole(tmp_path):
    path = tmp_path / "ingest.duckdb"
    first = 0
    rng = random.Random(7)
    for kill_round in range(4):
        child = Child(path, first, 10**6, ROWS)
        child.read_until(lambda _, child=child: len(child.committed) >= 3)
        child.read_until(lambda line: line.startswith("begin "))
        time.sleep(rng.uniform(0.0, max(child.write_s)))  # where in the write to kill
        child.kill()
        stored = _stored_batches(path)  # the database opens after the kill
        assert set(child.committed) <= set(stored), "a reported commit was lost"
        partial = {b: n for b, n in stored.items() if n != ROWS}
        assert partial == {}, f"half-written batches after kill {kill_round}: {partial}"
        assert sorted(stored) == list(range(max(stored) + 1))  # batches commit in order
        first = max(stored) + 1  # the next child carries on after the last stored batch
    assert len(stored) >= 12


def test_sigkill_inside_an_uncommitted_transaction_leaves_nothing_of_it(tmp_path):
    path = tmp_path / "held.duckdb"
    hold_at, hold_rows = 3, 300_000  # larger than a row group: DuckDB writes it optimistically
    child = Child(path, 0, 10, ROWS, hold_at, hold_rows)
    child.read_until(lambda line: line.startswith("holding"))
    child.kill()
    assert child.committed == [0, 1, 2]
    assert _stored_batches(path) == {0: ROWS, 1: ROWS, 2: ROWS}
    with DuckDBStore(path) as st:  # the store takes new writes after recovery
        bars = st.read_bars("binance", "BTC/USDT:USDT")
        assert st.write_bars(bars.take(slice(0, 10))) == 10
        assert len(st.read_bars("binance", "BTC/USDT:USDT")) == 3 * ROWS
