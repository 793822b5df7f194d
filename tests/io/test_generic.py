"""Generic loader: CSV, CSV.gz, Parquet, column mapping, file errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqmap import Bars, ConfigError, DataError
from liqmap.io import load_bars


def test_csv_loads_documented_columns(fx):
    bars = load_bars(fx("bars_generic.csv"), venue="binance", symbol="BTC/USDT:USDT")
    assert isinstance(bars, Bars) and len(bars) == 24 and bars.bar_ms == 300_000
    assert bars.ts_ms.dtype == np.int64 and bars.ts_ms[0] == 1_764_547_200_000
    assert bars.close[0] == 89771.4 and bars.open_interest[0] == 89832.175
    assert bars.volume is not None and bars.funding_rate[0] == pytest.approx(3.593e-05)
    assert bars.taker_buy_volume is None and bars.taker_delta is None
    assert bars.source == str(fx("bars_generic.csv"))


def test_gzip_and_parquet_give_the_same_bars(fx, tmp_path):
    csv = load_bars(fx("bars_generic.csv"))
    gz = load_bars(fx("bars_generic.csv.gz"))
    path = tmp_path / "bars.parquet"
    pd.read_csv(fx("bars_generic.csv")).to_parquet(path)
    pq = load_bars(path)
    for other in (gz, pq):
        for name in ("ts_ms", "open", "high", "low", "close", "volume", "open_interest"):
            np.testing.assert_array_equal(getattr(other, name), getattr(csv, name))


def test_mapping_renames_user_columns(fx, tmp_path):
    frame = pd.read_csv(fx("bars_generic.csv")).rename(
        columns={"ts_ms": "time", "open_interest": "oi_btc", "close": "c"})
    frame["taker_delta_btc"] = 1.5
    path = tmp_path / "mine.csv"
    frame.to_csv(path, index=False)
    bars = load_bars(path, mapping={"time": "ts_ms", "oi_btc": "open_interest", "c": "close",
                                    "taker_delta_btc": "taker_delta"})
    assert bars.close[0] == 89771.4 and np.all(bars.taker_delta == 1.5)
    with pytest.raises(ConfigError, match="not liqmap columns"):
        load_bars(path, mapping={"time": "timestamp"})
    with pytest.raises(ConfigError, match="does not have"):
        load_bars(path, mapping={"nope": "ts_ms"})


def test_volume_is_optional(fx, tmp_path):
    path = tmp_path / "novol.csv"
    pd.read_csv(fx("bars_generic.csv")).drop(columns="volume").to_csv(path, index=False)
    assert load_bars(path).volume is None


def test_missing_and_unknown_files(fx, names, tmp_path):
    with pytest.raises(DataError) as exc:
        load_bars(tmp_path / "absent.csv")
    names(exc.value, tmp_path / "absent.csv", None, "file not found")
    path = tmp_path / "bars.txt"
    path.write_text("x")
    with pytest.raises(DataError, match="unknown file kind"):
        load_bars(path)
