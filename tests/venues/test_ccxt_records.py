"""ccxt records: fetch_ohlcv + fetch_open_interest_history (+ funding) into Bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqmap import DataError
from liqmap.venues import bars_from_ccxt
from liqmap.venues.binance import read_metrics


def _ccxt_inputs(fx):
    """Real fixture values re-shaped as ccxt would return them."""
    g = pd.read_csv(fx("bars_generic.csv"))
    ohlcv = g[["ts_ms", "open", "high", "low", "close", "volume"]].values.tolist()
    m = read_metrics(fx("BTCUSDT-metrics-2025-12-01.csv"))
    oi = [{"symbol": "BTC/USDT:USDT", "timestamp": int(t), "openInterestAmount": a,
           "openInterestValue": v} for t, a, v in zip(m.ts_ms, m.oi_base, m.oi_usd)]
    funding = [{"symbol": "BTC/USDT:USDT", "timestamp": 1_764_547_200_000, "fundingRate": 3.593e-05}]
    return g, ohlcv, oi, funding


def test_bars_from_ccxt_matches_the_archive_loader(fx):
    g, ohlcv, oi, funding = _ccxt_inputs(fx)
    bars = bars_from_ccxt(ohlcv, oi, funding)
    np.testing.assert_array_equal(bars.open_interest, g["open_interest"])  # OI at bar close
    np.testing.assert_allclose(bars.funding_rate, g["funding_rate"])
    assert bars.ts_ms.dtype == np.int64 and bars.symbol == "BTC/USDT:USDT"


def test_contract_size_and_value_fallback(fx):
    g, ohlcv, oi, _ = _ccxt_inputs(fx)
    contracts = [dict(r, openInterestAmount=r["openInterestAmount"] * 1000) for r in oi]
    bars = bars_from_ccxt(ohlcv, contracts, contract_size=0.001)
    np.testing.assert_allclose(bars.open_interest, g["open_interest"])
    value_only = [dict(r, openInterestAmount=None) for r in oi]
    bars = bars_from_ccxt(ohlcv, value_only)
    np.testing.assert_allclose(bars.open_interest, g["open_interest"], rtol=2e-3)


def test_funding_interval_rescaled(fx):
    _, ohlcv, oi, funding = _ccxt_inputs(fx)
    bars = bars_from_ccxt(ohlcv, oi, funding, funding_interval_h=4)
    assert bars.funding_rate[0] == pytest.approx(2 * 3.593e-05)


def test_missing_open_interest_names_row(fx):
    _, ohlcv, oi, _ = _ccxt_inputs(fx)
    with pytest.raises(DataError) as exc:
        bars_from_ccxt(ohlcv, oi[:10])
    # records end at 00:50; bar 10 (close 00:55) bridges one missing snapshot, bar 11 cannot
    assert exc.value.row == 11 and "fetch the open-interest history" in str(exc.value)
    assert "fetch_ohlcv" in exc.value.source


def test_bad_ohlcv_row(fx):
    _, ohlcv, oi, _ = _ccxt_inputs(fx)
    ohlcv[3] = ohlcv[3][:3]
    with pytest.raises(DataError) as exc:
        bars_from_ccxt(ohlcv, oi)
    assert exc.value.row == 3 and "unchanged" in str(exc.value)
