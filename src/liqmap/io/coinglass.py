"""Readers for the Coinglass exports of windows A and C (``raw/coinglass_ismethanhtung``).

- "regime" files (``coinglass_BTC_regime_{1h,30m}_*.csv.gz``): Binance **spot** OHLC, realized
  liquidations long/short in USD summed over Binance, Bybit and OKX, Binance BTCUSDT funding
  (**percent** per 8 h) and open interest (USD, OHLC); ``cvd_*`` is all zero.
- liquidation-only files (``coinglass_BTC_liquidation_{1h,30m}_*.csv.gz``): ``timestamp,
  datetime_utc, longUsd, shortUsd, totalUsd``.

:func:`read_realized` returns a :class:`RealizedSeries` (per-bar realized long/short USD);
:func:`read_regime_bars` returns ``Bars`` (open interest converted to BTC at the bar close,
funding to a fraction) for running the engine on window A.

Realized feeds undercount (``METHOD.md`` §2): treat the series as a lower bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from liqmap._exceptions import DataError
from liqmap.core.bars import Bars

__all__ = ["RealizedSeries", "coinglass_files", "read_realized", "read_regime_bars"]

_SUBDIR = "raw/coinglass_ismethanhtung"
_LONG = ("liquidation_long_usd", "longUsd")
_SHORT = ("liquidation_short_usd", "shortUsd")


@dataclass(frozen=True, slots=True)
class RealizedSeries:
    """Realized liquidations per bar: ``ts_ms`` (bar open), ``long_usd``, ``short_usd``.

    ``interval_ms`` is the bar length; ``source`` the file.
    """

    ts_ms: np.ndarray
    long_usd: np.ndarray
    short_usd: np.ndarray
    interval_ms: int
    source: str = "<arrays>"

    def between(self, start_ms: int, end_ms: int) -> tuple[float, float]:
        """Sums ``(long_usd, short_usd)`` of bars opening in ``[start_ms, end_ms)``."""
        k = (self.ts_ms >= start_ms) & (self.ts_ms < end_ms)
        return float(self.long_usd[k].sum()), float(self.short_usd[k].sum())


def coinglass_files(pattern: str = "*", root: str | Path | None = None) -> list[Path]:
    """Files of the Coinglass folder matching ``pattern`` (default root: shared data)."""
    from liqmap.io.shared_data import shared_data_dir

    base = Path(root) if root is not None else shared_data_dir()
    d = None if base is None else base / _SUBDIR
    if d is None or not d.is_dir():
        raise DataError("Coinglass exports not found; set LIQMAP_SHARED_DATA to the shared "
                        "data folder (the one holding raw/coinglass_ismethanhtung)", source=str(d))
    return sorted(d.glob(pattern))


def _frame(path) -> pd.DataFrame:
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read ({exc}); pass a Coinglass CSV(.gz) export",
                        source=str(path)) from None
    if "timestamp" not in df.columns:
        raise DataError("no 'timestamp' column; pass a Coinglass export", source=str(path))
    df = df.sort_values("timestamp").drop_duplicates("timestamp", keep="last")
    return df.reset_index(drop=True)


def _col(df: pd.DataFrame, names, path) -> np.ndarray:
    for n in names:
        if n in df.columns:
            return df[n].to_numpy(np.float64)
    raise DataError(f"none of the columns {names} found", source=str(path))


def read_realized(path) -> RealizedSeries:
    """Realized long/short liquidations (USD per bar) from a regime or liquidation file."""
    df = _frame(path)
    ts = df["timestamp"].to_numpy(np.int64)
    iv = int(np.median(np.diff(ts))) if ts.size > 1 else 0
    return RealizedSeries(ts, _col(df, _LONG, path), _col(df, _SHORT, path), iv,
                          Path(path).name)


def read_regime_bars(path) -> Bars:
    """Bars from a regime file: spot OHLC, Binance OI in BTC (``oi_close / close``), funding
    as a fraction. Venue ``binance``, symbol ``BTC/USDT:USDT``."""
    df = _frame(path)
    need = ["price_open", "price_high", "price_low", "price_close", "oi_close", "funding_close"]
    miss = [c for c in need if c not in df.columns]
    if miss:
        raise DataError(f"missing columns {miss}; pass a coinglass_BTC_regime_* file",
                        source=str(path))
    close = df["price_close"].to_numpy(np.float64)
    return Bars(ts_ms=df["timestamp"].to_numpy(np.int64),
                open=df["price_open"].to_numpy(np.float64),
                high=df["price_high"].to_numpy(np.float64),
                low=df["price_low"].to_numpy(np.float64), close=close,
                open_interest=df["oi_close"].to_numpy(np.float64) / close,
                funding_rate=df["funding_close"].to_numpy(np.float64) / 100.0,
                venue="binance", symbol="BTC/USDT:USDT", source=Path(path).name)
