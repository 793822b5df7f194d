"""The bundled real-data samples."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from liqmap import ConfigError
from liqmap.io import list_samples, load_sample, sample_info

DEC = 1_764_547_200_000  # 2025-12-01T00:00Z


def test_list_samples():
    assert list_samples() == ("btcusdt-5m-2025-12", "btcusdt-5m-2026-06")


def _check_clean(bars):
    for name in ("open", "high", "low", "close", "open_interest", "volume",
                 "taker_delta", "funding_rate"):
        arr = getattr(bars, name)
        assert arr is None or not np.isnan(arr).any(), name
    assert np.all(bars.open_interest > 0)
    assert np.all(np.diff(bars.ts_ms) == 300_000)  # no gaps
    assert np.all(np.abs(bars.funding_rate) < 0.003)  # per 8 h; Binance caps at 0.3 %


def test_default_sample_december():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bars = load_sample()
    assert len(bars) == 8779 and bars.bar_ms == 300_000
    assert bars.ts_ms[0] == DEC and bars.ts_ms[-1] == 1_767_180_600_000  # 12-31T11:30
    _check_clean(bars)
    assert bars.open_interest.min() > 80_000 and bars.open_interest.max() < 120_000  # BTC
    assert bars.taker_delta is None and bars.volume is not None
    assert bars.source == "liqmap sample btcusdt-5m-2025-12" and bars.repairs == ()


def test_june_sample_has_taker_delta():
    bars = load_sample("btcusdt-5m-2026-06")
    assert len(bars) == 5749
    assert bars.ts_ms[0] == 1_779_724_500_000 and bars.ts_ms[-1] == 1_781_448_900_000
    _check_clean(bars)
    assert bars.volume is None and bars.taker_delta is not None
    assert np.count_nonzero(bars.taker_delta) > 0.99 * len(bars)
    assert bars.open_interest.min() > 80_000 and bars.open_interest.max() < 120_000


def test_sample_info_and_unknown_name():
    info = sample_info("btcusdt-5m-2026-06")
    assert info["rows"] == 5749 and info["columns"]["open_interest"] == "BTC, at bar close"
    with pytest.raises(ConfigError, match="btcusdt-5m-2025-12"):
        load_sample("eth")


@pytest.mark.shared_data
def test_june_oi_matches_binance_base_figure(raw_dir):
    import pandas as pd

    m = pd.read_csv(raw_dir / "binance_um_hlreaper/BTCUSDT_metrics_oi_5m_2025-12-01_2026-06-11.csv.gz")
    bars = load_sample("btcusdt-5m-2026-06")
    ref = m.set_index("t")["oi"].reindex(bars.ts_ms + 300_000).to_numpy()
    rel = np.abs(bars.open_interest / ref - 1)
    assert np.isfinite(rel).sum() > 4000
    assert np.nanmedian(rel) < 1e-4 and np.nanmax(rel) < 5e-3


@pytest.mark.shared_data
def test_make_sample_is_reproducible(raw_dir, tmp_path, monkeypatch):
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "make_sample.py"
    spec = importlib.util.spec_from_file_location("make_sample", script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(mod, "OUT", tmp_path)
    info = mod.write_sample(mod.build_december(raw_dir), "btcusdt-5m-2025-12", mod.DEC_ORIGIN,
                            mod.DEC_TRANSFORM)
    assert info["sha256_csv_gz"] == sample_info()["sha256_csv_gz"]
