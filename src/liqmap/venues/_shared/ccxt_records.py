"""ccxt records (already fetched) into ``Bars`` and ``RealizedLiquidations``.

liqmap does not call ccxt; hand it what these methods returned:

* ``fetch_ohlcv(symbol, timeframe)``: lists ``[timestamp, open, high, low, close, volume]``.
* ``fetch_open_interest_history(symbol, timeframe)``: ``OpenInterest`` dicts with
  ``timestamp``, ``openInterestAmount`` (contracts) and/or ``openInterestValue`` (quote).
  A record stamped ``t`` is the OI at ``t``; each bar takes the snapshot at its close.
* ``fetch_funding_rate_history(symbol)``: dicts with ``timestamp`` and ``fundingRate``
  (per funding interval, 8 h unless told otherwise); each bar takes the last settlement
  at or before its close.
* ``fetch_liquidations`` / ``watch_liquidations``: ``Liquidation`` dicts with
  ``timestamp, side, price, contracts, contractSize, baseValue, quoteValue``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from liqmap._exceptions import DataError
from liqmap.core.bars import Bars
from liqmap.core.realized import LONG_LIQUIDATED, SHORT_LIQUIDATED, RealizedLiquidations
from liqmap.io import OI_STAMP_JITTER_MS, asof_at_close, funding_to_8h
from liqmap.io.validate import bars_from_frame

__all__ = ["bars_from_ccxt", "liquidations_from_ccxt"]

_OHLCV = ("ts_ms", "open", "high", "low", "close", "volume")
#: ccxt ``Liquidation.side``: the liquidated *position* ("long"/"short") on most venues,
#: the liquidation *order* ("sell" closes a long, "buy" a short) on others.
_LIQ_SIDES = {"long": LONG_LIQUIDATED, "sell": LONG_LIQUIDATED,
              "short": SHORT_LIQUIDATED, "buy": SHORT_LIQUIDATED}


def _num(value: Any) -> float:
    try:
        return float(value) if value is not None else np.nan
    except (TypeError, ValueError):
        return np.nan


def _ohlcv_frame(ohlcv: Sequence[Sequence[float]], source: str) -> pd.DataFrame:
    for i, row in enumerate(ohlcv):
        if len(row) < 5:
            raise DataError(f"an OHLCV row needs [timestamp, open, high, low, close, volume], "
                            f"got {list(row)!r}; pass fetch_ohlcv's output unchanged",
                            source=source, row=i)
    rows = [list(r[:6]) + [None] * (6 - len(r[:6])) for r in ohlcv]
    frame = pd.DataFrame(rows, columns=list(_OHLCV))
    if frame["volume"].isna().all():
        frame = frame.drop(columns="volume")
    return frame


def _oi_arrays(records: Iterable[Mapping], contract_size: float, source: str):
    ts, base, usd = [], [], []
    for i, rec in enumerate(records):
        t = _num(rec.get("timestamp"))
        if not np.isfinite(t):
            raise DataError("open-interest record has no timestamp; pass "
                            "fetch_open_interest_history's output unchanged", source=source, row=i)
        ts.append(int(t))
        base.append(_num(rec.get("openInterestAmount")) * contract_size)
        usd.append(_num(rec.get("openInterestValue")))
    return np.array(ts, dtype=np.int64), np.array(base), np.array(usd)


def _attach_oi(frame: pd.DataFrame, close_ms: np.ndarray, records: Iterable[Mapping],
               contract_size: float, bar_ms: int, source: str) -> None:
    ts, base, usd = _oi_arrays(records, contract_size, source)
    if ts.size == 0:
        raise DataError("no open-interest records; pass fetch_open_interest_history's output",
                        source=source)
    kw = {"jitter_ms": OI_STAMP_JITTER_MS, "max_age_ms": 2 * max(bar_ms, _step(ts))}
    oi = asof_at_close(close_ms, ts, base, **kw)
    from_usd = asof_at_close(close_ms, ts, usd, **kw) / pd.to_numeric(frame["close"]).to_numpy()
    oi = np.where(np.isnan(oi), from_usd, oi)
    bad = np.flatnonzero(np.isnan(oi))
    if bad.size:
        raise DataError("no open-interest record at this bar's close (neither "
                        "openInterestAmount nor openInterestValue); fetch the open-interest "
                        "history over the whole OHLCV span with the same timeframe",
                        source=source, row=int(bad[0]))
    frame["open_interest"] = oi


def _step(ts: np.ndarray) -> int:
    return int(np.median(np.diff(np.sort(ts)))) if ts.size > 1 else 0


def _attach_funding(frame: pd.DataFrame, close_ms: np.ndarray, records: Iterable[Mapping],
                    interval_h: float, source: str) -> None:
    recs = list(records)
    ts = np.array([_num(r.get("timestamp")) for r in recs])
    rate = np.array([_num(r.get("fundingRate")) for r in recs])
    ok = np.isfinite(ts) & np.isfinite(rate)
    aligned = asof_at_close(close_ms, ts[ok].astype(np.int64), funding_to_8h(rate[ok], interval_h))
    bad = np.flatnonzero(np.isnan(aligned))
    if bad.size:
        raise DataError("no funding settlement at or before this bar's close; fetch funding "
                        "history starting before the first bar", source=source, row=int(bad[0]))
    frame["funding_rate"] = aligned


def bars_from_ccxt(ohlcv: Sequence[Sequence[float]], open_interest_history: Iterable[Mapping],
                   funding_rate_history: Iterable[Mapping] | None = None, *,
                   contract_size: float = 1.0, funding_interval_h: float = 8.0,
                   venue: str = "binance", symbol: str = "BTC/USDT:USDT",
                   repair: bool = False, gaps: str = "warn") -> Bars:
    """Bars from ccxt ``fetch_ohlcv`` + ``fetch_open_interest_history`` (+ funding) output.

    Parameters
    ----------
    ohlcv : list of [timestamp, open, high, low, close, volume]
        ``fetch_ohlcv`` output (bar open times in ms).
    open_interest_history : iterable of dict
        ``OpenInterest`` records; ``openInterestAmount x contract_size`` is used (base
        units), else ``openInterestValue / close``.
    funding_rate_history : iterable of dict, optional
        ``fetch_funding_rate_history`` records.
    contract_size : float
        Base units per contract (``market["contractSize"]``; 1 on Binance USD-M).
    funding_interval_h : float
        Hours between settlements; rates are rescaled to per 8 h.
    venue, symbol : str
        ccxt exchange id and unified symbol.
    repair, gaps
        As in :func:`liqmap.io.load_bars`.

    Examples
    --------
    >>> ohlcv = [[0, 10.0, 11.0, 9.0, 10.5, 5.0]]  # doctest: +SKIP
    >>> bars_from_ccxt(ohlcv, [{"timestamp": 60_000, "openInterestAmount": 100.0}])  # doctest: +SKIP
    """
    source = f"ccxt {venue} {symbol} fetch_ohlcv"
    frame = _ohlcv_frame(ohlcv, source)
    ts = pd.to_numeric(frame["ts_ms"], errors="coerce").to_numpy()
    bar_ms = _step(ts[np.isfinite(ts)].astype(np.int64))
    close_ms = np.nan_to_num(ts, nan=0).astype(np.int64) + bar_ms
    _attach_oi(frame, close_ms, open_interest_history, float(contract_size), bar_ms, source)
    if funding_rate_history is not None:
        _attach_funding(frame, close_ms, funding_rate_history, funding_interval_h, source)
    return bars_from_frame(frame, source=source, venue=venue, symbol=symbol, oi_unit="base",
                           repair=repair, gaps=gaps)


def _liq_row(rec: Mapping, i: int, source: str) -> tuple[int, int, float, float, float]:
    side = _LIQ_SIDES.get(str(rec.get("side", "")).lower())
    ts, price = _num(rec.get("timestamp")), _num(rec.get("price"))
    if side is None or not np.isfinite(ts) or not price > 0:
        raise DataError("a Liquidation needs timestamp, side ('long'/'short' or 'sell'/'buy') "
                        f"and a positive price, got {dict(rec)!r}; pass ccxt's records "
                        "unchanged", source=source, row=i)
    size = _num(rec.get("contractSize"))
    qty = _num(rec.get("baseValue"))
    if not np.isfinite(qty):
        qty = _num(rec.get("contracts")) * (size if np.isfinite(size) else 1.0)
    notional = _num(rec.get("quoteValue"))
    if not np.isfinite(notional):
        notional = qty * price
    if not (np.isfinite(qty) and np.isfinite(notional)):
        raise DataError("a Liquidation needs baseValue or contracts; pass ccxt's records "
                        "unchanged", source=source, row=i)
    return int(ts), side, price, qty, notional


def liquidations_from_ccxt(liquidations: Iterable[Mapping], *, venue: str = "binance",
                           symbol: str | None = None,
                           source: str = "ccxt fetch_liquidations") -> RealizedLiquidations:
    """``RealizedLiquidations`` from ccxt ``Liquidation`` dicts.

    ``side`` "long"/"sell" means a long was liquidated (+1), "short"/"buy" a short (-1).
    Quantity is ``baseValue`` (else ``contracts x contractSize``), notional ``quoteValue``
    (else ``qty x price``). Records of another symbol than ``symbol`` are skipped.
    """
    recs = list(liquidations)
    keep = [i for i, r in enumerate(recs) if symbol is None or r.get("symbol") in (None, symbol)]
    rows = [_liq_row(recs[i], i, source) for i in keep]
    cols: list[Sequence[Any]] = list(zip(*rows)) if rows else [[], [], [], [], []]
    order = np.argsort(np.asarray(cols[0], dtype=np.int64), kind="stable")
    arrays = [np.asarray(c)[order] for c in cols]
    sym = symbol or (recs[keep[0]].get("symbol") if keep else None) or "BTC/USDT:USDT"
    return RealizedLiquidations(ts_ms=arrays[0].astype(np.int64), side=arrays[1].astype(np.int8),
                                price=arrays[2].astype(float), qty_coin=arrays[3].astype(float),
                                notional_usd=arrays[4].astype(float), venue=venue, symbol=sym,
                                source=source)
