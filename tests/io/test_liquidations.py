"""Realized liquidations: archive snapshot, forceOrder recordings, ccxt, per-bar totals."""

from __future__ import annotations

import numpy as np
import pytest

from liqmap import DataError, InputError
from liqmap.core.realized import RealizedLiquidations
from liqmap.venues import liquidations_from_ccxt
from liqmap.venues.binance import load_forceorder_csv, load_liquidation_snapshot

SNAP = "BTCUSDT-liquidationSnapshot-2025-12-27.csv"


def test_snapshot_drops_repeated_rows_and_maps_sides(fx):
    liq = load_liquidation_snapshot(fx(SNAP))
    assert len(liq) == 6  # 10 rows, 4 of them repeats
    np.testing.assert_array_equal(liq.side, [1, 1, -1, -1, 1, 1])  # SELL = long liquidated
    assert np.all(np.diff(liq.ts_ms) >= 0)
    assert liq.qty_coin[0] == 0.004 and liq.price[0] == 87506.5  # average fill price
    np.testing.assert_allclose(liq.notional_usd, liq.qty_coin * liq.price)


def test_snapshot_inverse_contracts(tmp_path):
    path = tmp_path / "BTCUSD_PERP-liquidationSnapshot.csv"
    path.write_text("time,side,order_type,time_in_force,original_quantity,price,average_price,"
                    "order_status,last_fill_quantity,accumulated_fill_quantity\n"
                    "1687656471926,BUY,LIMIT,IOC,7,30741.3,30631.6,FILLED,6,7\n")
    liq = load_liquidation_snapshot(path, symbol="BTC/USD:BTC", contract_value_usd=100)
    assert liq.notional_usd[0] == 700 and liq.qty_coin[0] == pytest.approx(700 / 30631.6)
    assert liq.side[0] == -1


def test_forceorder_fixture_keeps_one_symbol(fx):
    liq = load_forceorder_csv(fx("forceorder_allsymbols_sample.csv"))
    assert len(liq) == 6 and liq.symbol == "BTC/USDT:USDT"
    same = load_liquidation_snapshot(fx(SNAP))
    np.testing.assert_array_equal(liq.ts_ms, same.ts_ms)
    np.testing.assert_allclose(liq.notional_usd, same.notional_usd)


@pytest.mark.shared_data
def test_forceorder_real_recordings(raw_dir):
    files = sorted((raw_dir / "binance_forceorder_samples").glob("*.csv"))
    counts = {f.name.split("_")[4]: len(load_forceorder_csv(f)) for f in files}
    assert counts == {"bandsthobaby": 4, "paulius": 61, "riftfern": 6}  # BTC rows per SOURCES.md


def test_bad_side_and_bad_quantity_name_the_row(fx, names, tmp_path):
    text = fx(SNAP).read_text().splitlines()
    path = tmp_path / "bad.csv"
    path.write_text("\n".join([text[0], text[1], text[3].replace("SELL", "HOLD")]) + "\n")
    with pytest.raises(DataError) as exc:
        load_liquidation_snapshot(path)
    names(exc.value, path, 1, "BUY or SELL")
    path.write_text(text[0] + "\n" + text[1].rsplit(",", 1)[0] + ",abc\n")
    with pytest.raises(DataError) as exc:
        load_liquidation_snapshot(path)
    names(exc.value, path, 0, "accumulated_fill_quantity", "fix the row")


def test_short_row_is_an_error(fx, names, tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("BTC,SELL,LIMIT\n")
    with pytest.raises(DataError) as exc:
        load_forceorder_csv(path)
    names(exc.value, path, 0, "has 3 fields, expected 12")


def test_per_bar_totals():
    liq = RealizedLiquidations(
        ts_ms=np.array([0, 299_999, 300_000, 650_000, -5]), side=np.array([1, -1, 1, 1, 1]),
        price=np.ones(5), qty_coin=np.ones(5),
        notional_usd=np.array([10.0, 20.0, 30.0, 40.0, 50.0]))
    long_usd, short_usd = liq.per_bar(np.array([0, 300_000, 600_000]), 300_000)
    np.testing.assert_array_equal(long_usd, [10.0, 30.0, 40.0])
    np.testing.assert_array_equal(short_usd, [20.0, 0.0, 0.0])
    long_usd, _ = liq.per_bar(np.array([0, 600_000]), 30_000)  # 650_000 is past bar 2's end
    np.testing.assert_array_equal(long_usd, [10.0, 0.0])
    assert liq.long_usd == 130.0 and liq.short_usd == 20.0
    assert len(liq.window(0, 300_000)) == 2


def test_record_checks_lengths_and_sides():
    with pytest.raises(DataError, match="same length"):
        RealizedLiquidations(np.array([1, 2]), np.array([1]), np.ones(2), np.ones(2), np.ones(2))
    with pytest.raises(DataError, match=r"\+1 \(long liquidated\)"):
        RealizedLiquidations(np.array([1]), np.array([0]), np.ones(1), np.ones(1), np.ones(1))


def test_ccxt_liquidations():
    recs = [
        {"symbol": "BTC/USDT:USDT", "timestamp": 2_000, "side": "long", "price": 100.0,
         "contracts": 3, "contractSize": 0.5, "baseValue": None, "quoteValue": None},
        {"symbol": "BTC/USDT:USDT", "timestamp": 1_000, "side": "buy", "price": 110.0,
         "baseValue": 2.0, "quoteValue": 221.0},
        {"symbol": "ETH/USDT:USDT", "timestamp": 1_500, "side": "sell", "price": 5.0,
         "baseValue": 1.0},
    ]
    liq = liquidations_from_ccxt(recs, symbol="BTC/USDT:USDT")
    np.testing.assert_array_equal(liq.ts_ms, [1_000, 2_000])
    np.testing.assert_array_equal(liq.side, [-1, 1])
    np.testing.assert_allclose(liq.qty_coin, [2.0, 1.5])
    np.testing.assert_allclose(liq.notional_usd, [221.0, 150.0])
    with pytest.raises(DataError) as exc:
        liquidations_from_ccxt([{"timestamp": 1, "side": "up", "price": 1.0}])
    assert exc.value.row == 0 and "'long'/'short'" in str(exc.value)


# -- the bar loaders' checks, given to liquidation files --------------------------------

_HEAD = ("time,side,order_type,time_in_force,original_quantity,price,average_price,"
         "order_status,last_fill_quantity,accumulated_fill_quantity\n")
_TS = 1_766_847_448_493


def _snap_row(ts=_TS, qty="0.004", side="SELL", order_type="LIMIT") -> str:
    return f"{ts},{side},{order_type},IOC,{qty},87000,87506.5,FILLED,{qty},{qty}\n"


@pytest.mark.parametrize("rows, row, fixes", [
    ([_snap_row(), _snap_row(_TS * 1000)], 1, ["column 'time'", "microseconds", "divide by 1000"]),
    ([_snap_row(_TS // 1000)], 0, ["seconds", "multiply by 1000"]),
    ([_snap_row(), _snap_row(f"{_TS}.25")], 1, ["whole Unix milliseconds", "round it"]),
    ([_snap_row("abc")], 0, ["column 'time'", "not a number"]),
    ([_snap_row(qty="1e15")], 0, ["notional", "wrong unit", "fix or delete the row"]),
])
def test_snapshot_times_and_sizes_get_the_bar_checks(tmp_path, names, rows, row, fixes):
    path = tmp_path / "liq.csv"
    path.write_text(_HEAD + "".join(rows))
    with pytest.raises(DataError) as exc:
        load_liquidation_snapshot(path)
    names(exc.value, path, row, *fixes)


def test_row_numbers_survive_dropped_repeats(tmp_path, names):
    path = tmp_path / "rep.csv"
    path.write_text(_HEAD + _snap_row() + _snap_row() + _snap_row(_TS * 1000))
    with pytest.raises(DataError) as exc:
        load_liquidation_snapshot(path)
    names(exc.value, path, 2, "microseconds")


def test_inverse_contracts_get_the_notional_bound(tmp_path, names):
    path = tmp_path / "cm.csv"
    path.write_text(_HEAD + _snap_row(qty="1e9"))
    with pytest.raises(DataError) as exc:
        load_liquidation_snapshot(path, symbol="BTC/USD:BTC", contract_value_usd=100)
    names(exc.value, path, 0, "above 1e+10 USD")


def test_forceorder_times_get_the_bar_checks(tmp_path, names):
    path = tmp_path / "force.csv"
    line = "BTC,SELL,LIMIT,IOC,0.004,87000,87506.5,FILLED,0.004,0.004,{},350.0\n"
    path.write_text(line.format(_TS) + line.format(_TS // 1000))
    with pytest.raises(DataError) as exc:
        load_forceorder_csv(path)
    names(exc.value, path, 1, "column 'trade_time_ms'", "seconds")


def test_latin1_and_bom_files_are_read_and_their_used_fields_checked(tmp_path, names):
    path = tmp_path / "latin1.csv"
    path.write_bytes((_HEAD + _snap_row(order_type="LIMIT\xe9")).encode("latin-1"))
    assert load_liquidation_snapshot(path).ts_ms.tolist() == [_TS]
    path.write_bytes(b"\xef\xbb\xbf" + (_HEAD + _snap_row()).encode())
    assert len(load_liquidation_snapshot(path)) == 1  # the BOM does not hide the header
    path.write_bytes((_HEAD + _snap_row(side="SELL\xe9")).encode("latin-1"))
    with pytest.raises(DataError) as exc:
        load_liquidation_snapshot(path)
    names(exc.value, path, 0, "BUY or SELL")


def test_binary_files_are_refused_naming_the_file(tmp_path, names):
    path = tmp_path / "liq.csv.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00" + bytes(range(256)))
    with pytest.raises(DataError) as exc:
        load_liquidation_snapshot(path)
    names(exc.value, path, None, "NUL bytes", "unzip it")


def test_format_is_told_from_the_first_row(fx, tmp_path):
    from liqmap.venues.binance import liquidation_file_format

    assert liquidation_file_format(fx(SNAP)) == "snapshot"
    assert liquidation_file_format(fx("forceorder_allsymbols_sample.csv")) == "forceorder"
    path = tmp_path / "odd.csv"
    path.write_bytes(b"a,b\xe9,c\n")
    with pytest.raises(InputError, match="give --format"):
        liquidation_file_format(path)
