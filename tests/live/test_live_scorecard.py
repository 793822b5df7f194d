"""The running scorecard end to end: a loopback live run into a store, scored from the store,
equals a batch backtest over the same stored bars and realized liquidations."""

from __future__ import annotations

import numpy as np
import pytest
from tests.live.test_live_runner import force_orders

from liqmap.io.sample import load_sample
from liqmap.live.runner import Backoff, LiveRunner, VenueFeed
from liqmap.live.sinks import StoreSink
from liqmap.model import LiquidationModel
from liqmap.scorecard.backtest import BASELINES, SIDES, run_backtest
from liqmap.scorecard.dataset import from_store
from liqmap.scorecard.running import running_scorecard
from liqmap.store import DuckDBStore
from liqmap.venues.binance import BinanceLoopback, BinanceRest, BinanceStream

START = 4800       # a stretch where the model predicts liquidations on both sides
LIQ_START = 7650   # 2025-12-27 03:30 UTC: where the recorded force orders fall
WARM = 192         # 16 h of 5-minute bars: the batch warm-up ends where the stream begins
MAX_BARS = 40
SYM = "BTC/USDT:USDT"


def liquidations(bars) -> list[dict]:
    """Force-order payloads inside the streamed stretch: the recorded BTCUSDT ones moved
    from LIQ_START to START, plus one per bar of the 12 widest bars (a long liquidated at
    the low, a short at the high, alternately), so that the realized series has substance."""
    shift = int(bars.ts_ms[START]) - int(bars.ts_ms[LIQ_START])
    rec = [o for o in force_orders() if o["s"] == "BTCUSDT"]
    out = [{**o, "T": o["T"] + shift} for o in rec]
    stretch = np.arange(START, START + MAX_BARS)
    wide = stretch[np.argsort(bars.low[stretch] - bars.high[stretch])[:12]]
    for k, i in enumerate(sorted(wide)):
        long_ = k % 2 == 0
        px = float(bars.low[i] if long_ else bars.high[i])
        qty = f"{0.5 + 0.25 * k:.3f}"
        out.append({**rec[0], "S": "SELL" if long_ else "BUY", "p": f"{px}", "ap": f"{px}",
                    "q": qty, "l": qty, "z": qty, "T": int(bars.ts_ms[i]) + 60_000})
    return sorted(out, key=lambda o: o["T"])


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A store filled by the live runner (StoreSink) from a loopback Binance server."""
    bars = load_sample().take(slice(0, LIQ_START + MAX_BARS + 3))
    fed = bars.take(slice(START - WARM, START + MAX_BARS))
    db = tmp_path_factory.mktemp("live") / "live.duckdb"
    store = DuckDBStore(db)
    with BinanceLoopback(bars, start=START, liquidations=liquidations(bars)) as srv:
        runner = LiveRunner([VenueFeed(BinanceStream(url=srv.ws_url),
                                       BinanceRest(url=srv.rest_url))],
                            LiquidationModel(bin_usd=50.0), warm_bars=WARM, max_bars=MAX_BARS,
                            backoff=Backoff(initial_s=0.02, factor=2.0, max_s=0.2),
                            sink=StoreSink(store, params={"command": "test"}, snapshot_every=8),
                            clock_ms=lambda: int(bars.ts_ms[START]),
                            reference_price_usd=float(np.median(fed.close)))
        runner.run_sync()
    yield store, fed
    store.close()


def test_stored_predictions_equal_the_batch_model_over_the_stored_bars(stored):
    store, fed = stored
    preds = store.read_predictions("binance", SYM)
    np.testing.assert_array_equal([p.ts_ms for p in preds], fed.ts_ms[WARM:])
    assert {p.bar_ms for p in preds} == {300_000}
    params = {k: v for k, v in preds[-1].params.items() if k != "command"}
    model = LiquidationModel.from_dict(params)  # the parameters stored with the predictions
    est = model.run(store.read_bars("binance", SYM))
    for sd in SIDES:
        got = np.array([getattr(p, f"predicted_{sd}_usd") for p in preds])
        np.testing.assert_allclose(got, getattr(est, f"predicted_{sd}_usd")[WARM:],
                                   rtol=1e-9, atol=1e-6)
        assert (got > 0).sum() >= 5  # a comparison with substance
    assert len(store.read_snapshots("binance", SYM)) == MAX_BARS // 8
    assert len(store.read_realized("binance", SYM)) >= 12


def test_running_scorecard_equals_a_batch_backtest_of_the_store(stored):
    store, fed = stored
    preds = store.read_predictions("binance", SYM)
    model = LiquidationModel.from_dict({k: v for k, v in preds[-1].params.items()
                                        if k != "command"})
    first = int(fed.ts_ms[WARM])
    data = from_store(store, "binance", SYM, fit_until_ms=first, warmup_hours=WARM / 12)
    batch = run_backtest(data=data, model=model)
    np.testing.assert_array_equal(batch.ts_ms, fed.ts_ms[WARM:])
    assert batch.is_scoring.all()

    card = running_scorecard(store, "binance", SYM)
    assert card["realized_lower_bound"] and card["n_scored"] == MAX_BARS
    for label in ("24h", "7d", "30d", "all"):
        span = card["spans"][label]
        assert span["n_bars"] == MAX_BARS and not (label != "all" and span["complete"])
        for sd in SIDES:
            for pred in ("model", *BASELINES):
                got, want = span["metrics"][sd][pred], batch.metrics["scoring"][sd][pred].to_dict()
                assert got.keys() == want.keys()
                for k, w in want.items():
                    if w is None:
                        assert got[k] is None, (label, sd, pred, k)
                    else:
                        assert got[k] == pytest.approx(w, rel=1e-6, abs=1e-9), (sd, pred, k)
            assert span["totals_usd"][f"realized_{sd}"] == pytest.approx(
                float(batch.realized[sd].sum()))
        verdict = batch.summary()["verdict"]
        for sd in SIDES:
            for b in BASELINES:
                assert span["verdict"][sd][b]["beats"] == verdict[sd][b]["beats"]
                assert span["verdict"][sd][b]["wins"] == verdict[sd][b]["wins"]
    for sd in SIDES:  # figures with substance, not NaN against NaN
        assert card["spans"]["all"]["totals_usd"][f"realized_{sd}"] > 0
        assert card["spans"]["all"]["metrics"][sd]["model"]["spearman"] is not None
    series = card["series"]
    assert series["ts_ms"] == fed.ts_ms[WARM:].tolist()  # 40 bars: no bucketing needed
    np.testing.assert_allclose(series["realized_long_usd"], batch.realized["long"])


def test_live_cli_stores_predictions_and_snapshots_at_the_cadence_asked(tmp_path):
    from typer.testing import CliRunner

    from liqmap.cli import app

    bars = load_sample().take(slice(0, START + 22))
    db = tmp_path / "cli.duckdb"
    with BinanceLoopback(bars, start=START) as srv:
        res = CliRunner().invoke(app, [
            "live", "--venue", "binance", "--ws-url", srv.ws_url, "--rest-url", srv.rest_url,
            "--warm-bars", "100", "--max-bars", "12", "--bin-usd", "50", "--now",
            str(int(bars.ts_ms[START])), "--db", str(db), "--snapshot-every", "5", "--json"])
    assert res.exit_code == 0, res.output
    with DuckDBStore(db, read_only=True) as store:
        preds = store.read_predictions("binance", SYM)
        snaps = store.read_snapshots("binance", SYM)
    np.testing.assert_array_equal([p.ts_ms for p in preds], bars.ts_ms[START:START + 12])
    assert preds[0].params["command"] == "live" and preds[0].params["bin_usd"] == 50.0
    # every 5th bar, and the last one at the end of the run
    assert [s.ts_ms for s in snaps] == [int(bars.ts_ms[START + i]) for i in (4, 9, 11)]
    card = CliRunner().invoke(app, ["scorecard", "--db", str(db), "--json"])
    assert card.exit_code == 0, card.output
    assert '"n_predictions": 12' in card.output
    for cmd in ("live", "serve"):
        assert "--snapshot-every" in CliRunner().invoke(app, [cmd, "--help"]).output
