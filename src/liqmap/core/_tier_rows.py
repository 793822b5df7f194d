"""ETH and SOL tier tables as plain rows, each with its recorded source (read by ``tiers``).

Every row set here was read from a recorded venue answer, kept as a fixture under
``tests/core/fixtures/`` and checked against it by ``tests/core/test_tiers_symbols.py``.
Rows are ``(floor, cap, max_leverage, mmr)``; ``cum`` is derived by
:func:`liqmap.core.tiers.build_tiers`. Venue/symbol pairs with no recorded answer are
left out and listed in :data:`MISSING`, with what would be needed.

Examples
--------
>>> sorted({(t["venue"], t["symbol"]) for t in TABLE_ROWS})[:2]
[('binance', 'ETHUSDT'), ('binance', 'SOLUSDT')]
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["MISSING", "TABLE_ROWS"]

INF = math.inf

_FREQTRADE = (
    "freqtrade 2026.9 (PyPI wheel), freqtrade/exchange/binance_leverage_tiers.json: Binance "
    "/fapi/v1/leverageBracket answers (a signed endpoint) recorded as ccxt LeverageTier records, "
    "the wheel's file dated 2026-09-29 (no date of its own: version = that day). "
)
_BYTEX = "BYTEX-TRADE/bytex tests/Bytex.Adapters.Tests/Fixtures/"

#: The shipped ETH and SOL tables: keyword arguments of ``TierTable`` with ``rows``.
TABLE_ROWS: tuple[dict[str, Any], ...] = (
    {
        "venue": "binance", "symbol": "ETHUSDT", "version": "2026-09-29", "verified": True,
        "source": _FREQTRADE + (
            "ETH/USDT:USDT, 12 brackets; Binance's own cum per bracket agrees with the "
            "recurrence. Last bracket (cap 1.2B) extended to infinity."),
        "rows": (
            (0, 300e3, 150, 0.004), (300e3, 800e3, 100, 0.005), (800e3, 3e6, 75, 0.0065),
            (3e6, 12e6, 50, 0.01), (12e6, 50e6, 25, 0.02), (50e6, 65e6, 20, 0.025),
            (65e6, 150e6, 10, 0.05), (150e6, 320e6, 5, 0.10), (320e6, 400e6, 4, 0.125),
            (400e6, 530e6, 3, 0.15), (530e6, 800e6, 2, 0.25), (800e6, INF, 1, 0.50),
        ),
    },
    {
        "venue": "binance", "symbol": "SOLUSDT", "version": "2026-09-29", "verified": True,
        "source": _FREQTRADE + (
            "SOL/USDT:USDT, 10 brackets; Binance's own cum per bracket agrees with the "
            "recurrence. Last bracket (cap 400M) extended to infinity."),
        "rows": (
            (0, 50e3, 100, 0.005), (50e3, 400e3, 75, 0.0065), (400e3, 1e6, 50, 0.01),
            (1e6, 4e6, 25, 0.02), (4e6, 8e6, 20, 0.025), (8e6, 40e6, 10, 0.05),
            (40e6, 80e6, 5, 0.10), (80e6, 100e6, 4, 0.125), (100e6, 200e6, 2, 0.25),
            (200e6, INF, 1, 0.50),
        ),
    },
    {
        "venue": "okx", "symbol": "ETH-USDT-SWAP", "version": "2026-09-25", "verified": False,
        "source": (
            "OKX ETH-USDT-SWAP tier 1 as recorded from the live venue on 2026-09-25: GET "
            "/api/v5/public/position-tiers?instType=SWAP&tdMode=cross&instFamily=ETH-USDT -> "
            "tier 1, minSz 0, maxSz 5,000 contracts (500 ETH at ctVal 0.1), mmr 0.004, imr "
            "0.01, maxLever 100 (" + _BYTEX + "OkxPayloads.cs@134941fc, SwapTiers; ctVal 0.1 "
            "ETH from SwapInstruments of the same recording). Tiers 2+ (above 500 ETH) are NOT "
            "verified (no recording found), so tier 1 is applied to every size."),
        "rows": ((0, INF, 100, 0.004),),
        "contract_size": 0.1, "notional_unit": "coin",
    },
    {
        "venue": "hyperliquid", "symbol": "ETH", "version": "2026-09-25", "verified": True,
        "source": (
            "Hyperliquid ETH margin table 55 'tiered 25x': 25x up to 100M USDC notional, 15x "
            "above, from POST /info {type: meta} captured live on 2026-09-25 (" + _BYTEX +
            "HyperliquidPayloads.cs@fa4ef46b, Meta). MMR = half the initial margin at max "
            "leverage (Hyperliquid docs 'Margin tiers'): 2% then 3.33%."),
        "rows": ((0, 100e6, 25, 0.5 / 25), (100e6, INF, 15, 0.5 / 15)),
    },
    {
        "venue": "hyperliquid", "symbol": "SOL", "version": "2026-09-25", "verified": True,
        "source": (
            "Hyperliquid SOL margin table 54 'tiered 20x (2)': 20x up to 70M USDC notional, "
            "10x above, from POST /info {type: meta} captured live on 2026-09-25 (" + _BYTEX +
            "HyperliquidPayloads.cs@fa4ef46b, Meta). MMR = half the initial margin at max "
            "leverage (Hyperliquid docs 'Margin tiers'): 2.5% then 5%."),
        "rows": ((0, 70e6, 20, 0.5 / 20), (70e6, INF, 10, 0.5 / 10)),
    },
)

#: Venue/symbol pairs left out: no recorded venue answer was found. Value: what is needed.
MISSING: dict[tuple[str, str], str] = {
    ("bybit", "ETHUSDT"): (
        "a recorded GET /v5/market/risk-limit?category=linear&symbol=ETHUSDT answer (public, "
        "no key) with its date"),
    ("bybit", "SOLUSDT"): (
        "a recorded GET /v5/market/risk-limit?category=linear&symbol=SOLUSDT answer (public, "
        "no key) with its date"),
    ("okx", "SOL-USDT-SWAP"): (
        "a recorded GET /api/v5/public/position-tiers?instType=SWAP&tdMode=cross&instFamily="
        "SOL-USDT answer and the SOL-USDT-SWAP entry (ctVal) of /api/v5/public/instruments, "
        "with their dates"),
}
