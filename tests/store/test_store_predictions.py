"""The predictions table: round trip, upsert, checks naming the field, older store files."""

from __future__ import annotations

from dataclasses import replace

import duckdb
import pytest

from liqmap import InputError
from liqmap.store import BarPrediction, DuckDBStore

BTC = "BTC/USDT:USDT"
T0 = 1_766_232_000_000
PARAMS = {"leverage": "all-leverage", "bin_usd": 50.0}


def _pred(i: int = 0, **kw) -> BarPrediction:
    base = BarPrediction("binance", BTC, T0 + i * 300_000, 300_000, 1e6 + i, 2e5 * i, PARAMS)
    return replace(base, **kw)


def test_round_trip_upsert_and_span():
    st = DuckDBStore()
    assert st.write_predictions([_pred(i) for i in range(5)]) == 5
    back = st.read_predictions("binance", BTC)
    assert back == [_pred(i) for i in range(5)]
    assert st.write_predictions([_pred(2, predicted_long_usd=7.0)]) == 1  # last write wins
    assert st.read_predictions("binance", BTC)[2].predicted_long_usd == 7.0
    assert [p.ts_ms for p in st.read_predictions("binance", BTC, T0 + 300_000,
                                                 T0 + 900_000)] == [T0 + 300_000, T0 + 600_000]
    assert st.write_predictions([]) == 0
    # a repeat within one batch: the last one is stored, once
    assert st.write_predictions([_pred(9, predicted_short_usd=1.0),
                                 _pred(9, predicted_short_usd=3.0)]) == 1
    assert st.read_predictions("binance", BTC)[-1].predicted_short_usd == 3.0
    (info,) = [s for s in st.series() if s.table == "predictions"]
    assert (info.rows, info.first_ts_ms, info.last_ts_ms) == (6, T0, T0 + 9 * 300_000)


def test_names_are_stored_canonically():
    st = DuckDBStore()
    st.write_predictions([_pred(venue="BinanceUSDM", symbol="btcusdt")])
    (p,) = st.read_predictions("binanceusdm", "BTCUSDT")
    assert (p.venue, p.symbol) == ("binance", BTC)
    assert st.read_predictions("okx", BTC) == []


@pytest.mark.parametrize(("change", "words"), [
    ({"predicted_long_usd": float("nan")}, "predicted_long_usd must be a finite number >= 0"),
    ({"predicted_short_usd": -1.0}, "predicted_short_usd must be a finite number >= 0"),
    ({"ts_ms": 1.5}, "ts_ms must be a whole number"),
    ({"ts_ms": T0 * 1000}, "ts_ms"),
    ({"bar_ms": 0}, "bar_ms must be > 0"),
    ({"params": "bin_usd=50"}, "params must be a dict"),
    ({"params": {"x": object()}}, "JSON-ready"),
    ({"venue": "nowhere"}, "unknown venue"),
    ({"symbol": ""}, "need a symbol"),
])
def test_bad_records_name_the_field_and_nothing_is_written(change, words):
    st = DuckDBStore()
    with pytest.raises(InputError, match=words):
        st.write_predictions([_pred(0), _pred(1, **change)])
    assert st.read_predictions("binance", BTC) == []


def test_only_prediction_records_are_taken():
    with pytest.raises(InputError, match="takes BarPrediction records"):
        DuckDBStore().write_predictions([{"ts_ms": T0}])


def test_store_made_before_the_running_scorecard(tmp_path):
    path = tmp_path / "old.duckdb"
    DuckDBStore(path).close()
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE predictions")
    con.close()
    with DuckDBStore(path, read_only=True) as ro:
        assert ro.read_predictions("binance", BTC) == []
        assert ro.series() == []
        with pytest.raises(InputError, match="read-only"):
            ro.write_predictions([_pred()])
    with DuckDBStore(path) as st:  # opened writable: the table is added
        assert st.write_predictions([_pred()]) == 1
    with DuckDBStore(path, read_only=True) as st:
        assert [p.ts_ms for p in st.read_predictions("binance", BTC)] == [T0]
