"""Hypothesis properties of store writes.

Bars: any sequence of overlapping batches, written in any order, reads back as the union
of their keys, sorted and unique, with the **last write winning** per ``ts_ms`` for the
columns a batch carries (an optional column a batch leaves out keeps the stored value).

Realized liquidations: any sequence of batches with repeats stores each distinct event
once, whatever the order.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from liqmap.core.bars import Bars
from liqmap.core.realized import RealizedLiquidations
from liqmap.store import DuckDBStore

BASE_MS, STEP_MS = 1_764_547_200_000, 60_000

_SERIES = itertools.count()


@functools.cache
def _store() -> DuckDBStore:
    """One in-memory store for all examples; each example writes its own symbol."""
    return DuckDBStore()


def _fresh_symbol() -> str:
    return f"P{next(_SERIES)}/USDT:USDT"


batch = st.tuples(st.integers(0, 40), st.integers(1, 15), st.booleans())  # start, length, volume?


def _bars(number: int, start: int, length: int, with_volume: bool, symbol: str) -> Bars:
    idx = np.arange(start, start + length)
    close = 1_000.0 * (number + 1) + idx  # says which batch wrote the row
    return Bars(ts_ms=BASE_MS + STEP_MS * idx, open=close, high=close + 1, low=close - 1,
                close=close, open_interest=close / 10,
                volume=close * 2 if with_volume else None, symbol=symbol)


@settings(max_examples=40, deadline=None)
@given(st.lists(batch, min_size=1, max_size=8))
def test_bar_batches_read_back_as_union_with_last_write_winning(batches):
    close: dict[int, float] = {}
    volume: dict[int, float] = {}
    store, symbol = _store(), _fresh_symbol()
    for number, (start, length, with_volume) in enumerate(batches):
        bars = _bars(number, start, length, with_volume, symbol)
        assert store.write_bars(bars) == length
        for i, c in zip(range(start, start + length), bars.close):
            close[i] = c
            if with_volume:
                volume[i] = 2 * c
    back = store.read_bars("binance", symbol)
    keys = sorted(close)
    np.testing.assert_array_equal(back.ts_ms, BASE_MS + STEP_MS * np.array(keys))
    assert np.all(np.diff(back.ts_ms) > 0)
    np.testing.assert_array_equal(back.close, [close[k] for k in keys])
    if volume:
        np.testing.assert_array_equal(back.volume, [volume.get(k, np.nan) for k in keys])
    else:
        assert back.volume is None


event = st.tuples(st.integers(0, 5), st.sampled_from([1, -1]),
                  st.sampled_from([99.5, 100.0, 100.5]), st.sampled_from([0.001, 0.5, 2.0]))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(event, max_size=12), min_size=1, max_size=5), st.randoms())
def test_realized_batches_store_each_distinct_event_once_in_any_order(batches, rnd):
    distinct = {e for b in batches for e in b}
    for order in (batches, rnd.sample(batches, len(batches))):
        store, symbol = _store(), _fresh_symbol()
        new = 0
        for b in order:
            arr = np.array(b, dtype=np.float64).reshape(-1, 4)
            new += store.write_realized(RealizedLiquidations(
                ts_ms=arr[:, 0].astype(np.int64), side=arr[:, 1].astype(np.int8),
                price=arr[:, 2], qty_coin=arr[:, 3], notional_usd=arr[:, 2] * arr[:, 3],
                symbol=symbol))
        back = store.read_realized("binance", symbol)
        assert new == len(back) == len(distinct)
        got = set(zip(back.ts_ms.tolist(), back.side.tolist(), back.price.tolist(),
                      back.qty_coin.tolist()))
        assert got == distinct
        assert np.all(np.diff(back.ts_ms) >= 0)
