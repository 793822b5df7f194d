"""Shared fixtures of the OKX tests."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

FORCE = Path(__file__).resolve().parents[2] / "fixtures" / "forceorder_allsymbols_sample.csv"


@pytest.fixture(scope="session")
def okx_details() -> list[dict]:
    """The recorded Binance BTCUSDT force orders as OKX ``details[]`` (sz in contracts)."""
    with FORCE.open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["symbol_stripped"] == "BTC"]
    return [{"bkLoss": "0", "bkPx": r["average_price"], "ccy": "",
             "posSide": "long" if r["side"] == "SELL" else "short", "side": r["side"].lower(),
             "sz": f"{float(r['accumulated_filled_quantity']) / 0.01:.4f}",
             "ts": r["trade_time_ms"]} for r in rows]
