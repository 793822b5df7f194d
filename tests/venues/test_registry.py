"""The venue registry and the shape of every venue folder (``venues/_template/README.md``)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from liqmap import ConfigError
from liqmap.core.tiers import VENUES as RULE_VENUES
from liqmap.venues import (
    ARCHIVES,
    CCXT_VENUES,
    LIVE_VENUES,
    VENUE_ALIASES,
    VENUES,
    VenueConfig,
    VenueSpec,
    listed_symbol,
    live_clients,
    venue_of,
    venue_spec,
)
from liqmap.venues._shared.loopback import LoopbackServer
from liqmap.venues._shared.rest import RestBars

ROOT = Path(importlib.import_module("liqmap.venues").__file__).parent
FOLDERS = sorted(p.name for p in ROOT.iterdir()
                 if p.is_dir() and (p / "__init__.py").is_file() and not p.name.startswith("_"))
SHAPE = {"__init__.py", "spec.py", "history.py", "live.py", "loopback.py"}
OPTIONAL = {"files.py"}
SPEC_NAMES = ("NAME", "RULES", "CCXT_IDS", "ID_EXAMPLES", "ccxt_symbol", "listed_symbol",
              "symbol_spec", "spec_from_market")


def test_every_folder_is_registered_once_under_its_name():
    assert sorted(VENUES) == FOLDERS
    assert list(VENUES) == ["binance", "bybit", "okx", "hyperliquid"]
    for name, module in VENUES.items():
        assert module.NAME == name == module.__name__.rsplit(".", 1)[1]


@pytest.mark.parametrize("name", sorted(VENUES))
def test_every_folder_has_the_template_shape(name):
    files = {p.name for p in (ROOT / name).glob("*.py")}
    assert files >= SHAPE and files <= SHAPE | OPTIONAL, sorted(files)
    template = {p.name for p in (ROOT / "_template").glob("*.py")}
    assert template == SHAPE | OPTIONAL
    module = VENUES[name]
    for attr in SPEC_NAMES + ("CCXT", "LIVE_CLIENTS"):
        assert hasattr(module, attr), f"{name} lacks {attr}"
    assert all(isinstance(c, VenueConfig) for c in module.CCXT)
    stream, rest = module.LIVE_CLIENTS
    assert stream.venue == rest.venue == name and issubclass(rest, RestBars)
    loopbacks = [v for v in vars(module).values()
                 if isinstance(v, type) and issubclass(v, LoopbackServer)]
    assert [lb.venue for lb in loopbacks] == [name]


def test_the_pure_rules_stay_in_the_core():
    ids = {rules for m in VENUES.values() for rules in m.RULES.values()}
    assert ids == set(RULE_VENUES)  # every rules id a folder names exists, and has a folder
    assert {v for m in VENUES.values() for v in m.CCXT_IDS.values()} == set(RULE_VENUES)
    assert set(VENUE_ALIASES.values()) <= set(RULE_VENUES)
    assert venue_of("binance-inverse") is VENUES["binance"] and venue_of("ftx") is None


def test_lists_built_from_the_folders():
    assert list(CCXT_VENUES) == ["binanceusdm", "bybit", "okx", "hyperliquid"]
    assert list(ARCHIVES) == ["binance"]
    assert LIVE_VENUES == ("binance", "bybit", "okx", "hyperliquid")
    assert [c.__name__ for c in live_clients("okx")] == ["OkxStream", "OkxRest"]
    with pytest.raises(ConfigError, match="no live client for venue 'ftx': use binance, bybit"):
        live_clients("ftx")


def test_specs_and_listed_symbols_come_from_the_folders():
    assert venue_spec("okx", "BTC/USDT:USDT") == VenueSpec(
        "okx", "BTC/USDT:USDT", "BTC-USDT-SWAP", contract_size=0.01, rules="okx")
    assert venue_spec("binance", "BTC/USD:BTC").rules == "binance-inverse"
    with pytest.raises(ConfigError, match="no contract rules for venue 'ftx': use binance, "
                                          "bybit, okx or hyperliquid"):
        venue_spec("ftx", "BTC/USDT:USDT")
    assert listed_symbol("hyperliquid", "ETH/USDT:USDT") == "ETH/USDC:USDC"
    assert listed_symbol("ftx", "ETH/USDT:USDT") == "ETH/USDT:USDT"
