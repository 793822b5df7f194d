"""Readers of the recorded Hyperliquid files (the real-data slices need ../shared/data)."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from liqmap._exceptions import DataError
from liqmap.io.shared_data import shared_data_dir
from liqmap.venues.hyperliquid import hl_files, read_ctx, read_l2, read_trades

DATA = shared_data_dir()
needs_data = pytest.mark.skipif(
    DATA is None or not (DATA / "raw" / "hyperliquid_hlreaper").is_dir(),
    reason="../shared/data/raw/hyperliquid_hlreaper not present (set LIQMAP_SHARED_DATA)")


def _write(path, rows):
    with gzip.open(path, "wt") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")
    return path


def test_trades_reader_keeps_the_later_recording_over_an_overlap(tmp_path):
    rows = [{"ts": t, "px": 100.0 + t, "sz": 0.1, "side": "B" if t % 2 else "A"}
            for t in (1, 2, 3, 4, 2, 3, 4, 5)]
    tr = read_trades(_write(tmp_path / "trades_BTC_1.jsonl.gz", rows))
    np.testing.assert_array_equal(tr.ts_ms, [1, 2, 3, 4, 5])
    assert tr.dropped_overlap == 3
    assert tr.signed_usd[0] == pytest.approx(10.1)  # ts 1 -> "B" (taker buy)
    assert tr.signed_usd[1] == pytest.approx(-10.2)


def test_bad_line_names_file_and_row(tmp_path):
    p = tmp_path / "trades_BTC_x.jsonl.gz"
    with gzip.open(p, "wt") as fh:
        fh.write('{"ts": 1, "px": 1, "sz": 1, "side": "B"}\n{"ts": 2, "px"\n')
    with pytest.raises(DataError, match="row 1"):
        read_trades(p)


def test_l2_reader_pads_short_books(tmp_path):
    rows = [{"ts": 1, "bids": [[99.0, 1.0]], "asks": [[101.0, 2.0], [102.0, 1.0]]}]
    b = read_l2(_write(tmp_path / "l2.jsonl.gz", rows), levels=3)
    assert b.bid_px_usd.shape == (1, 3) and np.isnan(b.bid_px_usd[0, 1])
    assert b.mid_usd[0] == 100.0
    bp, bs, ap, az = b.snapshot(0)
    assert bp.size == 1 and ap.size == 2


@needs_data
def test_real_trades_slice():
    tr = read_trades(hl_files("trades")[3], max_rows=20_000)
    assert tr.ts_ms.size == 20_000 and np.all(np.diff(tr.ts_ms) >= 0)
    assert 20_000 < np.median(tr.px_usd) < 200_000
    assert 0.2 < tr.is_buy.mean() < 0.8


@needs_data
def test_real_ctx_and_l2_slices():
    ctx = read_ctx(hl_files("ctx")[2], max_rows=500)
    assert ctx.ts_ms.size == 500 and np.all(ctx.oi_btc > 0)
    books = read_l2(hl_files("l2")[0], max_rows=300, every=10)
    assert 25 <= len(books) <= 30  # a restart overlap may drop a snapshot
    assert np.all(np.diff(books.ts_ms) >= 0)
    assert np.all(books.bid_px_usd[:, 0] < books.ask_px_usd[:, 0])
    assert np.all(np.diff(books.ask_px_usd, axis=1) > 0)


def test_missing_folder_says_what_to_do(tmp_path):
    with pytest.raises(DataError, match="LIQMAP_SHARED_DATA"):
        hl_files("trades", root=tmp_path)
