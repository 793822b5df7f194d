"""Alerts when price comes within a set distance of a liquidation cluster.

A :class:`Watcher` is fed, bar by bar (or tick by tick), the price and the map (or its
clusters). For each :class:`AlertRule` it fires an :class:`Alert` when a cluster of the
rule's side holding at least ``min_notional_usd`` lies within ``distance_pct`` % of price,
and hands it to every callback (plain callables ``f(alert)``).

**Once per approach (hysteresis).** After an alert on a level, the rule is *disarmed* for
that level: clusters of the same side within ``distance_pct`` % of it (peaks shift by a bin
or two as the map updates) do not fire again. The level is *re-armed* only once price has
moved away from it by more than ``2 x distance_pct`` %. So a price hovering around the
distance threshold fires once, and a second approach after a real retreat fires again.

Callbacks that raise are logged and counted (``Watcher.callback_errors``); they never stop
the watcher.

>>> w = Watcher([AlertRule(distance_pct=1.0)], callbacks=[print])       # doctest: +SKIP
>>> w.update(ts_ms, price_usd=100_000.0, clusters=est.final_map)        # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field

from liqmap._exceptions import ConfigError
from liqmap.core import mapstats
from liqmap.core.records import Cluster, LiqMap

__all__ = ["Alert", "AlertRule", "REARM_FACTOR", "Watcher", "map_clusters"]

log = logging.getLogger(__name__)

REARM_FACTOR = 2.0
"""A disarmed level re-arms once price is farther than ``REARM_FACTOR x distance_pct``."""
_SIDES = ("long", "short", "both")


@dataclass(frozen=True, slots=True)
class AlertRule:
    """When to alert.

    Parameters
    ----------
    distance_pct : float
        Alert when a cluster is within this distance of price, percent (1.0 = 1 %).
    min_notional_usd : float
        Ignore clusters holding less notional.
    side : {"both", "long", "short"}
        Clusters of which side (longs sit below price, shorts above).
    """

    distance_pct: float
    min_notional_usd: float = 0.0
    side: str = "both"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.distance_pct) and 0 < self.distance_pct <= 50):
            raise ConfigError(f"distance_pct is a percent in (0, 50], got {self.distance_pct!r}")
        if not (math.isfinite(self.min_notional_usd) and self.min_notional_usd >= 0):
            raise ConfigError(f"min_notional_usd must be >= 0, got {self.min_notional_usd!r}")
        if self.side not in _SIDES:
            raise ConfigError(f"side must be one of {_SIDES}, got {self.side!r}")


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert: price came within ``rule.distance_pct`` of a cluster.

    ``distance_pct`` is signed: ``(cluster_price_usd / price_usd - 1) x 100``.
    ``map_ts_ms`` is the time of the map the cluster was read from (when known).
    """

    ts_ms: int
    price_usd: float
    cluster_price_usd: float
    side: str
    notional_usd: float
    distance_pct: float
    rule: AlertRule
    map_ts_ms: int | None = None

    def to_dict(self) -> dict:
        """JSON-ready dict (the rule nested)."""
        return asdict(self)


def map_clusters(m: LiqMap, *, top: int = 20, max_distance_pct: float = 20.0) -> list[Cluster]:
    """The clusters a watcher looks at: up to ``top`` per side within ``max_distance_pct``."""
    return [k for sd in ("long", "short")
            for k in mapstats.clusters(m, sd, top=top, max_distance_pct=max_distance_pct)]


@dataclass
class Watcher:
    """Feed prices and maps; fire each alert once per approach (module docstring).

    Parameters
    ----------
    rules : sequence of AlertRule
    callbacks : sequence of callables
        Each is called with every :class:`Alert` as it fires.
    """

    rules: Sequence[AlertRule]
    callbacks: Sequence[Callable[[Alert], object]] = ()
    callback_errors: int = 0
    fired: int = 0
    _disarmed: list[set] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.rules = tuple(self.rules)
        if not self.rules or not all(isinstance(r, AlertRule) for r in self.rules):
            raise ConfigError("Watcher needs at least one AlertRule")
        self.callbacks = tuple(self.callbacks)
        self._disarmed = [set() for _ in self.rules]

    def update(self, ts_ms: int, price_usd: float, clusters: LiqMap | Iterable[Cluster],
               map_ts_ms: int | None = None) -> list[Alert]:
        """Check the clusters against ``price_usd``; return (and dispatch) new alerts."""
        if not (math.isfinite(price_usd) and price_usd > 0):
            raise ConfigError(f"price_usd must be > 0, got {price_usd!r}")
        if isinstance(clusters, LiqMap):
            map_ts_ms = int(clusters.ts_ms) if map_ts_ms is None else map_ts_ms
            clusters = map_clusters(clusters)
        clusters = list(clusters)
        out = []
        for k, rule in enumerate(self.rules):
            out.extend(self._check_rule(k, rule, int(ts_ms), float(price_usd), clusters,
                                        map_ts_ms))
        for alert in out:
            self._dispatch(alert)
        return out

    def _check_rule(self, k, rule, ts_ms, price, clusters, map_ts_ms) -> list[Alert]:
        disarmed = self._disarmed[k]
        far = {lv for lv in disarmed
               if abs(lv[1] / price - 1.0) * 100 > REARM_FACTOR * rule.distance_pct}
        disarmed -= far
        out = []
        for c in clusters:
            d = (c.price_usd / price - 1.0) * 100.0
            if (abs(d) > rule.distance_pct or c.notional_usd < rule.min_notional_usd
                    or rule.side not in ("both", c.side)):
                continue
            if any(s == c.side and abs(lv / c.price_usd - 1.0) * 100 <= rule.distance_pct
                   for s, lv in disarmed):
                continue
            disarmed.add((c.side, float(c.price_usd)))
            out.append(Alert(ts_ms, price, float(c.price_usd), c.side, float(c.notional_usd),
                             float(d), rule, map_ts_ms))
        return out

    def _dispatch(self, alert: Alert) -> None:
        self.fired += 1
        for cb in self.callbacks:
            try:
                cb(alert)
            except Exception as exc:  # a callback must never stop the watcher
                self.callback_errors += 1
                log.warning("alert callback %r failed: %s", cb, exc)
