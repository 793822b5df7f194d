"""Watch the levels: map snapshots over time, replay, and alerts near clusters.

- :mod:`liqmap.watch.frames`: maps over time from one model run (no look-ahead).
- :mod:`liqmap.watch.snapshots`: ``record_snapshots`` into a ``Store``, ``replay``.
- :mod:`liqmap.watch.alerts`: ``AlertRule``, ``Alert``, ``Watcher`` (once per approach).
- :mod:`liqmap.watch.webhook`: ``WebhookNotifier`` (POST the alert JSON).
- :mod:`liqmap.watch.approaches`: every approach with what followed (``LevelApproach``,
  ``watch_approaches``, ``resolve_pending``; ``ApproachTracker``, ``ApproachSink`` live).
"""

from __future__ import annotations

from liqmap.watch.alerts import Alert, AlertRule, Watcher, map_clusters
from liqmap.watch.approaches import (
    ApproachSink,
    ApproachTracker,
    LevelApproach,
    find_approaches,
    resolve_pending,
    summarize_approaches,
    watch_approaches,
)
from liqmap.watch.frames import FrameMaps, frame_map
from liqmap.watch.snapshots import record_snapshots, replay, snapshot_to_map, watch_bars
from liqmap.watch.webhook import WebhookNotifier

__all__ = ["Alert", "AlertRule", "ApproachSink", "ApproachTracker", "FrameMaps", "LevelApproach",
           "Watcher", "WebhookNotifier", "find_approaches", "frame_map", "map_clusters",
           "record_snapshots", "replay", "resolve_pending", "snapshot_to_map",
           "summarize_approaches", "watch_approaches", "watch_bars"]
