"""``LiquidationModel(convention="vendor")``: the map as popular tools appear to count it."""

from __future__ import annotations

import numpy as np
import pytest

from liqmap._exceptions import ConfigError
from liqmap.core.bars import Bars
from liqmap.core.vendor import VENDOR_STYLE
from liqmap.model import LiquidationModel

H = 3_600_000


def _toy() -> Bars:
    """Bar 1 green opens 2 BTC, bar 2 red opens 0.5 BTC, bar 3 green with falling OI."""
    ts = 1_767_225_600_000 + H * np.arange(4, dtype=np.int64)
    o = np.array([100_000.0, 100_000.0, 100_050.0, 100_000.0])
    c = np.array([100_000.0, 100_050.0, 100_000.0, 100_020.0])
    hi, lo = np.maximum(o, c) + 10.0, np.minimum(o, c) - 10.0
    oi = np.array([10.0, 12.0, 12.5, 11.0])
    return Bars(ts_ms=ts, open=o, high=hi, low=lo, close=c, open_interest=oi,
                source="toy")


def _coins(m) -> tuple[float, float]:
    c = m.price_bins_usd
    return float((m.long_usd / c).sum()), float((m.short_usd / c).sum())


def test_vendor_counts_each_opening_once_on_the_candles_side_and_never_removes_it():
    est = LiquidationModel(convention="vendor", bin_usd=10.0).run(_toy())
    longs, shorts = _coins(est.final_map)
    assert longs == pytest.approx(2.0, rel=1e-9)   # the green bar's rise, longs only
    assert shorts == pytest.approx(0.5, rel=1e-9)  # the red bar's rise, shorts only
    # the OI fall of the last bar removes nothing (openings never removed)
    assert est.members == (VENDOR_STYLE,)
    assert est.final_map.long_low_usd is None  # no band in this convention


def test_liqmap_convention_opens_both_sides_and_shrinks_with_oi():
    est = LiquidationModel(bin_usd=10.0, band="none").run(_toy())
    longs, shorts = _coins(est.final_map)
    assert longs > 0 and shorts > 0
    # each rise opens a long and a short (2 x 2.5 BTC); the last bar's OI fall removed some
    assert longs + shorts < 5.0 - 1e-6


def test_vendor_levels_sit_at_high_leverage_only():
    est = LiquidationModel(convention="vendor", bin_usd=10.0).run(_toy())
    m = est.final_map
    held = m.price_bins_usd[(m.long_usd + m.short_usd) > 0]
    # 25-100x: every level within 4 % of the entry prices (about 100,000)
    assert held.min() > 95_000 and held.max() < 105_000


def test_the_convention_is_a_checked_parameter():
    with pytest.raises(ConfigError, match="convention"):
        LiquidationModel(convention="bogus")
    assert LiquidationModel.from_dict(LiquidationModel(convention="vendor").to_dict()
                                      ).convention == "vendor"


def test_the_cli_labels_the_vendor_view(tmp_path):
    import json

    from typer.testing import CliRunner

    from liqmap.cli import app

    r = CliRunner().invoke(app, ["map", "--convention", "vendor", "--lookback", "3d",
                                 "--json", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["params"]["convention"] == "vendor" and d["band_members"] == [VENDOR_STYLE]


def test_vendor_prices_with_the_symbols_own_tiers():
    """The vendor view uses the tier table the map names (the symbol's), not BTC's."""
    from dataclasses import replace

    from liqmap.core.liqprice import isolated_liq_factors
    from liqmap.model_setup import symbol_tier_table

    bars = replace(_toy(), symbol="ETH/USDT:USDT")
    # at $100k a position sits in a bracket where Binance's ETH and BTC tables differ
    model = LiquidationModel(convention="vendor", bin_usd=1.0, position_notional_usd=1e5)
    est = model.run(bars)
    eth, note = symbol_tier_table(model, bars.symbol)
    assert est.tier_table == note and "ETHUSDT" in note
    lev = np.array([25.0, 50.0, 100.0])
    f_eth = isolated_liq_factors("binance", lev, model.position_notional_usd, table=eth)[0]
    f_btc = isolated_liq_factors("binance", lev, model.position_notional_usd)[0]
    assert not np.allclose(f_eth, f_btc)  # the two tables price these leverages apart
    as_btc = model.run(_toy())  # the same bars as BTC: the BTC table
    top = [float(e.final_map.price_bins_usd[e.final_map.long_usd > 0].max())
           for e in (est, as_btc)]
    # the highest long level is the top entry x the 100x factor, of each table (1-USD bins)
    assert top[0] / top[1] == pytest.approx(f_eth[2] / f_btc[2], abs=2e-5)
    assert top[0] != top[1]
