"""Readers of the Coinglass exports (need ../shared/data)."""

from __future__ import annotations

import numpy as np
import pytest

from liqmap.io.shared_data import shared_data_dir

DATA = shared_data_dir()
needs_data = pytest.mark.skipif(
    DATA is None or not (DATA / "raw" / "hyperliquid_hlreaper").is_dir(),
    reason="../shared/data/raw/hyperliquid_hlreaper not present (set LIQMAP_SHARED_DATA)")


@needs_data
def test_coinglass_realized_and_bars():
    from liqmap.io.coinglass import coinglass_files, read_realized, read_regime_bars

    f = coinglass_files("coinglass_BTC_regime_1h_*.csv.gz")[0]
    real = read_realized(f)
    assert real.interval_ms == 3_600_000 and real.long_usd.size > 4000
    bars = read_regime_bars(f)
    assert len(bars) == real.ts_ms.size and np.all(bars.open_interest > 0)
    lo, sh = real.between(1770303600000, 1770339600000)  # 2026-02-05 15:00 .. 06 01:00
    assert lo > 3e8 and sh > 0
