"""Realized liquidations in the store: de-duplication and the side convention."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from liqmap import InputError
from liqmap.core.realized import RealizedLiquidations
from liqmap.store import DuckDBStore, normalise_liquidation_side
from liqmap.venues.binance import load_forceorder_csv, load_liquidation_snapshot

SNAPSHOT = "BTCUSDT-liquidationSnapshot-2025-12-27.csv"
BTC = "BTC/USDT:USDT"


def _raw_rows(path):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[1:]  # the archive file has a header


def _raw_record(path) -> RealizedLiquidations:
    """Every row of the file, repeats included, as an ingest without de-duplication sees it."""
    rows = _raw_rows(path)
    price = np.array([float(r[6]) for r in rows])
    qty = np.array([float(r[9]) for r in rows])
    return RealizedLiquidations(
        ts_ms=np.array([int(r[0]) for r in rows], dtype=np.int64),
        side=normalise_liquidation_side([r[1] for r in rows]), price=price, qty_coin=qty,
        notional_usd=price * qty, source=str(path))


def test_binance_snapshot_file_inserted_twice_is_stored_once(fx, same):
    path = fx(SNAPSHOT)
    distinct = {tuple(r) for r in _raw_rows(path)}
    assert len(_raw_rows(path)) > len(distinct)  # the real file repeats rows
    liq = load_liquidation_snapshot(path)
    st = DuckDBStore()
    assert st.write_realized(liq) == len(distinct)
    assert st.write_realized(liq) == 0
    back = st.read_realized("binance", BTC)
    assert len(back) == len(distinct)
    same.realized(back, liq)
    assert [s.rows for s in st.series()] == [len(distinct)]


def test_repeats_inside_one_batch_and_against_stored_rows_are_dropped(fx, same):
    path = fx(SNAPSHOT)
    raw = _raw_record(path)
    distinct = len({tuple(r) for r in _raw_rows(path)})
    st = DuckDBStore()
    assert st.write_realized(raw) == distinct
    same.realized(st.read_realized("binance", BTC), load_liquidation_snapshot(path))
    doubled = raw.take(np.r_[np.arange(len(raw)), np.arange(len(raw))[::-1]])
    assert st.write_realized(doubled) == 0
    assert len(st.read_realized("binance", BTC)) == distinct


def test_first_write_wins_for_one_key_and_new_rows_are_counted():
    st = DuckDBStore()
    one = RealizedLiquidations(ts_ms=np.array([5, 5]), side=np.array([1, 1]),
                               price=np.array([100.0, 100.0]), qty_coin=np.array([2.0, 2.0]),
                               notional_usd=np.array([200.0, 999.0]))
    assert st.write_realized(one) == 1
    more = RealizedLiquidations(ts_ms=np.array([5, 5, 9]), side=np.array([1, -1, 1]),
                                price=np.array([100.0, 100.0, 101.0]),
                                qty_coin=np.array([2.0, 2.0, 1.0]),
                                notional_usd=np.array([1.0, 200.0, 101.0]))
    assert st.write_realized(more) == 2  # same ts/price/qty but the other side is new
    back = st.read_realized("binance", BTC)
    np.testing.assert_array_equal(back.side, [-1, 1, 1])  # sorted by ts, side, price, qty
    np.testing.assert_array_equal(back.notional_usd, [200.0, 200.0, 101.0])
    assert len(st.read_realized("binance", BTC, 6, 10)) == 1
    assert len(st.read_realized("okx", BTC)) == 0


def test_forceorder_recording_round_trip(fx, same):
    liq = load_forceorder_csv(fx("forceorder_allsymbols_sample.csv"))
    assert len(liq) > 0
    st = DuckDBStore()
    assert st.write_realized(liq) == len(liq)
    same.realized(st.read_realized("binance", BTC), liq)


def test_bad_liquidations_are_refused_before_writing():
    st = DuckDBStore()
    bad = RealizedLiquidations(ts_ms=np.array([1, 2]), side=np.array([1, -1]),
                               price=np.array([100.0, -5.0]), qty_coin=np.array([1.0, 1.0]),
                               notional_usd=np.array([100.0, 5.0]))
    with pytest.raises(InputError, match="row 1 has price -5.0"):
        st.write_realized(bad)
    nameless = RealizedLiquidations(ts_ms=np.array([1]), side=np.array([1]),
                                    price=np.array([1.0]), qty_coin=np.array([1.0]),
                                    notional_usd=np.array([1.0]), venue="")
    with pytest.raises(InputError, match="need a venue"):
        st.write_realized(nameless)
    assert st.series() == []


@pytest.mark.parametrize("text, side", [("SELL", 1), ("sell", 1), (" Sell ", 1), ("long", 1),
                                        ("LONG", 1), ("BUY", -1), ("buy", -1), ("short", -1),
                                        ("Short", -1)])
def test_side_words_map_to_the_liquidated_position(text, side):
    assert normalise_liquidation_side(text) == side


def test_side_arrays_match_the_binance_reader(fx):
    path = fx(SNAPSHOT)
    rows = sorted(dict.fromkeys(tuple(r) for r in _raw_rows(path)), key=lambda r: int(r[0]))
    sides = normalise_liquidation_side(r[1] for r in rows)
    assert sides.dtype == np.int8
    np.testing.assert_array_equal(sides, load_liquidation_snapshot(path).side)


@pytest.mark.parametrize("bad", ["", "close", "1", None])
def test_unknown_sides_are_refused_with_the_accepted_words(bad):
    with pytest.raises(InputError, match="'sell' closes a long"):
        normalise_liquidation_side(["sell", bad])
