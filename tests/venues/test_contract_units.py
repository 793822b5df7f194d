"""Contract units of the built-in symbols against the venues' recorded instrument lists.

OKX ``ctVal`` (``venues.okx.spec.CTVAL``) against ``/api/v5/public/instruments`` and
Hyperliquid ``szDecimals`` (``venues.hyperliquid.spec.SZ_DECIMALS``) against ``meta``, both
recorded 2026-09-25 (``tests/core/fixtures/``, sources in each file's ``_source``); unknown
symbols are refused with the known ones listed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from liqmap import ConfigError
from liqmap.core.tiers import get_tier_table
from liqmap.venues import venue_spec
from liqmap.venues.hyperliquid.spec import SZ_DECIMALS, size_decimals
from liqmap.venues.okx.spec import CTVAL, INVERSE_CONTRACT_USD

FIXTURES = Path(__file__).parents[1] / "core" / "fixtures"


def _load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_okx_ctval_is_the_recorded_instrument_list():
    data = _load("okx_instruments_swap_2026-09-25.json")["response"]["data"]
    linear = {d["ctValCcy"]: float(d["ctVal"]) for d in data
              if d["ctType"] == "linear" and d["settleCcy"] == "USDT"}
    assert linear == CTVAL == {"BTC": 0.01, "ETH": 0.1}
    inverse = next(d for d in data if d["instId"] == "BTC-USD-SWAP")
    assert float(inverse["ctVal"]) == INVERSE_CONTRACT_USD == 100.0  # USD per inverse contract
    for coin, ct_val in CTVAL.items():  # the tier tables size contracts the same way
        spec = venue_spec("okx", f"{coin}/USDT:USDT")
        assert spec.contract_size == ct_val
        assert get_tier_table("okx", spec.venue_symbol).contract_size == ct_val


def test_okx_unknown_ctval_lists_the_known_symbols():
    with pytest.raises(ConfigError, match=r"not built in \(known: BTC/USDT:USDT, ETH/USDT:USDT\)"):
        venue_spec("okx", "SOL/USDT:USDT")


def test_hyperliquid_sz_decimals_are_the_recorded_meta():
    universe = _load("hyperliquid_meta_eth_sol_2026-09-25.json")["response"]["universe"]
    recorded = {a["name"]: a["szDecimals"] for a in universe}
    assert {c: recorded[c] for c in SZ_DECIMALS} == SZ_DECIMALS == {"BTC": 5, "ETH": 4, "SOL": 2}
    assert size_decimals("ETH/USDC:USDC") == 4 and size_decimals("SOL") == 2


def test_hyperliquid_unknown_coin_lists_the_known_ones():
    with pytest.raises(ConfigError, match=r"szDecimals of 'DOGE' is not built in \(known: BTC, "
                                          r"ETH, SOL\)"):
        size_decimals("DOGE")
