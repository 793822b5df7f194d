"""Shared fixtures for the store tests: synthetic bars, realized liquidations, snapshots.

Helpers are given as pytest fixtures (not imported), so the tests run whether or not
``tests/`` is a package.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from liqmap.core.bars import Bars
from liqmap.store import MapSnapshot

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DAY_MS = 86_400_000
START_MS = 1_764_547_200_000  # 2025-12-01 00:00 UTC


def _bars(n: int = 600, *, start_ms: int = START_MS, bar_ms: int = 300_000, seed: int = 0,
          venue: str = "binance", symbol: str = "BTC/USDT:USDT", optional: bool = True,
          nan_funding: bool = True) -> Bars:
    rng = np.random.default_rng(seed)
    close = 88_000 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    open_ = np.r_[close[0], close[:-1]]
    extra = {}
    if optional:
        volume = rng.gamma(2.0, 40.0, n)
        buy = volume * rng.uniform(0.2, 0.8, n)
        funding = rng.normal(1e-4, 5e-5, n)
        if nan_funding:
            funding[: n // 3] = np.nan  # funding unknown before the first settlement
        extra = {"volume": volume, "taker_buy_volume": buy, "taker_delta": 2 * buy - volume,
                 "funding_rate": funding}
    return Bars(ts_ms=start_ms + bar_ms * np.arange(n, dtype=np.int64), open=open_,
                high=np.maximum(open_, close) * 1.001, low=np.minimum(open_, close) * 0.999,
                close=close, open_interest=85_000 + np.cumsum(rng.normal(0, 30, n)), **extra,
                venue=venue, symbol=symbol, source=f"synthetic seed {seed}")


def _snapshot(ts_ms: int = START_MS, *, bins: int = 50, seed: int = 0,
              venue: str = "binance", symbol: str = "BTC/USDT:USDT") -> MapSnapshot:
    rng = np.random.default_rng(seed)
    price = 88_000.0 + seed
    return MapSnapshot(venue=venue, symbol=symbol, ts_ms=ts_ms, price_usd=price,
                       price_bins_usd=price * np.linspace(0.8, 1.2, bins),
                       long_usd=rng.gamma(2.0, 1e6, bins), short_usd=rng.gamma(2.0, 1e6, bins),
                       params={"leverage": "all-leverage", "half_life_hours": [6, 12],
                               "seed": seed})


def _same_bars(a: Bars, b: Bars) -> None:
    assert (a.venue, a.symbol) == (b.venue, b.symbol)
    np.testing.assert_array_equal(a.ts_ms, b.ts_ms)
    assert a.ts_ms.dtype == b.ts_ms.dtype == np.int64
    for name in ("open", "high", "low", "close", "open_interest", "volume",
                 "taker_buy_volume", "taker_delta", "funding_rate"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is not None:
            np.testing.assert_array_equal(x, y, err_msg=name)  # NaN == NaN here


def _same_realized(a, b) -> None:
    assert (a.venue, a.symbol, len(a)) == (b.venue, b.symbol, len(b))
    for name in ("ts_ms", "side", "price", "qty_coin", "notional_usd"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def _same_snapshot(a: MapSnapshot, b: MapSnapshot) -> None:
    assert (a.venue, a.symbol, a.ts_ms, a.price_usd, a.params) == \
        (b.venue, b.symbol, b.ts_ms, b.price_usd, b.params)
    for name in ("price_bins_usd", "long_usd", "short_usd"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@pytest.fixture
def make_bars():
    """``make_bars(n, start_ms=, bar_ms=, seed=, venue=, symbol=, optional=)``."""
    return _bars


@pytest.fixture
def make_snapshot():
    """``make_snapshot(ts_ms, bins=, seed=, venue=, symbol=)``."""
    return _snapshot


@pytest.fixture
def same():
    """Field-by-field equality checks: ``same.bars``, ``same.realized``, ``same.snapshot``."""
    class _Same:
        bars = staticmethod(_same_bars)
        realized = staticmethod(_same_realized)
        snapshot = staticmethod(_same_snapshot)
    return _Same


@pytest.fixture
def fx():
    """``fx(name)``: path of a file in tests/fixtures."""
    return lambda name: FIXTURES / name
