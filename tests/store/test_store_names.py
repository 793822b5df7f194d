"""Venue and symbol names the store keeps: known venues, ccxt aliases, ccxt symbols."""

from __future__ import annotations

from dataclasses import replace

import pytest

from liqmap import ConfigError, InputError
from liqmap.core.tiers import VENUES
from liqmap.store import DuckDBStore, canonical_series
from liqmap.venues import VENUE_ALIASES

BTC = "BTC/USDT:USDT"


@pytest.mark.parametrize("venue, symbol, want", [
    ("binance", BTC, ("binance", BTC)),
    ("Binance", "BTCUSDT", ("binance", BTC)),
    ("binanceusdm", "btcusdt", ("binance", BTC)),
    ("binanceusdm", "1000PEPEUSDT", ("binance", "1000PEPE/USDT:USDT")),
    ("binance", "BTCUSDT_250328", ("binance", "BTC/USDT:USDT-250328")),
    ("binancecoinm", "BTCUSD_PERP", ("binance-inverse", "BTC/USD:BTC")),
    ("binance-inverse", "BTCUSD_250328", ("binance-inverse", "BTC/USD:BTC-250328")),
    ("BYBIT", "BTCUSD", ("bybit", "BTC/USD:BTC")),
    ("bybit", "ETHUSDC", ("bybit", "ETH/USDC:USDC")),
    ("okx", "BTC-USDT-SWAP", ("okx", BTC)),
    ("okx", "eth-usd-swap", ("okx", "ETH/USD:ETH")),
    ("hyperliquid", "BTC", ("hyperliquid", "BTC/USDC:USDC")),
    ("hyperliquid", "kPEPE", ("hyperliquid", "kPEPE/USDC:USDC")),
    ("hyperliquid", "kPEPE/USDC:USDC", ("hyperliquid", "kPEPE/USDC:USDC")),
    (" okx ", " btc/usdt:usdt ", ("okx", BTC)),
])
def test_known_spellings_become_the_canonical_series(venue, symbol, want):
    assert canonical_series(venue, symbol) == want
    assert canonical_series(*want) == want  # canonical names are a fixed point


@pytest.mark.parametrize("venue, symbol, match", [
    ("junk", BTC, "unknown venue 'junk'; use one of binance, binance-inverse, bybit"),
    ("", BTC, "venue is empty"),
    (None, BTC, "venue is empty"),
    ("binance", "", "symbol is empty"),
    ("binance", "BTC/USDT", "spot symbol"),
    ("binance", "ETHBTC", "not understood for binance"),
    ("okx", "BTCUSDT", "not understood for okx; give .* BTC-USDT-SWAP"),
    ("binance", "BTC/USDT:USDT; DROP", "not understood"),
])
def test_unknown_names_raise_config_errors_listing_what_is_allowed(venue, symbol, match):
    with pytest.raises(ConfigError, match=match):
        canonical_series(venue, symbol)


def test_every_alias_points_at_a_known_venue():
    assert set(VENUE_ALIASES.values()) <= set(VENUES)


def test_writes_store_canonical_names_and_refuse_unknown_ones(make_bars, make_snapshot):
    st = DuckDBStore()
    st.write_bars(make_bars(10, venue="binanceusdm", symbol="BTCUSDT"))
    st.write_snapshot(make_snapshot(int(make_bars(1).ts_ms[0]), venue="Binance"))
    assert {(s.table, s.venue, s.symbol) for s in st.series()} == {
        ("bars", "binance", BTC), ("snapshots", "binance", BTC)}
    for bad in (replace(make_bars(5), venue="Binanse"), replace(make_bars(5), symbol="BTC")):
        with pytest.raises(InputError):
            st.write_bars(bad)
    assert [s.rows for s in st.series()] == [10, 1]
