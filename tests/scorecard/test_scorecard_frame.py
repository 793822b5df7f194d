"""Scoring bars: 5-minute engine bars summed into 30-minute realized bars."""

from __future__ import annotations

import numpy as np
import pytest

from liqmap._exceptions import ConfigError
from liqmap.scorecard.frame import score_frame


def test_thirty_minute_buckets_hold_six_bars(window):
    data = window(n_hours=24 * 4, bar_ms=300_000, score_ms=1_800_000)
    fr = score_frame(data, warmup_hours=0)
    b = data.bars
    assert fr.ts_ms.size == len(b) // 6
    assert np.all(fr.bar_bucket == np.arange(len(b)) // 6)
    np.testing.assert_allclose(fr.open_usd, b.open[::6])
    np.testing.assert_allclose(fr.high_usd, b.high.reshape(-1, 6).max(1))
    np.testing.assert_allclose(fr.low_usd, b.low.reshape(-1, 6).min(1))
    # open interest at the open = close of the engine bar before the bucket
    np.testing.assert_allclose(fr.oi_open_coin[1:], b.open_interest[5:-1:6])
    x = np.arange(len(b), dtype=float)
    np.testing.assert_allclose(fr.to_score(x), x.reshape(-1, 6).sum(1))
    exc = fr.excursion()
    np.testing.assert_allclose(exc["long"], (fr.open_usd - fr.low_usd) / fr.open_usd)
    np.testing.assert_allclose(fr.excursion_x_oi_usd()["short"],
                               exc["short"] * fr.oi_open_coin * fr.open_usd)


def test_incomplete_bucket_warmup_and_gap_are_not_scored(window):
    from dataclasses import replace

    data = window(n_hours=24 * 4, bar_ms=300_000, score_ms=1_800_000)
    b = data.bars
    keep = np.ones(len(b), bool)
    keep[8] = False  # bucket 1 loses one of its six bars
    gap = data.after_gap.copy()
    gap[5] = True
    data = replace(data, bars=b.take(keep), after_gap=gap)
    fr = score_frame(data, warmup_hours=1.0)
    assert not fr.scored[0] and not fr.scored[1]  # warm-up (first hour), incomplete
    assert fr.scored[2] and not fr.scored[5] and fr.scored[6]
    with pytest.raises(ConfigError):
        score_frame(data, warmup_hours=-1)
    with pytest.raises(ConfigError):
        score_frame(data, warmup_hours=24 * 5)
