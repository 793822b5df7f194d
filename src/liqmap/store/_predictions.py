"""The running-scorecard record: the map's predicted liquidations of one bar (no SQL here).

:class:`BarPrediction` is what ``liqmap live --db`` (:class:`liqmap.live.sinks.StoreSink`)
writes for each closed bar and the store's ``predictions`` table keeps (key ``venue, symbol,
ts_ms``; the last write wins); :mod:`liqmap.scorecard.running` scores them against the
realized liquidations stored beside them. :func:`prediction_row` validates one record
before any write, naming the field and the fix; :func:`prediction_from_row` reads it back.

>>> p = BarPrediction("binance", "BTCUSDT", 1_766_232_000_000, 300_000, 1.5e6, 2.0e5)
>>> prediction_row(p)[:4]
('binance', 'BTC/USDT:USDT', 1766232000000, 300000)
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

import numpy as np

from liqmap._exceptions import InputError
from liqmap.store._records import check_names, check_ts_ms, to_json, whole_ms

__all__ = ["PREDICTION_COLUMNS", "BarPrediction", "prediction_from_row", "prediction_row"]


@dataclass(frozen=True, slots=True)
class BarPrediction:
    """The liquidations the map predicted for one closed bar, per side.

    Attributes
    ----------
    venue, symbol : str
        ccxt venue id and unified symbol (venue ids are converted when stored).
    ts_ms : int
        Bar open time, Unix ms.
    bar_ms : int
        Bar length, ms (300000 for 5-minute bars).
    predicted_long_usd, predicted_short_usd : float
        Notional of long / short levels the bar's range consumed (the central preset).
    params : dict
        The model parameters that made the prediction (JSON-ready).
    """

    venue: str
    symbol: str
    ts_ms: int
    bar_ms: int
    predicted_long_usd: float
    predicted_short_usd: float
    params: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return asdict(self)


PREDICTION_COLUMNS = tuple(BarPrediction.__dataclass_fields__)


def prediction_row(p: BarPrediction) -> tuple:
    """A validated row of ``p`` in :data:`PREDICTION_COLUMNS` order, canonical names.

    Raises
    ------
    InputError
        Naming the field that is wrong and how to fix it.
    """
    if not isinstance(p, BarPrediction):
        raise InputError(f"write_predictions takes BarPrediction records, got "
                         f"{type(p).__name__}; build them with liqmap.store.BarPrediction")
    venue, symbol = check_names(p.venue, p.symbol, "predictions")
    where = f"{venue} {symbol} at ts_ms {p.ts_ms!r}"
    ts = whole_ms(p.ts_ms, "ts_ms", f"prediction {where}")
    check_ts_ms(np.asarray([ts]), f"prediction {where}")
    bar_ms = whole_ms(p.bar_ms, "bar_ms", f"prediction {where}")
    if bar_ms <= 0:
        raise InputError(f"prediction {where}: bar_ms must be > 0, got {bar_ms}; give the bar "
                         "length in ms (5 min = 300000)")
    sides = []
    for name in ("predicted_long_usd", "predicted_short_usd"):
        v = getattr(p, name)
        try:
            f = float(v)
        except (TypeError, ValueError):
            f = math.nan
        if not math.isfinite(f) or f < 0:
            raise InputError(f"prediction {where}: {name} must be a finite number >= 0 (USD), "
                             f"got {v!r}; fix the record")
        sides.append(f)
    if not isinstance(p.params, dict):
        raise InputError(f"prediction {where}: params must be a dict of model parameters, got "
                         f"{type(p.params).__name__}; pass LiquidationModel.to_dict()")
    return (venue, symbol, ts, bar_ms, *sides, to_json(p.params, "prediction params"))


def prediction_from_row(row: tuple, _params: dict | None = None) -> BarPrediction:
    """Inverse of :func:`prediction_row` (``_params``: a cache of parsed JSON texts)."""
    venue, symbol, ts, bar_ms, long_usd, short_usd, params = row
    cache = {} if _params is None else _params
    if params not in cache:
        cache[params] = json.loads(params)
    return BarPrediction(venue=venue, symbol=symbol, ts_ms=int(ts), bar_ms=int(bar_ms),
                         predicted_long_usd=float(long_usd),
                         predicted_short_usd=float(short_usd), params=dict(cache[params]))
