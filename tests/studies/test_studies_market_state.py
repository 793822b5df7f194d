"""market_state: hand-built bars with known answers, the CLI, and window A (shared data)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from liqmap import ConfigError, DataError
from liqmap.cli import main
from liqmap.core.bars import Bars
from liqmap.core.realized import RealizedLiquidations
from liqmap.core.records import LiqMap
from liqmap.scorecard.data import WINDOWS, default_data_dir
from liqmap.studies.market_state import daily_realized, market_state

H = 3_600_000
DAY = 24 * H
T0 = 1_767_225_600_000  # 2026-01-01T00:00Z


def _bars(oi, close, funding=None, step=H):
    n = len(oi)
    c = np.asarray(close, float)
    return Bars(ts_ms=T0 + step * np.arange(n, dtype=np.int64), open=c, high=c * 1.001,
                low=c * 0.999, close=c, open_interest=np.asarray(oi, float),
                funding_rate=None if funding is None else np.asarray(funding, float))


def test_flush_known_drawdown():
    # USD OI: 1000, 1100, 1320, 900, 600, 800, 700 -> peak 1320 (bar 2), trough 600 (bar 4)
    b = _bars([100, 110, 120, 90, 60, 80, 70], [10, 10, 11, 10, 10, 10, 10])
    st = market_state(b, imbalance_points=0)
    f = st.flush
    assert f.drop_pct == pytest.approx((1 - 600 / 1320) * 100)
    assert f.drop_usd == pytest.approx(720.0)
    assert f.drop_coin_pct == pytest.approx(50.0)
    assert (f.peak_ts_ms, f.trough_ts_ms) == (T0 + 2 * H, T0 + 4 * H)
    assert (st.oi_start_usd, st.oi_end_usd, st.oi_peak_usd) == (1000.0, 700.0, 1320.0)
    assert st.oi_peak_ts_ms == T0 + 2 * H and st.funding is None
    assert "OI fell 54.5% ($720) from 2026-01-01 02:00 to 2026-01-01 04:00" in st.sentences()[0]


def test_flush_window_bounds_and_bad_window():
    b = _bars([100, 50, 60, 80, 40], [1, 1, 1, 1, 1])
    st = market_state(b, start_ms=T0 + 2 * H, imbalance_points=0)  # 60, 80, 40
    assert st.flush.drop_pct == pytest.approx(50.0) and st.oi_start_coin == 60.0
    with pytest.raises(ConfigError, match="fewer than 2 bars"):
        market_state(b, start_ms=T0 + 4 * H, imbalance_points=0)


def _funding(window_values):
    hist = np.linspace(-1e-4, 1e-4, 101)  # quantiles: q10=-0.8e-4, q25=-0.5e-4, q75=0.5e-4
    return np.r_[hist, window_values]


def test_funding_reset_rule():
    fr = _funding([3e-4, 2e-4, 0.0])          # spiked above q90, back at the median
    n = fr.size
    b = _bars(np.full(n, 100.0), np.full(n, 10.0), fr)
    st = market_state(b, start_ms=T0 + 101 * H, imbalance_points=0)
    fu = st.funding
    assert fu.was_extreme and fu.has_reset and fu.now == 0.0
    assert fu.window_mean == pytest.approx(5e-4 / 3) and fu.window_max == 3e-4
    assert fu.percentile == pytest.approx(np.mean(fr <= 0.0) * 100)
    assert fu.zscore == pytest.approx((0.0 - fr.mean()) / fr.std())
    assert "it has reset." in st.sentences()[1]
    still_high = _bars(np.full(n, 100.0), np.full(n, 10.0), _funding([3e-4, 2e-4, 0.9e-4]))
    assert not market_state(still_high, start_ms=T0 + 101 * H, imbalance_points=0).funding.has_reset
    calm = _bars(np.full(n, 100.0), np.full(n, 10.0), _funding([0.1e-4, 0.2e-4, 0.0]))
    fc = market_state(calm, start_ms=T0 + 101 * H, imbalance_points=0).funding
    assert not fc.was_extreme and not fc.has_reset


def test_realized_per_day_events_and_bar_totals():
    ts = np.array([T0 + H, T0 + 5 * H, T0 + DAY + 2 * H, T0 + 2 * DAY + H], np.int64)
    ev = RealizedLiquidations(ts_ms=ts, side=np.array([1, -1, 1, 1]),
                              price=np.ones(4), qty_coin=np.ones(4),
                              notional_usd=np.array([10.0, 20.0, 30.0, 99.0]))
    b = _bars(np.full(48, 100.0), np.full(48, 10.0))  # two days of bars
    st = market_state(b, ev, imbalance_points=0)
    assert st.realized_per_day == (
        {"date": "2026-01-01", "long_usd": 10.0, "short_usd": 20.0},
        {"date": "2026-01-02", "long_usd": 30.0, "short_usd": 0.0})
    assert (st.realized_long_usd, st.realized_short_usd) == (40.0, 20.0)
    per_bar = {"ts_ms": b.ts_ms, "long_usd": np.arange(48.0), "short_usd": np.ones(48)}
    days = daily_realized(per_bar, int(b.ts_ms[0]), int(b.ts_ms[-1]) + H)
    assert [d["long_usd"] for d in days] == [sum(range(24)), sum(range(24, 48))]
    with pytest.raises(DataError, match="long_usd and short_usd"):
        daily_realized({"ts_ms": b.ts_ms}, 0, 1)


def test_imbalance_trend_from_given_maps():
    c = np.arange(90.0, 111.0)
    m1 = LiqMap(T0, 100.0, c, np.where(c < 100, 3.0, 0.0), np.where(c > 100, 1.0, 0.0))
    m2 = LiqMap(T0 + H, 100.0, c, np.where(c < 100, 1.0, 0.0), np.where(c > 100, 1.0, 0.0))
    empty = LiqMap(T0 - H, 100.0, c, np.zeros(c.size), np.zeros(c.size))
    b = _bars([100, 100, 100], [100, 100, 100])
    st = market_state(b, maps=[empty, m1, m2])  # the empty book is dropped
    assert len(st.imbalance) == 2
    assert st.imbalance[0]["short_share"] == pytest.approx(0.25)
    assert st.imbalance[1]["short_share"] == pytest.approx(0.5)
    assert st.imbalance_trend_pp == pytest.approx(25.0)
    json.dumps(st.to_dict(), allow_nan=False)


def test_cli_sample_json_matches_bars(capsys):
    from liqmap.io.sample import load_sample

    bars = load_sample()
    with pytest.raises(SystemExit) as exc:
        main(["market-state", "--sample", "btcusdt-5m-2025-12", "--start", "2025-12-20",
              "--points", "2", "--json"])
    assert exc.value.code in (0, None)
    out = json.loads(capsys.readouterr().out)
    win = bars.window(1_766_188_800_000)
    assert out["n_bars"] == len(win) and out["oi_start_coin"] == win.open_interest[0]
    assert out["flush"]["drop_pct"] > 0 and len(out["imbalance"]) == 2
    assert out["sentences"][0].startswith("OI fell")
    with pytest.raises(SystemExit) as exc:
        main(["market-state", "--sample", "x", "--window", "A"])
    assert exc.value.code == 2 and "give one of" in capsys.readouterr().err


_REGIME = sorted(default_data_dir().glob(WINDOWS["A"].regime_glob))


@pytest.mark.shared_data
@pytest.mark.skipif(not _REGIME, reason=f"window A data not found under {default_data_dir()} "
                    "(set LIQMAP_SHARED_DATA)")
def test_window_a_consistency():
    from liqmap.scorecard.data import load_window

    w = load_window("A")
    realized = {"ts_ms": w.bars.ts_ms, "long_usd": w.realized_long_usd,
                "short_usd": w.realized_short_usd}
    st = market_state(w.bars, realized, imbalance_points=3)
    assert st.realized_long_usd == pytest.approx(float(np.nansum(w.realized_long_usd)))
    assert st.realized_short_usd == pytest.approx(float(np.nansum(w.realized_short_usd)))
    assert len(st.realized_per_day) >= 179  # 2025-12-04 .. 2026-06-02
    usd = w.bars.open_interest * w.bars.close
    assert st.oi_peak_usd == pytest.approx(usd.max())
    assert st.flush.peak_usd - st.flush.trough_usd == pytest.approx(st.flush.drop_usd)
    assert st.flush.peak_ts_ms < st.flush.trough_ts_ms and 0 < st.flush.drop_pct < 100
    # the book is empty at the first bar: that point is dropped
    assert len(st.imbalance) == 2 and all(0 <= x["short_share"] <= 1 for x in st.imbalance)
    assert st.imbalance_trend_pp == pytest.approx(
        (st.imbalance[-1]["short_share"] - st.imbalance[0]["short_share"]) * 100)
