"""Level watch as data: approaches of a known cluster, through / rejected / pending."""

from __future__ import annotations

import numpy as np
import pytest

from liqmap import ConfigError
from liqmap.core.bars import Bars
from liqmap.core.realized import RealizedLiquidations
from liqmap.core.records import Cluster
from liqmap.watch import AlertRule, ApproachTracker, Watcher
from liqmap.watch.approaches import (
    find_approaches,
    record_live_approaches,
    resolve_pending,
    summarize_approaches,
)

BAR = 300_000  # 5 m
T0 = 1_767_225_600_000  # 2026-01-01
HOUR = 3_600_000


def _bars(closes, lows=None, highs=None):
    c = np.asarray(closes, float)
    lo = c - 0.1 if lows is None else np.asarray(lows, float)
    hi = c + 0.1 if highs is None else np.asarray(highs, float)
    n = len(c)
    return Bars(ts_ms=T0 + BAR * np.arange(n, dtype=np.int64), open=c.copy(), high=hi, low=lo,
                close=c, open_interest=np.full(n, 1e3), venue="binance", symbol="BTC/USDT:USDT")


def _cluster(side, price, notional=5e7):
    return Cluster(side, price, notional, price - 50, price + 50, 0.0)


def _alerts(bars, clusters, distance_pct=1.0):
    w = Watcher([AlertRule(distance_pct=distance_pct)])
    return [a for t in range(len(bars))
            for a in w.update(int(bars.ts_ms[t]), float(bars.close[t]), clusters)]


def _liq(ts, side, usd):
    ts = np.asarray(ts, np.int64)
    return RealizedLiquidations(ts_ms=ts, side=np.asarray(side, np.int8),
                                price=np.full(len(ts), 85_000.0),
                                qty_coin=np.asarray(usd, float) / 85_000.0,
                                notional_usd=np.asarray(usd, float))


# price falls to 85.5k (within 1 % of the 85k long cluster), then through it to 84k
THROUGH = [88_000, 87_000, 86_000, 85_500, 85_200, 84_800, 84_000] + [84_200] * 12
# price touches 85.6k and turns back up
REJECT = [88_000, 87_000, 86_000, 85_600, 86_200, 87_000] + [87_500] * 12


def test_through_a_long_cluster():
    bars = _bars(THROUGH)
    alerts = _alerts(bars, [_cluster("long", 85_000.0)])
    assert len(alerts) == 1
    liq = _liq([T0 + 5 * BAR, T0 + 6 * BAR + 10, T0 + 2 * BAR, T0 + 30 * BAR],
               [1, -1, 1, 1], [2e6, 3e5, 9e5, 1e6])
    (a,) = find_approaches(bars, alerts, liq)
    assert (a.ts_ms, a.side, a.cluster_price_usd, a.notional_usd) == (
        T0 + 3 * BAR, "long", 85_000.0, 5e7)
    assert a.price_usd == 85_500.0
    assert a.distance_pct == pytest.approx((85_000 / 85_500 - 1) * 100)
    assert a.horizon_start_ms == T0 + 4 * BAR and a.horizon_ms == HOUR
    assert a.outcome == "through"
    assert a.crossed_ts_ms == T0 + 5 * BAR  # first low at or below the level
    assert a.max_beyond_pct == pytest.approx((85_000 - 83_999.9) / 85_000 * 100)
    # horizon: bars opening at 4..15 -> last close 84_200
    assert a.move_pct == pytest.approx((84_200 / 85_500 - 1) * 100)
    # only liquidations in [horizon_start, +1 h): the 2e6 long and the 3e5 short
    assert (a.realized_long_usd, a.realized_short_usd) == (2e6, 3e5)
    assert a.realized_side_usd == 2e6


def test_touch_and_turn_back_is_rejected():
    bars = _bars(REJECT)
    (a,) = find_approaches(bars, _alerts(bars, [_cluster("long", 85_000.0)]))
    assert a.outcome == "rejected" and a.crossed_ts_ms is None and a.max_beyond_pct == 0.0
    assert a.move_pct == pytest.approx((87_500 / 85_600 - 1) * 100)
    assert (a.realized_long_usd, a.realized_short_usd) == (0.0, 0.0)


def test_short_cluster_crossed_rising():
    closes = [90_000, 93_000, 94_400, 95_300, 96_000] + [96_000] * 12
    bars = _bars(closes)
    (a,) = find_approaches(bars, _alerts(bars, [_cluster("short", 95_000.0)]))
    assert a.side == "short" and a.outcome == "through"
    assert a.crossed_ts_ms == T0 + 3 * BAR
    assert a.max_beyond_pct == pytest.approx((96_000.1 - 95_000) / 95_000 * 100)


def test_pending_until_the_horizon_elapses_then_resolved():
    full = _bars(THROUGH)
    alerts = _alerts(full, [_cluster("long", 85_000.0)])
    early = full.take(slice(0, 5))  # ends before the level is crossed
    (p,) = find_approaches(early, alerts)
    assert p.outcome == "pending" and p.crossed_ts_ms is None
    mid = full.take(slice(0, 10))  # crossed, but the hour has not elapsed
    (q,) = resolve_pending([p], mid)
    assert q.outcome == "pending" and q.crossed_ts_ms == T0 + 5 * BAR
    # later bars alone (covering the horizon) resolve it; resolved records are kept as they are
    (r,) = resolve_pending([q], full.take(slice(4, None)))
    assert r == find_approaches(full, alerts)[0] and r.outcome == "through"
    assert resolve_pending([r], early) == [r]


def test_summary_per_side():
    bars_t, bars_r = _bars(THROUGH), _bars(REJECT)
    thr = find_approaches(bars_t, _alerts(bars_t, [_cluster("long", 85_000.0)]),
                          _liq([T0 + 5 * BAR], [1], [4e6]))
    rej = find_approaches(bars_r, _alerts(bars_r, [_cluster("long", 85_000.0)]),
                          _liq([T0 + 5 * BAR], [1], [1e5]))
    s = summarize_approaches(thr + rej)
    assert s["long"] == {"approaches": 2, "through": 1, "rejected": 1, "pending": 0,
                         "through_share": 0.5, "median_realized_usd_through": 4e6,
                         "median_realized_usd_rejected": 1e5}
    assert s["short"]["approaches"] == 0 and s["short"]["through_share"] is None


def test_deterministic_and_custom_horizon():
    bars = _bars(THROUGH)
    alerts = _alerts(bars, [_cluster("long", 85_000.0)])
    assert find_approaches(bars, alerts) == find_approaches(bars, alerts)
    # a 5 minute horizon: only bar 4 (low 85_199.9) follows -> rejected
    (a,) = find_approaches(bars, alerts, horizon_ms=BAR)
    assert a.outcome == "rejected" and a.horizon_ms == BAR
    with pytest.raises(ConfigError, match="horizon_ms"):
        find_approaches(bars, alerts, horizon_ms=0)


def test_tracker_bar_by_bar_matches_batch():
    bars = _bars(THROUGH)
    cl = [_cluster("long", 85_000.0)]
    liq = _liq([T0 + 5 * BAR], [1], [2e6])
    batch = find_approaches(bars, _alerts(bars, cl), liq)

    class _Store:
        def __init__(self):
            self.rows = {}

        def write_level_approaches(self, items):
            for a in items:
                self.rows[(a.ts_ms, a.side, a.cluster_price_usd)] = a
            return len(items)

    class _Bar:
        def __init__(self, t):
            self.ts_ms, self.high, self.low, self.close = (
                int(bars.ts_ms[t]), bars.high[t], bars.low[t], bars.close[t])

    store = _Store()
    tr = ApproachTracker([AlertRule(distance_pct=1.0)], "binance", "BTC/USDT:USDT", BAR)
    for t in range(len(bars)):
        arrived = liq.window(int(bars.ts_ms[t]) - BAR, int(bars.ts_ms[t]))
        record_live_approaches(store, tr, _Bar(t), cl, arrived)
    assert list(store.rows.values()) == batch and tr.pending == []


def test_approach_sink_stores_the_live_level_watch():
    from liqmap.core.records import LiqMap
    from liqmap.store import DuckDBStore
    from liqmap.venues import LiveBar, LiveLiquidation
    from liqmap.watch import ApproachSink

    bars = _bars(THROUGH)
    bins = np.array([84_000.0, 85_000.0, 86_000.0])

    class _Model:  # the map stands still: one long cluster at 85k
        price = 88_000.0

        def current_map(self):
            return LiqMap(0, self.price, bins, np.array([0.0, 5e7, 0.0]), np.zeros(3),
                          venue="binance", symbol="BTC/USDT:USDT")

    model, store = _Model(), DuckDBStore()
    sink = ApproachSink(store)
    live = [LiveBar(int(bars.ts_ms[t]), bars.open[t], bars.high[t], bars.low[t],
                    bars.close[t], 1.0) for t in range(len(bars))]
    sink.warm("binance", live[:1])
    for t, bar in enumerate(live[1:], start=1):
        if t == 6:
            sink.liquidation(LiveLiquidation(int(bars.ts_ms[5]), 1, 85_000.0, 10.0, 850_000.0))
        model.price = float(bars.close[t])
        sink.bar(None, bar, model)
    (a,) = store.read_level_approaches()
    assert (a.ts_ms, a.side, a.cluster_price_usd, a.outcome) == (T0 + 3 * BAR, "long", 85_000.0,
                                                                 "through")
    assert a.realized_long_usd == 850_000.0 and sink.written >= 2  # pending, then resolved
