"""The model's set-up: one home, read by the batch run, the live engine and the calibration."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from liqmap import ConfigError, DataError
from liqmap.io.sample import load_sample
from liqmap.live import IncrementalModel
from liqmap.model import LiquidationModel
from liqmap.model_setup import MAX_BINS, ModelSetup, auto_bin, check_bars


@pytest.fixture(scope="module")
def bars():
    return load_sample().take(slice(0, 600))


def _same_channels(a: ModelSetup, b: ModelSetup) -> None:
    assert a.member_names == b.member_names and a.ref_price_usd == b.ref_price_usd
    for la, lb, ca, cb in zip(a.leverages, b.leverages, a.channels, b.channels, strict=True):
        np.testing.assert_array_equal(la, lb)
        for f in ("side", "factor", "w_aggr", "w_pass", "rate_per_ms", "rank"):
            np.testing.assert_array_equal(getattr(ca, f), getattr(cb, f))
        assert ca.policy == cb.policy


@pytest.mark.parametrize("params", [
    dict(), dict(leverage="peer-common", half_life_hours="100:6,50:12", oi_policy="net"),
    dict(venue="binance-inverse", band="none", bin_usd=25.0),
])
def test_the_live_engine_builds_its_books_from_the_model_setup(bars, params):
    model = LiquidationModel(**params)
    warm = bars.take(slice(0, 100))
    im = IncrementalModel(model, warm, grid_pad=0.05)
    want = model.setup(warm, grid_pad=0.05)
    _same_channels(im.setup, want)
    assert im.grid == want.grid and im.members == want.members
    assert [st.n_bins for st in im.states] == [want.n_bins] * len(want.channels)
    # a given reference price reaches the channels of every member
    ref = float(np.median(bars.close))
    im2 = IncrementalModel(model, warm, reference_price_usd=ref)
    _same_channels(im2.setup, model.setup(warm, ref_price_usd=ref, grid_pad=0.1))


def test_the_batch_run_builds_its_books_from_the_model_setup(bars):
    model = LiquidationModel(leverage="peer-common")
    est, s = model.run(bars), model.setup(bars)
    assert est.members == s.member_names and len(s.members) == 4
    assert s.member_names[0] == "peer-common"
    np.testing.assert_array_equal(est.final_map.price_bins_usd, s.centers_usd)
    np.testing.assert_array_equal(est.heatmap.price_bins_usd, s.centers_usd)
    # the grid covers every level the bars can place: the span of the lowest long and
    # highest short factor, and nothing falls outside it
    lo, hi = s.price_span(float(bars.low.min()), float(bars.high.max()))
    assert s.p0_usd <= lo and s.p0_usd + s.n_bins * s.bin_usd >= hi
    assert s.p0_usd / s.bin_usd == pytest.approx(round(s.p0_usd / s.bin_usd))
    # no band: the central preset alone
    assert LiquidationModel(band="none").setup(bars).member_names == ("all-leverage",)


def test_setup_with_no_pad_is_the_batch_grid_and_a_pad_widens_it(bars):
    model = LiquidationModel(bin_usd=50.0)
    plain, padded = model.setup(bars), model.setup(bars, grid_pad=0.1)
    assert padded.bin_usd == plain.bin_usd == 50.0
    assert padded.p0_usd < plain.p0_usd and padded.n_bins > plain.n_bins
    assert np.isclose((plain.p0_usd - padded.p0_usd) % 50.0, 0.0, atol=1e-6)


def test_channels_carry_sides_ranks_and_decay(bars):
    s = LiquidationModel(half_life_hours="100:6", band="none").setup(bars)
    lev, ch = s.leverages[0], s.channels[0]
    assert ch.side[0] == 1 and ch.side[-1] == -1 and np.all(np.diff(ch.side) <= 0)
    assert np.all(ch.factor[ch.side > 0] < 1) and np.all(ch.factor[ch.side < 0] > 1)
    assert np.all(ch.rate_per_ms[lev == 100] == pytest.approx(np.log(2) / 6 / 3_600_000))
    assert np.all(ch.rate_per_ms[lev != 100] == 0)
    assert sorted(ch.rank) == list(range(ch.side.size))
    assert ch.rank[int(np.argmax(lev))] == 0  # the highest leverage goes first


def test_auto_bin_is_the_calibration_bin(bars):
    assert auto_bin(87_000.0) == 50.0 and auto_bin(3.2) == 0.002
    s = LiquidationModel().setup(bars)
    assert s.bin_usd == auto_bin(float(np.median(bars.close)))


def test_check_bars_and_the_bin_cap_are_the_run_checks(bars):
    with pytest.raises(DataError, match="at least 2 bars"):
        check_bars(bars.take(slice(0, 1)))
    bad = replace(bars.take(slice(0, 5)), low=np.r_[bars.low[:4], -1.0])
    with pytest.raises(DataError, match="prices must be > 0"):
        check_bars(bad)
    with pytest.raises(ConfigError, match="price bins of 0.001 USD"):
        LiquidationModel(bin_usd=0.001).setup(bars)
    assert MAX_BINS == 200_000


def test_no_module_reaches_for_a_private_name_of_the_model():
    src = Path(__file__).resolve().parents[1] / "src" / "liqmap"
    private = re.compile(r"from liqmap\.model import _|\bmodel\._(?!_)")
    assert [str(p) for p in src.rglob("*.py") if private.search(p.read_text())] == []


def test_the_bars_symbol_picks_its_tier_table_or_says_it_falls_back():
    from dataclasses import replace

    from liqmap.io.sample import load_sample
    from liqmap.model import LiquidationModel
    from liqmap.model_setup import symbol_tier_table

    btc = load_sample().take(slice(0, 300))
    eth = replace(btc, symbol="ETH/USDT:USDT", open=btc.open / 30, high=btc.high / 30,
                  low=btc.low / 30, close=btc.close / 30)
    m = LiquidationModel()
    assert m.setup(btc).tier_table.startswith("binance BTCUSDT tiers ")
    assert m.setup(eth).tier_table.startswith("binance ETHUSDT tiers ")
    assert symbol_tier_table(m, "ETH/USDT:USDT")[0].symbol == "ETHUSDT"
    doge = replace(eth, symbol="DOGE/USDT:USDT")
    note = m.setup(doge).tier_table
    assert note.startswith("binance BTCUSDT") and "fallback" in note and "DOGE" in note
    assert "fallback" not in LiquidationModel(venue="hyperliquid").setup(btc).tier_table
    assert m.run(eth).summary()["tiers"] == m.setup(eth).tier_table


# ------------------------------------------------- tier tables fetched into a store (#17)
def _fetched(venue: str, symbol: str, version: str, mmr: float = 0.01):
    """A table as ``liqmap tiers --refresh`` stores it (verified, dated by the fetch day)."""
    from liqmap.core.tiers import TierTable, build_tiers

    return TierTable(venue=venue, symbol=symbol, version=version, verified=True,
                     source=f"{venue} {symbol} tiers fetched {version} (test)",
                     tiers=build_tiers(((0, 1e6, 50, mmr), (1e6, float("inf"), 25, 2 * mmr))))


def test_a_stored_table_on_or_before_the_map_time_is_applied_and_named():
    from liqmap.core.tiers import get_tier_table
    from liqmap.model_setup import symbol_tier_table

    bars = replace(load_sample().take(slice(0, 600)), venue="bybit", symbol="ETH/USDT:USDT")
    first, last = int(bars.ts_ms[0]), int(bars.ts_ms[-1])  # 2025-12-01 .. 2025-12-03
    m = LiquidationModel(venue="bybit")
    plain = m.setup(bars)  # no stored table: bybit ETH is not shipped, the BTC fallback
    assert plain.tier_table == ("bybit BTCUSDT tiers 2023-01-01, not verified (fallback: no "
                                "bybit table for ETH/USDT:USDT is shipped)")
    on_day = _fetched("bybit", "ETHUSDT", "2025-12-03")  # the last bar's day counts
    later = _fetched("bybit", "ETHUSDT", "2025-12-04", mmr=0.02)
    older = _fetched("bybit", "ETHUSDT", "2025-11-01", mmr=0.03)
    stored = replace(bars, tier_tables=(older, on_day, later))
    s = m.setup(stored)
    assert s.tier_table == "bybit ETHUSDT tiers fetched 2025-12-03 (store)"
    assert symbol_tier_table(m, bars.symbol, stored=stored.tier_tables,
                             as_of_ms=last)[0] is on_day
    # the liquidation factors are the stored table's (50x max, 1 % mmr), not BTC's
    assert max(float(lv.max()) for lv in s.leverages) == 50.0
    assert max(float(lv.max()) for lv in plain.leverages) == 100.0
    assert not np.array_equal(s.channels[0].factor, plain.channels[0].factor)
    est = m.run(stored)
    assert est.summary()["tiers"] == s.tier_table
    assert not np.array_equal(est.final_map.long_usd, m.run(bars).final_map.long_usd)
    # a map at an earlier time takes the table in force then; before any fetch, none
    early = m.run(stored, at_ms=first + 60 * 60_000)  # 2025-12-01: only the November fetch
    assert early.tier_table == "bybit ETHUSDT tiers fetched 2025-11-01 (store)"
    only_later = replace(bars, tier_tables=(later,))
    assert m.setup(only_later).tier_table == (
        "bybit BTCUSDT tiers 2023-01-01, not verified (fallback: no bybit table for "
        "ETH/USDT:USDT is shipped or was fetched by 2025-12-03)")
    # another venue's table, or one older than the shipped one, is not the newest
    assert m.setup(replace(bars, tier_tables=(_fetched("okx", "ETH-USDT-SWAP",
                                                       "2025-11-01"),))).tier_table == (
        plain.tier_table)
    bin_eth = replace(bars, venue="binance",
                      tier_tables=(_fetched("binance", "ETHUSDT", "2025-11-01"),))
    shipped = get_tier_table("binance", "ETHUSDT")  # 2026-09-29, newer than the fetch
    with_store = LiquidationModel().setup(bin_eth).tier_table
    assert with_store == LiquidationModel().setup(replace(bin_eth, tier_tables=())).tier_table
    assert with_store.startswith(f"binance ETHUSDT tiers {shipped.version}")


def test_a_stored_table_of_any_coin_is_found_by_its_ccxt_symbol():
    from liqmap.core.tiers import get_tier_table

    doge = _fetched("bybit", "DOGEUSDT", "2025-11-01")
    okx = _fetched("okx", "DOGE-USDT-SWAP", "2025-11-01")
    assert get_tier_table("bybit", "DOGE/USDT:USDT", stored=[doge, okx]) is doge
    assert get_tier_table("okx", "DOGE/USDT:USDT", stored=[doge, okx]) is okx
    bars = replace(load_sample().take(slice(0, 300)), venue="bybit", symbol="DOGE/USDT:USDT",
                   tier_tables=(doge,))
    assert LiquidationModel(venue="bybit").setup(bars).tier_table == (
        "bybit DOGEUSDT tiers fetched 2025-11-01 (store)")
