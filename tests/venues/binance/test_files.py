"""Binance archive files: klines with and without header, metrics, fundingRate, merge."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqmap import DataError
from liqmap.io import GapWarning
from liqmap.venues.binance import load_binance_bars, read_funding, read_klines, read_metrics

K1, K2 = "BTCUSDT-5m-2025-12-01.csv", "BTCUSDT-5m-2025-12-02.csv"
M1, M2 = "BTCUSDT-metrics-2025-12-01.csv", "BTCUSDT-metrics-2025-12-02.csv"
FUND = "BTCUSDT-fundingRate-2025-12.csv"


def test_klines_with_and_without_header_read_alike(fx):
    with_header = read_klines(fx(K1))
    no_header = read_klines(fx(K2))
    assert list(with_header.columns) == list(no_header.columns)
    assert len(with_header) == len(no_header) == 24
    assert with_header["ts_ms"].iat[0] == 1_764_547_200_000
    assert no_header["ts_ms"].iat[0] == 1_764_633_600_000
    assert (with_header["close_ms"] - with_header["ts_ms"] == 300_000).all()


def test_metrics_stamps_and_units(fx):
    m = read_metrics(fx(M1))
    assert m["ts_ms"].iat[0] == 1_764_547_500_000  # "2025-12-01 00:05:00" UTC
    assert m["oi_base"].iat[0] == 89832.175
    assert m["oi_usd"].iat[0] / m["oi_base"].iat[0] == pytest.approx(89779.1, rel=1e-4)


def test_funding_rate_per_8h(fx, tmp_path):
    f = read_funding(fx(FUND))
    assert f["rate_8h"].iat[0] == pytest.approx(3.593e-05)
    path = tmp_path / "four_hourly.csv"
    path.write_text("calc_time,funding_interval_hours,last_funding_rate\n1764547200000,4,0.0001\n")
    assert read_funding(path)["rate_8h"].iat[0] == pytest.approx(0.0002)


def test_merge_aligns_oi_to_bar_close(fx):
    bars = load_binance_bars(fx(K1), fx(M1), fx(FUND))
    m = read_metrics(fx(M1)).set_index("ts_ms")["oi_base"]
    np.testing.assert_array_equal(bars.open_interest, m.reindex(bars.ts_ms + 300_000).to_numpy())
    np.testing.assert_array_equal(bars.taker_buy_volume, read_klines(fx(K1))["taker_buy_volume"])
    f = read_funding(fx(FUND))
    assert np.all(bars.funding_rate == f["rate_8h"].iat[0])  # next settlement is at 08:00
    assert bars.repairs == () and bars.venue == "binance"


def test_funding_switches_at_the_bar_whose_close_passes_the_settlement(fx, tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("calc_time,funding_interval_hours,last_funding_rate\n"
                    "1764547200000,8,0.0001\n1764549000004,8,0.0002\n")  # 2nd at 00:30:00.004
    bars = load_binance_bars(fx(K1), fx(M1), path)
    i = int(np.searchsorted(bars.ts_ms, 1_764_549_000_000))  # bar 00:30, closes 00:35
    assert bars.funding_rate[i - 1] == 0.0001 and bars.funding_rate[i] == 0.0002


def test_several_daily_files_and_gap_listed(fx):
    with pytest.warns(GapWarning, match=f"{K2}, row 0: 264 bar"):
        bars = load_binance_bars([fx(K1), fx(K2)], [fx(M1), fx(M2)], fx(FUND))
    assert len(bars) == 48 and np.all(np.diff(bars.ts_ms) > 0)


def test_missing_metrics_names_klines_row(fx, names):
    with pytest.raises(DataError) as exc:
        load_binance_bars(fx(K2), fx(M1))
    names(exc.value, fx(K2), 0, "open-interest snapshot", "add the metrics file")


def test_funding_starting_late_names_row(fx, names, tmp_path):
    path = tmp_path / "late.csv"
    path.write_text("calc_time,funding_interval_hours,last_funding_rate\n1764550000000,8,0.0001\n")
    with pytest.raises(DataError) as exc:
        load_binance_bars(fx(K1), fx(M1), path)
    names(exc.value, fx(K1), 0, "funding settlement", "previous month's fundingRate")


def test_duplicate_and_unsorted_klines_repair(fx, names):
    path = fx("BTCUSDT-5m-2025-12-01-dup-unsorted.csv")
    with pytest.raises(DataError) as exc:
        load_binance_bars(path, fx(M1))
    names(exc.value, path, 7, "repeats an earlier row exactly", "repair=True")
    fixed = load_binance_bars(path, fx(M1), repair=True)
    good = load_binance_bars(fx(K1), fx(M1))
    assert fixed.repairs[0] == "dropped 1 exact duplicate row(s): [7]"
    assert fixed.repairs[1].startswith("sorted rows by ts_ms")
    np.testing.assert_array_equal(fixed.close, good.close)
    np.testing.assert_array_equal(fixed.open_interest, good.open_interest)


def test_wrong_file_kind(fx, names):
    with pytest.raises(DataError) as exc:
        read_metrics(fx(K1))
    names(exc.value, fx(K1), None, "missing column(s)", "metrics")


def test_bad_klines_value_names_file_and_row(fx, names, tmp_path):
    frame = pd.read_csv(fx(K1))
    frame.loc[3, "high"] = frame.loc[3, "low"] - 1
    path = tmp_path / "BTCUSDT-5m-bad.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError) as exc:
        load_binance_bars(path, fx(M1))
    names(exc.value, path, 3, "is below low")
