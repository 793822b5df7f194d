"""``liqmap watch --db --record / --report``: the level watch stored and listed."""

from __future__ import annotations

import json

import numpy as np
import pytest

from liqmap.cli import main
from liqmap.core.realized import RealizedLiquidations
from liqmap.io.sample import load_sample
from liqmap.model import LiquidationModel
from liqmap.store import DuckDBStore
from liqmap.watch import AlertRule
from liqmap.watch.approaches import summarize_approaches, watch_approaches

BTC = "BTC/USDT:USDT"


def run(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code in (0, None)


@pytest.fixture(scope="module")
def series():
    bars = load_sample().take(slice(0, 1200))
    rng = np.random.default_rng(3)
    ts = np.sort(rng.integers(int(bars.ts_ms[0]), int(bars.ts_ms[-1]), 400))
    liq = RealizedLiquidations(ts_ms=ts.astype(np.int64),
                               side=rng.choice(np.array([1, -1], np.int8), 400),
                               price=np.full(400, 90_000.0), qty_coin=rng.gamma(2.0, 0.5, 400),
                               notional_usd=np.zeros(400), venue="binance", symbol=BTC)
    liq = RealizedLiquidations(ts_ms=liq.ts_ms, side=liq.side, price=liq.price,
                               qty_coin=liq.qty_coin, notional_usd=liq.qty_coin * 90_000.0,
                               venue="binance", symbol=BTC)
    return bars, liq


@pytest.fixture
def db(tmp_path, series):
    path = tmp_path / "w.duckdb"
    with DuckDBStore(path) as st:
        st.write_bars(series[0])
        st.write_realized(series[1])
    return str(path)


def test_record_then_report_json(db, series, capsys):
    run(["watch", "--db", db, "--record", "--distance-pct", "0.5", "--json"])
    rec = json.loads(capsys.readouterr().out)["recorded"]
    want = watch_approaches(LiquidationModel(), *series[:1], [AlertRule(0.5)], series[1],
                            every=12)
    assert rec == {"written": len(want), "approaches": len(want),
                   "pending": sum(a.outcome == "pending" for a in want)}
    assert len(want) > 3 and {a.outcome for a in want} >= {"through", "rejected"}
    assert sum(a.realized_long_usd + a.realized_short_usd for a in want) > 0

    run(["watch", "--db", db, "--report", "--json"])
    rep = json.loads(capsys.readouterr().out)
    assert rep["approaches"] == [a.to_dict() for a in want]
    assert rep["summary"] == summarize_approaches(want)

    # recording again changes nothing; --since and --venue narrow the report
    run(["watch", "--db", db, "--record", "--distance-pct", "0.5", "--json"])
    capsys.readouterr()
    since = want[len(want) // 2].ts_ms
    run(["watch", "--db", db, "--report", "--json", "--since", str(since), "--venue", "okx"])
    assert json.loads(capsys.readouterr().out)["approaches"] == []
    run(["watch", "--db", db, "--report", "--json", "--since", str(since)])
    got = json.loads(capsys.readouterr().out)["approaches"]
    assert got == [a.to_dict() for a in want if a.ts_ms >= since]


def test_pending_resolved_when_later_bars_are_stored(tmp_path, series, capsys):
    bars, liq = series
    cut = next(c for c in range(900, 1150, 10) if any(
        a.outcome == "pending" for a in watch_approaches(
            LiquidationModel(), bars.take(slice(0, c)), [AlertRule(0.5)], every=12)))
    path = str(tmp_path / "p.duckdb")
    with DuckDBStore(path) as st:
        st.write_bars(bars.take(slice(0, cut)))
        st.write_realized(liq)
    run(["watch", "--db", path, "--record", "--distance-pct", "0.5", "--json"])
    capsys.readouterr()
    with DuckDBStore(path, read_only=True) as st:
        before = st.read_level_approaches()
    pending = [a for a in before if a.outcome == "pending"]
    assert pending, "the last approach of a cut series is pending"
    with DuckDBStore(path) as st:
        st.write_bars(bars.take(slice(cut, None)))
    run(["watch", "--db", path, "--record", "--distance-pct", "0.5", "--json", "--start",
         str(int(bars.ts_ms[cut]))])
    capsys.readouterr()
    with DuckDBStore(path, read_only=True) as st:
        after = {(a.ts_ms, a.side, a.cluster_price_usd): a for a in st.read_level_approaches()}
    for p in pending:
        assert after[(p.ts_ms, p.side, p.cluster_price_usd)].outcome in ("through", "rejected")


def test_report_table_and_errors(db, capsys):
    run(["watch", "--db", db, "--record", "--report", "--distance-pct", "0.5"])
    out = capsys.readouterr().out
    assert "stored" in out and "Level watch" in out and "Summary per side" in out
    with pytest.raises(SystemExit) as exc:
        main(["watch", "--report"])
    assert exc.value.code not in (0, None)
    assert "--db" in capsys.readouterr().err


def test_report_without_venue_or_symbol_lists_every_stored_series(tmp_path, capsys):
    """``--report`` with no --venue / --symbol reports every stored series, not only the
    defaults (binance BTC): the option source is read whatever click typer bundles."""
    from liqmap.store import LevelApproach

    t0 = 1_767_225_600_000

    def approach(venue: str, symbol: str) -> LevelApproach:
        return LevelApproach(venue=venue, symbol=symbol, ts_ms=t0, side="long",
                             cluster_price_usd=85_000.0, notional_usd=5e7, price_usd=85_500.0,
                             distance_pct=-0.58, horizon_start_ms=t0 + 300_000,
                             horizon_ms=3_600_000, outcome="pending", crossed_ts_ms=None,
                             max_beyond_pct=0.0, move_pct=-0.2, realized_long_usd=0.0,
                             realized_short_usd=0.0, map_ts_ms=t0 - 300_000)

    path = str(tmp_path / "two.duckdb")
    with DuckDBStore(path) as st:
        st.write_level_approaches([approach("binance", BTC), approach("okx", BTC),
                                   approach("bybit", "ETH/USDT:USDT")])
    run(["watch", "--db", path, "--report", "--json"])
    got = json.loads(capsys.readouterr().out)["approaches"]
    assert sorted((a["venue"], a["symbol"]) for a in got) == [
        ("binance", BTC), ("bybit", "ETH/USDT:USDT"), ("okx", BTC)]
    run(["watch", "--db", path, "--report", "--json", "--venue", "okx"])
    got = json.loads(capsys.readouterr().out)["approaches"]
    assert [(a["venue"], a["symbol"]) for a in got] == [("okx", BTC)]
