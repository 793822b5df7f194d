"""The level-watch record: one approach of a map cluster and what followed (no SQL here).

:class:`LevelApproach` is the record ``liqmap.watch.approaches`` computes and the store's
``level_approaches`` table keeps (key ``venue, symbol, ts_ms, side, cluster_price_usd``;
a pending record is replaced by its resolved one, never a resolved one by a pending one).
:func:`approach_row` validates one before any write, naming the field and the fix;
:func:`approach_from_row` reads it back.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from liqmap._exceptions import InputError
from liqmap.store._records import check_names, check_ts_ms, whole_ms

__all__ = ["APPROACH_COLUMNS", "OUTCOMES", "LevelApproach", "approach_from_row",
           "approach_row"]

OUTCOMES = ("through", "rejected", "pending")
"""``through``: price crossed the level within the horizon (acceleration); ``rejected``:
it came within the distance but did not cross; ``pending``: the horizon has not elapsed."""

_SIDES = ("long", "short")


@dataclass(frozen=True, slots=True)
class LevelApproach:
    """Price came within a rule's distance of a named cluster, and what followed.

    Attributes
    ----------
    venue, symbol : str
        ccxt venue id and unified symbol.
    ts_ms : int
        Open time of the bar whose close came within the distance, Unix ms.
    side : {"long", "short"}
        The cluster's side: long liquidations lie below price (crossed falling), short
        liquidations above (crossed rising).
    cluster_price_usd, notional_usd : float
        The cluster (level) price and the notional the map held there.
    price_usd : float
        Close of the approach bar.
    distance_pct : float
        ``(cluster_price_usd / price_usd - 1) x 100`` at the approach (signed).
    horizon_start_ms, horizon_ms : int
        What followed is read over ``[horizon_start_ms, horizon_start_ms + horizon_ms)``;
        ``horizon_start_ms`` is the close of the approach bar (no look-ahead).
    outcome : {"through", "rejected", "pending"}
        See :data:`OUTCOMES`.
    crossed_ts_ms : int or None
        When price first traded at or beyond the level (the approach bar's ``ts_ms`` when
        its close already was), None when it did not.
    max_beyond_pct : float
        Largest move beyond the level within the horizon, percent of the level (0 when
        not crossed).
    move_pct : float
        Close at the end of the horizon (or of the data, while pending) over the approach
        close, percent.
    realized_long_usd, realized_short_usd : float
        Realized liquidations within the horizon, per liquidated side.
    map_ts_ms : int or None
        Time of the map the cluster was read from.
    """

    venue: str
    symbol: str
    ts_ms: int
    side: str
    cluster_price_usd: float
    notional_usd: float
    price_usd: float
    distance_pct: float
    horizon_start_ms: int
    horizon_ms: int
    outcome: str
    crossed_ts_ms: int | None
    max_beyond_pct: float
    move_pct: float
    realized_long_usd: float
    realized_short_usd: float
    map_ts_ms: int | None = None

    @property
    def realized_side_usd(self) -> float:
        """Realized liquidations of the cluster's own side within the horizon."""
        return self.realized_long_usd if self.side == "long" else self.realized_short_usd

    def to_dict(self) -> dict:
        """JSON-ready dict (plain Python numbers)."""
        return asdict(self)


APPROACH_COLUMNS = tuple(LevelApproach.__dataclass_fields__)
_INTS = ("ts_ms", "horizon_start_ms", "horizon_ms")
_OPT_INTS = ("crossed_ts_ms", "map_ts_ms")
_FLOATS = ("cluster_price_usd", "notional_usd", "price_usd", "distance_pct", "max_beyond_pct",
           "move_pct", "realized_long_usd", "realized_short_usd")
_POSITIVE = ("cluster_price_usd", "price_usd")
_NON_NEGATIVE = ("notional_usd", "max_beyond_pct", "realized_long_usd", "realized_short_usd")


def _whole(value: Any, name: str, where: str) -> int:
    """An int from ``value`` (a whole number), with the store's time-scale check."""
    out = whole_ms(value, name, f"level approach {where}")
    if name != "horizon_ms":
        check_ts_ms(np.asarray([out]), f"level approach {where} ({name})")
    return out


def approach_row(a: LevelApproach) -> tuple:
    """A validated row of ``a`` in :data:`APPROACH_COLUMNS` order, canonical names.

    Raises
    ------
    InputError
        Naming the field that is wrong and how to fix it.
    """
    if not isinstance(a, LevelApproach):
        raise InputError(f"write_level_approaches takes LevelApproach records, got "
                         f"{type(a).__name__}; build them with liqmap.watch.approaches")
    venue, symbol = check_names(a.venue, a.symbol, "level approaches")
    where = f"{venue} {symbol} at ts_ms {a.ts_ms!r}"
    row: dict[str, Any] = {"venue": venue, "symbol": symbol}
    for name in _INTS:
        row[name] = _whole(getattr(a, name), name, where)
    for name in _OPT_INTS:
        v = getattr(a, name)
        row[name] = None if v is None else _whole(v, name, where)
    if row["horizon_ms"] <= 0:
        raise InputError(f"level approach {where}: horizon_ms must be > 0, got "
                         f"{row['horizon_ms']}; give the horizon in ms (1 h = 3600000)")
    if row["horizon_start_ms"] < row["ts_ms"]:
        raise InputError(f"level approach {where}: horizon_start_ms ({row['horizon_start_ms']})"
                         " is before ts_ms; it is the close of the approach bar")
    for name in _FLOATS:
        v = getattr(a, name)
        try:
            f = float(v)
        except (TypeError, ValueError):
            f = math.nan
        if not math.isfinite(f):
            raise InputError(f"level approach {where}: {name} must be a finite number, got "
                             f"{v!r}; fix the record")
        if name in _POSITIVE and f <= 0:
            raise InputError(f"level approach {where}: {name} must be > 0, got {f}")
        if name in _NON_NEGATIVE and f < 0:
            raise InputError(f"level approach {where}: {name} must be >= 0, got {f}")
        row[name] = f
    if a.side not in _SIDES:
        raise InputError(f"level approach {where}: side must be one of {_SIDES}, got "
                         f"{a.side!r}")
    if a.outcome not in OUTCOMES:
        raise InputError(f"level approach {where}: outcome must be one of {OUTCOMES}, got "
                         f"{a.outcome!r}")
    row["side"], row["outcome"] = a.side, a.outcome
    return tuple(row[c] for c in APPROACH_COLUMNS)


def approach_from_row(row: tuple) -> LevelApproach:
    """Inverse of :func:`approach_row`."""
    kw = dict(zip(APPROACH_COLUMNS, row, strict=True))
    for name in _INTS:
        kw[name] = int(kw[name])
    for name in _OPT_INTS:
        kw[name] = None if kw[name] is None else int(kw[name])
    for name in _FLOATS:
        kw[name] = float(kw[name])
    return LevelApproach(**kw)

