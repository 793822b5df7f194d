"""The running scorecard over a store: spans, the batch scores, the series, the errors."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from liqmap import ConfigError, InputError
from liqmap.core.realized import RealizedLiquidations
from liqmap.io.sample import load_sample
from liqmap.model import LiquidationModel
from liqmap.scorecard.backtest import BASELINES, SIDES, score_all
from liqmap.scorecard.metrics import baselines
from liqmap.scorecard.running import MAX_POINTS, running_scorecard
from liqmap.store import BarPrediction, DuckDBStore

SYM = "BTC/USDT:USDT"
WARM = 288  # one day of 5-minute bars before the first prediction
DAY = 288


def synthetic_realized(bars, venue: str = "binance") -> RealizedLiquidations:
    """Longs liquidated at the lows, shorts at the highs of the 600 widest bars."""
    idx = np.sort(np.argsort(bars.low - bars.high)[:600])
    side = np.where(np.arange(idx.size) % 2 == 0, 1, -1).astype(np.int8)
    price = np.where(side > 0, bars.low[idx], bars.high[idx])
    qty = 0.002 * bars.volume[idx]
    return RealizedLiquidations(bars.ts_ms[idx] + 1000, side, price, qty, qty * price,
                                venue=venue, symbol=bars.symbol, source="test: synthetic")


def fill(store, venue: str = "binance", bars=None):
    """Bars, batch predictions after a day of warm-up, synthetic realized events."""
    bars = replace(load_sample(), venue=venue) if bars is None else bars
    model = LiquidationModel(bin_usd=50.0, band="none")
    est = model.run(bars)
    store.write_bars(bars)
    store.write_realized(synthetic_realized(bars, venue))
    store.write_predictions(
        BarPrediction(venue, SYM, int(t), 300_000, float(lu), float(su), model.to_dict())
        for t, lu, su in zip(bars.ts_ms[WARM:], est.predicted_long_usd[WARM:],
                             est.predicted_short_usd[WARM:], strict=True))
    return bars, est


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    store = DuckDBStore(tmp_path_factory.mktemp("running") / "s.duckdb")
    bars, est = fill(store)
    yield store, bars, est
    store.close()


def _expected(bars, est, sel):
    """``score_all`` of the batch predictions on the bars ``sel`` (no calibration span)."""
    liq = synthetic_realized(bars)
    real = dict(zip(SIDES, liq.per_bar(bars.ts_ms[sel], 300_000), strict=True))
    i = np.flatnonzero(sel)
    base = baselines(bars.open[i], bars.high[i], bars.low[i], bars.open_interest[i - 1])
    preds = {"model": {"long": est.predicted_long_usd[i], "short": est.predicted_short_usd[i]},
             **{b: {"long": v[0], "short": v[1]} for b, v in base.items()}}
    n = i.size
    return score_all(preds, real, np.zeros(n, bool), np.ones(n, bool), {"model"})["scoring"]


def test_rolling_spans_score_like_score_all(filled):
    store, bars, est = filled
    card = running_scorecard(store, "binanceusdm", "BTCUSDT")  # any spelling the store takes
    assert (card["venue"], card["symbol"]) == ("binance", SYM)
    assert card["end_ms"] == int(bars.ts_ms[-1]) + 300_000 and card["bar_ms"] == 300_000
    n = len(bars)
    spans = card["spans"]
    assert [spans[s]["n_bars"] for s in ("24h", "7d", "30d", "all")] == \
        [DAY, 7 * DAY, n - WARM, n - WARM]
    assert spans["24h"]["complete"] and spans["7d"]["complete"] and not spans["30d"]["complete"]
    for label, count in (("24h", DAY), ("7d", 7 * DAY)):
        sel = np.zeros(n, bool)
        sel[n - count:] = True
        want = _expected(bars, est, sel)
        for sd in SIDES:
            for p in ("model", *BASELINES):
                got = spans[label]["metrics"][sd][p]
                for k, w in want[sd][p].to_dict().items():
                    assert got[k] == (pytest.approx(w, rel=1e-12) if w is not None else None)
            assert "over the last " + label in spans[label]["verdict"][sd]["excursion"][
                "statement"]
    assert card["realized_lower_bound"]  # binance: its feed drops liquidations
    assert card["model"]["bin_usd"] == 50.0


def test_the_series_is_compact_and_conserves_the_totals(filled):
    store, bars, est = filled
    card = running_scorecard(store, "binance", SYM)
    s = card["series"]
    assert len(s["ts_ms"]) <= MAX_POINTS and s["bucket_ms"] % 300_000 == 0
    assert s["bucket_ms"] > 300_000  # 8,000+ bars: summed into coarser buckets
    assert sum(s["predicted_long_usd"]) == pytest.approx(est.predicted_long_usd[WARM:].sum())
    all_ = card["spans"]["all"]["totals_usd"]
    assert sum(s["realized_short_usd"]) == pytest.approx(all_["realized_short"])
    assert s["ts_ms"] == sorted(s["ts_ms"]) and s["ts_ms"][0] == int(bars.ts_ms[WARM])


def test_since_and_until_select_the_predictions(filled):
    store, bars, _ = filled
    since, until = int(bars.ts_ms[-3 * DAY]), int(bars.ts_ms[-DAY])
    card = running_scorecard(store, "binance", SYM, since_ms=since, until_ms=until,
                             spans=("24h", "7d"))
    assert card["end_ms"] == until and card["first_ts_ms"] == since
    assert card["spans"]["24h"]["n_bars"] == DAY and card["spans"]["7d"]["n_bars"] == 2 * DAY
    assert not card["spans"]["7d"]["complete"] and card["spans"]["7d"]["start_ms"] == since
    assert set(card["spans"]) == {"24h", "7d", "all"}


def test_a_bar_missing_from_the_store_is_not_scored(tmp_path):
    bars = load_sample().take(slice(0, 3 * DAY))
    gap = 2 * DAY
    with DuckDBStore(tmp_path / "g.duckdb") as store:
        fill(store, bars=bars.take(np.arange(len(bars)) != gap))
        store.write_predictions([BarPrediction("binance", SYM, int(bars.ts_ms[gap]), 300_000,
                                               1.0, 1.0)])
        card = running_scorecard(store)  # the only series stored
    # the prediction without its bar, and the one after the missing bar
    assert card["n_predictions"] - card["n_scored"] == 2
    assert any("2 prediction bars not scored" in n for n in card["notes"])


def test_no_predictions_is_a_clear_error(tmp_path, filled):
    store = DuckDBStore(tmp_path / "empty.duckdb")
    store.write_bars(load_sample().take(slice(0, 10)))
    with pytest.raises(InputError, match=r"empty\.duckdb.*liqmap live --db"):
        running_scorecard(store)
    with pytest.raises(InputError, match=r"no predictions of binance BTC/USDT:USDT stored in "
                       r".*empty\.duckdb.*liqmap live --db"):
        running_scorecard(store, "binance", SYM)
    with pytest.raises(InputError, match="in the span asked"):
        running_scorecard(filled[0], "binance", SYM, since_ms=int(filled[1].ts_ms[-1]) + 1)
    with pytest.raises(ConfigError, match="unknown span"):
        running_scorecard(filled[0], "binance", SYM, spans=("2w",))
    store.close()


def test_a_venue_with_a_complete_feed_is_not_a_lower_bound(tmp_path):
    with DuckDBStore(tmp_path / "o.duckdb") as store:
        fill(store, venue="okx", bars=replace(load_sample().take(slice(0, 2 * DAY)),
                                              venue="okx"))
        card = running_scorecard(store, "okx", SYM)
    assert not card["realized_lower_bound"]
    assert not any("lower bound" in n for n in card["notes"])
