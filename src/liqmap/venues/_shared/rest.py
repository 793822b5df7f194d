"""What every venue's REST client shares: closed bars with the open interest at their close.

A venue client mixes in :class:`RestBars` and provides ``bar_ms``,
``fetch_ohlcv(client, since_ms, until_ms)``, ``fetch_open_interest_history(client, start_ms,
end_ms) -> (ts_ms, oi_base)`` and, when ``current_oi_fallback`` is true,
``fetch_open_interest(client) -> (ts_ms, oi_base)`` for a last bar whose value the history
has not published yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from liqmap.io import OI_STAMP_JITTER_MS, asof_at_close
from liqmap.venues._shared.records import LiveBar

__all__ = ["RestBars"]


class RestBars:
    """``fetch_bars`` and ``attach_oi`` on top of a venue's own REST calls."""

    current_oi_fallback = True

    if TYPE_CHECKING:  # provided by the venue client (declared for the type checker only)
        bar_ms: int

        async def fetch_ohlcv(self, client, since_ms: int, until_ms: int) -> list[LiveBar]: ...

        async def fetch_open_interest_history(self, client, since_ms: int,
                                              until_ms: int) -> tuple[np.ndarray, np.ndarray]: ...

        async def fetch_open_interest(self, client) -> tuple[int, float]: ...

    async def fetch_bars(self, client, since_ms: int, until_ms: int) -> list[LiveBar]:
        """Closed bars opening in ``[since_ms, until_ms]`` with open interest at close."""
        bars = await self.fetch_ohlcv(client, since_ms, until_ms)
        return await self.attach_oi(client, bars) if bars else []

    async def attach_oi(self, client, bars: list[LiveBar]) -> list[LiveBar]:
        """Each bar with the open interest at its close (history, else the current value
        where the venue client allows it; NaN where none is published)."""
        close = np.array([b.close_ms(self.bar_ms) for b in bars], dtype=np.int64)
        ts, oi = await self.fetch_open_interest_history(
            client, int(close[0]) - self.bar_ms, int(close[-1]) + OI_STAMP_JITTER_MS)
        vals = (asof_at_close(close, ts, oi, jitter_ms=OI_STAMP_JITTER_MS,
                              max_age_ms=2 * self.bar_ms) if ts.size
                else np.full(close.size, np.nan))
        if self.current_oi_fallback and np.isnan(vals[-1]):
            t_now, oi_now = await self.fetch_open_interest(client)
            if t_now >= close[-1] - OI_STAMP_JITTER_MS:
                vals[-1] = oi_now
        return [b.with_oi(v) for b, v in zip(bars, vals)]
