"""Level watch, kept as data: every approach of a map cluster and what followed.

An *approach* is what a :class:`~liqmap.watch.Watcher` fires on: a bar's close comes within
the rule's ``distance_pct`` of a cluster the map names, once per approach (hysteresis, see
:mod:`liqmap.watch.alerts`). For each one, :func:`find_approaches` reads what followed over
a horizon (default 1 h) that starts at the close of the approach bar, so nothing before the
approach is judged by what came after it:

- ``outcome``: ``"through"`` when price traded at or beyond the level (acceleration: a long
  cluster is crossed falling, a short cluster rising), ``"rejected"`` when it did not,
  ``"pending"`` while the horizon has not elapsed at the end of the data;
- ``max_beyond_pct``: the largest move beyond the level, percent of the level;
- ``move_pct``: the close at the horizon's end over the approach close, percent;
- ``realized_long_usd`` / ``realized_short_usd``: realized liquidations in the horizon.

Everything is pure and deterministic (same bars, maps and realized liquidations, same
records). :func:`resolve_pending` re-evaluates pending records when later bars arrive;
:class:`ApproachTracker` does the same bar by bar for live mode,
:func:`record_live_approaches` is the hook a live sink calls as each bar closes, and
:class:`ApproachSink` is that sink (the :mod:`liqmap.live.sinks` shape) for ``liqmap live --db``.
The records are :class:`liqmap.store.LevelApproach` (the store's ``level_approaches`` table).

>>> rule = AlertRule(distance_pct=0.5)                                   # doctest: +SKIP
>>> found = watch_approaches(LiquidationModel(), bars, [rule], realized)  # doctest: +SKIP
>>> summarize_approaches(found)["long"]["through_share"]                 # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from statistics import median

import numpy as np

from liqmap._exceptions import ConfigError
from liqmap.core.bars import Bars
from liqmap.core.realized import LONG_LIQUIDATED, SHORT_LIQUIDATED, RealizedLiquidations
from liqmap.core.records import Cluster, LiqMap
from liqmap.store import LevelApproach
from liqmap.watch.alerts import Alert, AlertRule, Watcher

__all__ = ["DEFAULT_HORIZON_MS", "ApproachSink", "ApproachTracker", "LevelApproach",
           "approach_from_alert", "evaluate_approach", "find_approaches",
           "record_live_approaches", "resolve_pending", "summarize_approaches",
           "watch_approaches"]

DEFAULT_HORIZON_MS = 3_600_000
"""What followed an approach is read over this long (1 h)."""


@dataclass(frozen=True, slots=True)
class _Path:
    """Bars and realized liquidations as plain arrays (sorted by time)."""

    ts_ms: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    bar_ms: int
    liq_ts_ms: np.ndarray
    liq_side: np.ndarray
    liq_usd: np.ndarray


def _path(bars: Bars, realized: RealizedLiquidations | None, bar_ms: int | None = None) -> _Path:
    if realized is None or len(realized) == 0:
        lt, ls, lu = np.zeros(0, np.int64), np.zeros(0, np.int8), np.zeros(0, float)
    else:
        order = np.argsort(np.asarray(realized.ts_ms, np.int64), kind="stable")
        lt = np.asarray(realized.ts_ms, np.int64)[order]
        ls = np.asarray(realized.side)[order]
        lu = np.asarray(realized.notional_usd, float)[order]
    return _Path(np.asarray(bars.ts_ms, np.int64), np.asarray(bars.high, float),
                 np.asarray(bars.low, float), np.asarray(bars.close, float),
                 int(bar_ms if bar_ms is not None else bars.bar_ms), lt, ls, lu)


def _check_horizon(horizon_ms: int) -> int:
    if not (isinstance(horizon_ms, (int, np.integer)) and horizon_ms > 0):
        raise ConfigError(f"horizon_ms must be a positive whole number of ms (1 h = 3600000), "
                          f"got {horizon_ms!r}")
    return int(horizon_ms)


def approach_from_alert(alert: Alert, *, venue: str, symbol: str, bar_ms: int,
                        horizon_ms: int = DEFAULT_HORIZON_MS) -> LevelApproach:
    """A pending record for ``alert`` (nothing of what followed read yet).

    ``alert.ts_ms`` is the approach bar's open time; the horizon starts at its close,
    ``alert.ts_ms + bar_ms``.
    """
    if bar_ms <= 0:
        raise ConfigError(f"bar_ms must be > 0, got {bar_ms!r}; give at least two bars")
    return LevelApproach(
        venue=venue, symbol=symbol, ts_ms=int(alert.ts_ms), side=alert.side,
        cluster_price_usd=float(alert.cluster_price_usd), notional_usd=float(alert.notional_usd),
        price_usd=float(alert.price_usd), distance_pct=float(alert.distance_pct),
        horizon_start_ms=int(alert.ts_ms) + int(bar_ms), horizon_ms=_check_horizon(horizon_ms),
        outcome="pending", crossed_ts_ms=None, max_beyond_pct=0.0, move_pct=0.0,
        realized_long_usd=0.0, realized_short_usd=0.0,
        map_ts_ms=None if alert.map_ts_ms is None else int(alert.map_ts_ms))


def _evaluate(a: LevelApproach, p: _Path) -> LevelApproach:
    start, end = a.horizon_start_ms, a.horizon_start_ms + a.horizon_ms
    bar_ms = p.bar_ms if p.bar_ms > 0 else a.horizon_start_ms - a.ts_ms
    i0, i1 = np.searchsorted(p.ts_ms, [start, end], side="left")
    level = a.cluster_price_usd
    if a.side == "long":  # longs are liquidated by a fall through the level
        beyond = (level - p.low[i0:i1]) / level * 100.0
        at_approach = (level - a.price_usd) / level * 100.0
    else:
        beyond = (p.high[i0:i1] - level) / level * 100.0
        at_approach = (a.price_usd - level) / level * 100.0
    crossed_ts = None
    if at_approach >= 0:
        crossed_ts = a.ts_ms
    elif beyond.size and (beyond >= 0).any():
        crossed_ts = int(p.ts_ms[i0 + int(np.argmax(beyond >= 0))])
    max_beyond = max([0.0, at_approach, *beyond.tolist()]) if crossed_ts is not None else 0.0
    move = (float(p.close[i1 - 1]) / a.price_usd - 1.0) * 100.0 if i1 > i0 else 0.0
    j0, j1 = np.searchsorted(p.liq_ts_ms, [start, end], side="left")
    side, usd = p.liq_side[j0:j1], p.liq_usd[j0:j1]
    elapsed = len(p.ts_ms) > 0 and int(p.ts_ms[-1]) + bar_ms >= end
    if not elapsed:
        outcome = "pending"
    else:
        outcome = "through" if crossed_ts is not None else "rejected"
    return replace(a, outcome=outcome, crossed_ts_ms=crossed_ts,
                   max_beyond_pct=float(max_beyond), move_pct=float(move),
                   realized_long_usd=float(usd[side == LONG_LIQUIDATED].sum()),
                   realized_short_usd=float(usd[side == SHORT_LIQUIDATED].sum()))


def evaluate_approach(approach: LevelApproach, bars: Bars,
                      realized: RealizedLiquidations | None = None) -> LevelApproach:
    """``approach`` with what followed it read from ``bars`` and ``realized``.

    Only bars opening in the horizon ``[horizon_start_ms, horizon_start_ms + horizon_ms)``
    and liquidations in it are read; the horizon has elapsed once the data reaches its end
    (the last bar's close), else the outcome stays ``"pending"``.
    """
    return _evaluate(approach, _path(bars, realized))


def _dedupe(alerts: Iterable[Alert]) -> list[Alert]:
    """One alert per (ts_ms, side, level): several rules firing on one level count once."""
    seen, out = set(), []
    for a in alerts:
        key = (int(a.ts_ms), a.side, float(a.cluster_price_usd))
        if key not in seen:
            seen.add(key)
            out.append(a)
    return out


def find_approaches(bars: Bars, alerts: Iterable[Alert],
                    realized: RealizedLiquidations | None = None, *,
                    horizon_ms: int = DEFAULT_HORIZON_MS) -> list[LevelApproach]:
    """One record per approach (alert), with what followed within ``horizon_ms``.

    Parameters
    ----------
    bars : Bars
        The bars the alerts were fired on (their closes), and the ones after.
    alerts : iterable of Alert
        From a :class:`~liqmap.watch.Watcher` (``watch_bars`` yields them).
    realized : RealizedLiquidations, optional
        Realized liquidations (empty or None: zeros).
    horizon_ms : int
        How long after the approach bar's close the outcome is read (default 1 h).
    """
    horizon_ms = _check_horizon(horizon_ms)
    p = _path(bars, realized)
    return [_evaluate(approach_from_alert(a, venue=bars.venue, symbol=bars.symbol,
                                          bar_ms=p.bar_ms, horizon_ms=horizon_ms), p)
            for a in _dedupe(alerts)]


def watch_approaches(model, bars: Bars, rules: Sequence[AlertRule],
                     realized: RealizedLiquidations | None = None, *, every: int = 12,
                     horizon_ms: int = DEFAULT_HORIZON_MS,
                     start_ms: int | None = None) -> list[LevelApproach]:
    """Replay ``bars`` through a fresh :class:`~liqmap.watch.Watcher` (map every ``every``
    bars, as ``liqmap watch``) and return every approach with what followed."""
    from liqmap.watch.snapshots import watch_bars

    watcher = Watcher(list(rules))
    return find_approaches(bars, list(watch_bars(model, bars, watcher, every, start_ms)),
                           realized, horizon_ms=horizon_ms)


def resolve_pending(approaches: Iterable[LevelApproach], bars: Bars,
                    realized: RealizedLiquidations | None = None) -> list[LevelApproach]:
    """Re-evaluate the ``pending`` records with ``bars`` (and ``realized``) that reach
    further; resolved records are returned unchanged, order kept.

    ``bars`` must hold the horizon of each pending record (later bars alone are fine when
    they cover it; the approach close is kept on the record).
    """
    p = _path(bars, realized)
    return [_evaluate(a, p) if a.outcome == "pending" else a for a in approaches]


def summarize_approaches(approaches: Iterable[LevelApproach]) -> dict:
    """Per side: approaches, through / rejected / pending, the share that went through
    (of the resolved), and the median realized liquidations of the cluster's side in the
    horizon after a through vs after a rejection (None when there is none)."""
    out = {}
    items = list(approaches)
    for side in ("long", "short"):
        mine = [a for a in items if a.side == side]
        thr = [a.realized_side_usd for a in mine if a.outcome == "through"]
        rej = [a.realized_side_usd for a in mine if a.outcome == "rejected"]
        out[side] = {"approaches": len(mine), "through": len(thr), "rejected": len(rej),
                     "pending": len(mine) - len(thr) - len(rej),
                     "through_share": len(thr) / (len(thr) + len(rej)) if thr or rej else None,
                     "median_realized_usd_through": float(median(thr)) if thr else None,
                     "median_realized_usd_rejected": float(median(rej)) if rej else None}
    return out


@dataclass
class ApproachTracker:
    """The level watch bar by bar (live mode): approaches as they fire, resolved as bars
    close.

    Feed each closed bar with the map (or its clusters) standing after it, and the realized
    liquidations that arrived; :meth:`on_bar` returns the records that are new or changed
    (new approaches and pending ones re-read), ready to upsert. Only the bars and
    liquidations the pending horizons still need are kept.

    Parameters
    ----------
    rules : sequence of AlertRule
    venue, symbol : str
    bar_ms : int
        Bar size, ms.
    horizon_ms : int
    """

    rules: Sequence[AlertRule]
    venue: str
    symbol: str
    bar_ms: int
    horizon_ms: int = DEFAULT_HORIZON_MS
    pending: list[LevelApproach] = field(default_factory=list)
    _watcher: Watcher | None = field(default=None, repr=False)
    _bars: list[tuple[int, float, float, float]] = field(default_factory=list, repr=False)
    _liqs: list[tuple[int, int, float]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._watcher = Watcher(list(self.rules))
        _check_horizon(self.horizon_ms)
        if self.bar_ms <= 0:
            raise ConfigError(f"bar_ms must be > 0, got {self.bar_ms!r}")

    def add_realized(self, realized: RealizedLiquidations) -> None:
        """Liquidations that arrived (any time order)."""
        self._liqs += zip(np.asarray(realized.ts_ms, np.int64).tolist(),
                          np.asarray(realized.side).tolist(),
                          np.asarray(realized.notional_usd, float).tolist(), strict=True)

    def on_bar(self, ts_ms: int, high: float, low: float, close: float,
               clusters: LiqMap | Iterable[Cluster],
               realized: RealizedLiquidations | None = None) -> list[LevelApproach]:
        """One closed bar (open time ``ts_ms``); return the new and changed records."""
        if realized is not None:
            self.add_realized(realized)
        self._bars.append((int(ts_ms), float(high), float(low), float(close)))
        assert self._watcher is not None  # set by __post_init__
        alerts = self._watcher.update(int(ts_ms), float(close), clusters)
        new = [approach_from_alert(a, venue=self.venue, symbol=self.symbol, bar_ms=self.bar_ms,
                                   horizon_ms=self.horizon_ms) for a in _dedupe(alerts)]
        p = self._as_path()
        changed = [_evaluate(a, p) for a in [*self.pending, *new]]
        self.pending = [a for a in changed if a.outcome == "pending"]
        self._trim()
        return changed

    def _as_path(self) -> _Path:
        b = np.asarray(self._bars, float).reshape(-1, 4)
        order = np.argsort(b[:, 0], kind="stable")
        b = b[order]
        liq = sorted(self._liqs)
        return _Path(b[:, 0].astype(np.int64), b[:, 1], b[:, 2], b[:, 3], int(self.bar_ms),
                     np.asarray([x[0] for x in liq], np.int64),
                     np.asarray([x[1] for x in liq], np.int8),
                     np.asarray([x[2] for x in liq], float))

    def _trim(self) -> None:
        keep = min((a.horizon_start_ms for a in self.pending), default=None)
        if keep is None:
            keep = self._bars[-1][0] + self.bar_ms if self._bars else 0
        self._bars = [b for b in self._bars if b[0] >= keep]
        self._liqs = [x for x in self._liqs if x[0] >= keep]


def record_live_approaches(store, tracker: ApproachTracker, bar, liq_map: LiqMap,
                           realized: RealizedLiquidations | None = None) -> int:
    """The live hook: feed one closed ``bar`` (a ``LiveBar``: ``ts_ms, high, low, close``)
    and the map standing after it to ``tracker`` and upsert the new and changed records
    into ``store`` (``write_level_approaches``); return rows written.

    A live sink calls it as each bar closes (``StoreSink`` with a tracker).
    """
    changed = tracker.on_bar(int(bar.ts_ms), float(bar.high), float(bar.low),
                             float(bar.close), liq_map, realized)
    return store.write_level_approaches(changed) if changed else 0


class ApproachSink:
    """A live sink (the shape of :mod:`liqmap.live.sinks`) that stores the level watch.

    As each bar of a venue closes it feeds the bar, the map standing after it
    (``model.current_map()``) and the liquidations that arrived since the previous bar to
    that venue's :class:`ApproachTracker`, and upserts the new and changed approaches into
    ``store`` (:func:`record_live_approaches`): pending ones become resolved an hour later.

    Parameters
    ----------
    store : Store
        Anything with ``write_level_approaches`` (``liqmap.store.DuckDBStore``).
    rules : sequence of AlertRule
        Default: within 1 % of any cluster (``liqmap watch``'s default).
    horizon_ms : int
    """

    def __init__(self, store, rules: Sequence[AlertRule] = (AlertRule(distance_pct=1.0),), *,
                 horizon_ms: int = DEFAULT_HORIZON_MS) -> None:
        self.store = store
        self.rules = tuple(rules)
        self.horizon_ms = _check_horizon(horizon_ms)
        self.trackers: dict[str, ApproachTracker] = {}
        self.written = 0
        self._last_ts: dict[str, int] = {}
        self._bar_ms: dict[str, int] = {}
        self._liqs: dict[str, list] = {}

    def warm(self, venue: str, bars: list) -> None:
        if bars:
            self._last_ts[venue] = int(bars[-1].ts_ms)
        if len(bars) > 1:  # the bar size as StoreSink takes it (Bars.bar_ms of the warm-up)
            from liqmap.venues import bars_from_live

            self._bar_ms[venue] = int(bars_from_live(bars).bar_ms)

    def bar(self, update, bar, model) -> None:
        from liqmap.venues import realized_from_live

        venue, ts = bar.venue, int(bar.ts_ms)
        prev = self._last_ts.get(venue)
        self._last_ts[venue] = ts
        tracker = self.trackers.get(venue)
        if tracker is None:
            bar_ms = self._bar_ms.get(venue)
            if bar_ms is None:
                if prev is None or ts <= prev:
                    return  # no warm-up: the bar size is known from the second bar on
                bar_ms = ts - prev
            tracker = self.trackers[venue] = ApproachTracker(
                self.rules, venue, bar.symbol, bar_ms, self.horizon_ms)
        liqs = self._liqs.pop(venue, [])
        realized = (realized_from_live(liqs, venue=venue, symbol=bar.symbol,
                                       source=f"live {venue} stream") if liqs else None)
        self.written += record_live_approaches(self.store, tracker, bar, model.current_map(),
                                               realized)

    def gap(self, event) -> None:
        pass

    def liquidation(self, event) -> None:
        self._liqs.setdefault(event.venue, []).append(event)
