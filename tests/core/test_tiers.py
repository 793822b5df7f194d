"""Tier tables: the cum recurrence, lookup, versions and shipped sources."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liqmap import ConfigError
from liqmap.core.tiers import (
    VENUES,
    MarginTier,
    TierTable,
    build_tiers,
    get_tier_table,
    list_tier_tables,
)

# METHOD.md section 1: Binance BTCUSDT cum column, snapshot 2024-10-24
METHOD_BINANCE_CUM = [
    0, 50, 950, 11_450, 131_450, 481_450, 2_981_450, 14_481_450, 26_481_450, 41_481_450,
    121_481_450, 421_481_450,
]


def test_binance_2024_cum_reproduces_method_column():
    table = get_tier_table("binance", version="2024-10-24")
    assert [t.cum_usd for t in table.tiers] == pytest.approx(METHOD_BINANCE_CUM, abs=1e-6)
    assert [t.max_leverage for t in table.tiers] == [125, 100, 75, 50, 25, 20, 10, 5, 4, 3, 2, 1]


def test_binance_2021_cum_matches_published_maintenance_amounts():
    # Binance FAQ: level 3 maintenance amount = 250,000 x (1% - 0.5%) + 50 = 1,300 USDT
    table = get_tier_table("binance", version="2021-03-26")
    assert [t.cum_usd for t in table.tiers[:4]] == pytest.approx([0, 50, 1_300, 16_300])
    assert table.tier_for(500_000).cum_usd == pytest.approx(1_300)
    assert table.tier_for(264_000).mmr == 0.01  # FAQ: 264,000 USDT position -> 1 %


def test_coin_m_bracket_matches_binance_faq_example():
    # Binance COIN-M FAQ: a 300 BTC BTCUSD position has MMR 12.5 % and cum 11.605 BTC
    table = get_tier_table("binance-inverse")
    tier = table.tier_for(300.0)
    assert (tier.mmr, tier.cum_usd) == (0.125, pytest.approx(11.605))
    assert table.inverse and table.notional_unit == "coin" and table.contract_size == 100.0


def test_other_tables_tier_one_and_deductions():
    bybit = get_tier_table("bybit")
    assert (bybit.tiers[0].mmr, bybit.tiers[0].max_leverage) == (0.005, 100)
    assert bybit.tiers[1].cum_usd == pytest.approx(10_000)  # 2M x (1 % - 0.5 %)
    assert bybit.tiers[1].max_leverage == pytest.approx(57.14)
    okx = get_tier_table("okx")
    assert (okx.tiers[0].mmr, okx.tiers[0].max_leverage, okx.contract_size) == (0.004, 100, 0.01)
    hl = get_tier_table("hyperliquid")
    assert [(t.mmr, t.max_leverage) for t in hl.tiers] == [(0.0125, 40), (0.025, 20)]
    assert hl.tiers[1].cum_usd == pytest.approx(150e6 * 0.0125)


def test_tier_lookup_half_open_and_beyond_last_cap():
    table = get_tier_table("binance")
    assert table.tier_for(49_999.99).mmr == 0.004
    assert table.tier_for(50_000).mmr == 0.005
    assert table.tier_for(-60_000).mmr == 0.005  # a short's size counts like a long's
    assert table.tier_for(5e12).mmr == 0.5
    assert table.maintenance_margin(100_000) == pytest.approx(100_000 * 0.005 - 50)


def test_maintenance_margin_is_continuous_at_every_boundary():
    for table in list_tier_tables():
        for lo, hi in zip(table.tiers, table.tiers[1:]):
            b = hi.floor_usd
            assert lo.maintenance_margin(b) == pytest.approx(hi.maintenance_margin(b), rel=1e-12)


@pytest.mark.parametrize("table", list_tier_tables(), ids=lambda t: f"{t.venue}-{t.version}")
@given(a=st.floats(0, 5e9), b=st.floats(0, 5e9))
def test_tier_lookup_is_monotone(table, a, b):
    lo, hi = sorted((a, b))
    t_lo, t_hi = table.tier_for(lo), table.tier_for(hi)
    assert t_lo.mmr <= t_hi.mmr
    assert t_lo.max_leverage >= t_hi.max_leverage
    assert table.maintenance_margin(lo) <= table.maintenance_margin(hi) + 1e-6


def test_versions_select_table_in_force():
    assert get_tier_table("binance").version == "2024-10-24"
    assert get_tier_table("binance", version="2022-05-01").version == "2021-03-26"
    assert get_tier_table("binance", version="2024-10-24").version == "2024-10-24"
    assert get_tier_table("binance", "BTC/USDT:USDT").symbol == "BTCUSDT"
    with pytest.raises(ConfigError, match="shipped versions: 2021-03-26, 2024-10-24"):
        get_tier_table("binance", version="2019-01-01")
    with pytest.raises(ConfigError, match="YYYY-MM-DD"):
        get_tier_table("binance", version="latest")


def test_every_venue_has_a_sourced_table():
    venues = {t.venue for t in list_tier_tables()}
    assert venues == set(VENUES)
    for table in list_tier_tables():
        assert len(table.source) > 40 and table.version[:2] == "20"
        assert math.isinf(table.tiers[-1].cap_usd)


def test_unverified_tables_say_so():
    for venue in ("binance-inverse", "bybit", "okx"):
        assert "NOT verified" in get_tier_table(venue).source


def test_bad_lookups_raise_config_error():
    with pytest.raises(ConfigError, match="unknown venue 'ftx'; use one of"):
        get_tier_table("ftx")
    with pytest.raises(ConfigError, match="no tier table for binance 'DOGEUSDT'"):
        get_tier_table("binance", "DOGEUSDT")
    with pytest.raises(ConfigError, match="notional must be a number"):
        get_tier_table("binance").tier_for(float("nan"))


def test_malformed_table_rejected():
    gap = (MarginTier(0, 10, 10, 0.01, 0), MarginTier(20, math.inf, 5, 0.02, 0.2))
    with pytest.raises(ConfigError, match="contiguous"):
        TierTable("binance", "X", "2024-01-01", "test", gap)
    with pytest.raises(ConfigError, match="start at 0"):
        TierTable("binance", "X", "2024-01-01", "test", build_tiers(((5, math.inf, 10, 0.01),)))


def test_records_are_frozen():
    tier = get_tier_table("binance").tiers[0]
    with pytest.raises(AttributeError):
        tier.mmr = 0.5  # type: ignore[misc]


@pytest.mark.parametrize("version", ["2024-02-30", "2024-13-01", "2024-1-01", "２０２４-01-01"])
def test_a_version_must_be_a_calendar_date(version):
    with pytest.raises(ConfigError, match="YYYY-MM-DD"):
        get_tier_table("binance", version=version)
