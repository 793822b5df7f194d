"""Maps over time from one model run: heatmap frames as :class:`LiqMap` records.

Running the model once and reading its heatmap frames gives the map as it stood after each
frame's bar, using only the bars up to that one (the level book runs forward in time), so
there is no look-ahead and no re-run per bar. The frames are read through the one route to
the map at a time, ``Estimate.map_at(ts_ms, frames=True)`` (``frames=False`` re-runs the
model up to the time instead, on that shorter run's own price grid).

>>> from liqmap.io.sample import load_sample                       # doctest: +SKIP
>>> fm = FrameMaps.build(LiquidationModel(), load_sample(), every_bars=12)  # doctest: +SKIP
>>> fm.map_before(int(fm.ts_ms[-1]) + 1).price_usd                 # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from liqmap._exceptions import ConfigError
from liqmap.core.bars import Bars
from liqmap.core.records import LiqMap
from liqmap.model import Estimate, LiquidationModel

__all__ = ["FrameMaps", "frame_map"]


def frame_map(est: Estimate, i: int) -> LiqMap:
    """Frame ``i`` of ``est.heatmap`` as a map (price = close of the frame's bar).

    Parameters
    ----------
    est : Estimate
        A model run.
    i : int
        Frame index (``0 <= i < len(est.heatmap.ts_ms)``).
    """
    return est.map_at(int(est.heatmap.ts_ms[i]), frames=True)


@dataclass(frozen=True, slots=True)
class FrameMaps:
    """One model run whose heatmap frames serve as the map at each time.

    Attributes
    ----------
    estimate : Estimate
        The run (its heatmap holds the frames).
    ts_ms : (F,) int64
        Open time of the bar after which each frame was read.
    bar_idx : (F,) int64
        Index in ``estimate.bars`` of each frame's bar.
    """

    estimate: Estimate
    ts_ms: np.ndarray
    bar_idx: np.ndarray

    @classmethod
    def build(cls, model: LiquidationModel, bars: Bars, every_bars: int = 1) -> FrameMaps:
        """Run ``model`` once over ``bars`` with a frame about every ``every_bars`` bars.

        The band is switched off (frames are those of the central preset anyway).
        """
        if every_bars < 1:
            raise ConfigError(f"every_bars must be >= 1, got {every_bars}")
        frames = max(2, math.ceil(len(bars) / every_bars))
        est = replace(model, band="none", frames=frames).run(bars)
        ts = np.asarray(est.heatmap.ts_ms, np.int64)
        return cls(est, ts, np.searchsorted(est.bars.ts_ms, ts).astype(np.int64))

    def __len__(self) -> int:
        return len(self.ts_ms)

    def map(self, i: int) -> LiqMap:
        """Frame ``i`` as a map."""
        return frame_map(self.estimate, i)

    def index_at(self, ts_ms: int) -> int:
        """Index of the latest frame read at or before ``ts_ms`` (-1 when none)."""
        return int(np.searchsorted(self.ts_ms, ts_ms, side="right")) - 1

    def map_before(self, ts_ms: int) -> LiqMap:
        """The latest map read strictly before ``ts_ms``.

        Raises
        ------
        ConfigError
            If no frame precedes ``ts_ms``.
        """
        i = int(np.searchsorted(self.ts_ms, ts_ms, side="left")) - 1
        if i < 0:
            raise ConfigError(f"no map before ts_ms {ts_ms}: pick a later time")
        return self.map(i)
