"""Scorecard window C: 5-minute Binance perpetual bars scored on 30-minute realized liquidations.

Sources (``raw/coinglass_ismethanhtung``, see ``raw/SOURCES.md``):

- ``binance_fapi_BTCUSDT_5m_ohlc_oi_funding_cvd_*.csv.gz``: Binance USD-M BTCUSDT **perpetual**
  5-minute OHLC (``fapi/v1/klines``), open interest in **USD** (``openInterestHist``),
  funding as a fraction, and ``cvd_*`` = running taker delta that restarts in every
  ``fetch_batch_commit``. The row at ``t`` carries the open-interest snapshot taken at
  ``t`` (the bar's *open*; it equals Binance's metrics archive at ``t``), so the open
  interest at a bar's close is the next row's value, converted to BTC at the bar's close
  price. The last bar (no next snapshot) is dropped.
- ``coinglass_BTC_regime_30m_*.csv.gz``: realized long/short liquidations per 30 minutes, USD,
  Binance+Bybit+OKX (a lower bound), to 2026-06-08T16:00.

Scoring bars are the realized series' 30-minute bars that six engine bars cover completely:
the realized series is already at the scoring bar size, and the engine's per-bar predictions
are summed into it (30-minute realized values are never split into 5-minute guesses).
Engine bars after the last realized bar are not loaded (they include 2026-06-14 -> 06-20,
where the source forward-filled missing open interest). Taker delta is the within-batch
difference of ``cvd_close``; the first bar of each batch gets 0 (unknown).

>>> win = load_window_c(WINDOWS["C"], default_data_dir())   # doctest: +SKIP
>>> win.bars.bar_ms, win.spec.score_ms                      # doctest: +SKIP
(300000, 1800000)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from liqmap._exceptions import ConfigError, DataError
from liqmap.core.bars import Bars
from liqmap.io.coinglass import read_realized
from liqmap.scorecard.windows import (
    WINDOWS,
    WindowData,
    WindowSpec,
    default_data_dir,
    oi_at_close,
    one_file,
    read_oi_5m,
)

__all__ = ["load_window_c", "read_fapi_bars"]

_FAPI_COLS = ("timestamp", "price_open", "price_high", "price_low", "price_close",
              "funding_close", "oi_close", "cvd_close", "fetch_batch_commit")
_CHECK_OI_GLOB = "raw/binance_um_hlreaper/BTCUSDT_metrics_oi_5m_*.csv.gz"


def _read_fapi_frame(path: Path) -> pd.DataFrame:
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read ({exc}); pass the binance_fapi_BTCUSDT_5m_* file",
                        source=str(path)) from None
    miss = [c for c in _FAPI_COLS if c not in df.columns]
    if miss:
        raise DataError(f"missing columns {miss}; pass the binance_fapi_BTCUSDT_5m_* file",
                        source=str(path))
    df = df.sort_values("timestamp").drop_duplicates("timestamp", keep="last")
    return df.reset_index(drop=True)


def _taker_delta(cvd: np.ndarray, batch: np.ndarray) -> np.ndarray:
    new_batch = np.r_[True, batch[1:] != batch[:-1]]
    delta = np.diff(cvd, prepend=0.0)
    delta[new_batch] = 0.0
    return delta


def read_fapi_bars(path) -> Bars:
    """5-minute perpetual bars with open interest (BTC) at each bar's close.

    Parameters
    ----------
    path : path-like
        ``binance_fapi_BTCUSDT_5m_ohlc_oi_funding_cvd_*.csv.gz``.

    Returns
    -------
    Bars
        One bar fewer than the file (the last bar has no closing open interest).
    """
    path = Path(path)
    df = _read_fapi_frame(path)
    ts = df["timestamp"].to_numpy(np.int64)
    if ts.size < 3 or np.any(np.diff(ts) != 300_000):
        raise DataError("expected gap-free 5-minute rows", source=path.name)
    close = df["price_close"].to_numpy(np.float64)
    oi_close_usd = df["oi_close"].to_numpy(np.float64)[1:]
    delta = _taker_delta(df["cvd_close"].to_numpy(np.float64),
                         df["fetch_batch_commit"].astype(str).to_numpy())
    keep = slice(0, ts.size - 1)
    return Bars(ts_ms=ts[keep], open=df["price_open"].to_numpy(np.float64)[keep],
                high=df["price_high"].to_numpy(np.float64)[keep],
                low=df["price_low"].to_numpy(np.float64)[keep], close=close[keep],
                open_interest=oi_close_usd / close[keep], taker_delta=delta[keep],
                funding_rate=df["funding_close"].to_numpy(np.float64)[keep],
                venue="binance", symbol="BTC/USDT:USDT", source=path.name)


def _oi_check(root: Path, bars: Bars) -> float:
    """Median relative difference to Binance's metrics archive (NaN when absent)."""
    hits = sorted(root.glob(_CHECK_OI_GLOB))
    if not hits:
        return float("nan")
    t5, oi5 = read_oi_5m(hits[-1])
    inside = bars.ts_ms + bars.bar_ms <= t5[-1]
    ref = oi_at_close(bars.ts_ms[inside], bars.bar_ms, t5, oi5, source=hits[-1].name)
    return float(np.median(np.abs(bars.open_interest[inside] / ref - 1.0)))


def load_window_c(spec: WindowSpec | None = None, root=None, *, start_ms: int | None = None,
                  end_ms: int | None = None) -> WindowData:
    """Window C: 5-minute engine bars, 30-minute realized scoring bars.

    Parameters
    ----------
    spec : WindowSpec, optional
        Default ``WINDOWS["C"]``.
    root : path-like, optional
        Shared data folder; default :func:`default_data_dir`.
    start_ms, end_ms : int, optional
        Keep engine bars and scoring bars opening in ``[start_ms, end_ms)``.

    Returns
    -------
    WindowData
    """
    spec = spec or WINDOWS["C"]
    root = Path(root) if root is not None else default_data_dir()
    fapi = one_file(root, spec.oi_glob)
    regime = one_file(root, spec.regime_glob)
    bars = read_fapi_bars(fapi)
    real = read_realized(regime)
    lo = -np.inf if start_ms is None else start_ms
    hi = np.inf if end_ms is None else end_ms
    last_end = int(real.ts_ms[-1]) + spec.score_ms
    bars = bars.take((bars.ts_ms >= lo) & (bars.ts_ms < min(hi, last_end)))
    if len(bars) < 2:
        raise ConfigError("fewer than 2 bars between start and end; widen the slice")
    covered = (real.ts_ms >= bars.ts_ms[0]) & (real.ts_ms + spec.score_ms
                                                <= bars.ts_ms[-1] + spec.bar_ms)
    covered &= (real.ts_ms >= lo) & (real.ts_ms < hi)
    score_ts = real.ts_ms[covered]
    if score_ts.size < 2:
        raise ConfigError("fewer than 2 realized 30-minute bars in the slice; widen it")
    step = np.diff(real.ts_ms, prepend=real.ts_ms[0] - spec.score_ms)
    after_gap = (step > spec.score_ms)[covered]
    gaps = tuple(int(t) for i in np.flatnonzero(step > spec.score_ms)
                 for t in range(int(real.ts_ms[i] - step[i] + spec.score_ms),
                                int(real.ts_ms[i]), spec.score_ms))
    notes = (
        "price: Binance USD-M BTCUSDT perpetual 5-minute OHLC (fapi klines)",
        "open interest: Binance openInterestHist (USD) at each bar's close (the next row's "
        "snapshot), converted to BTC at the close price",
        "realized: Coinglass aggregated liquidations per 30 minutes, Binance+Bybit+OKX, USD "
        "(a lower bound); engine predictions are summed over the six 5-minute bars",
        "window C is entirely out of sample: the preset is applied unchanged",
        f"{len(gaps)} missing realized 30-minute bars",
    )
    return WindowData(spec=spec, bars=bars, realized_long_usd=real.long_usd[covered],
                      realized_short_usd=real.short_usd[covered], after_gap=after_gap,
                      gaps_ms=gaps, oi_rel_diff_median=_oi_check(root, bars), notes=notes,
                      score_ts_ms=score_ts)
