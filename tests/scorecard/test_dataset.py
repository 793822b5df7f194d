"""A scorecard dataset from any data (:mod:`liqmap.scorecard.dataset`).

- round trip: window A and C -> ``export_inputs`` -> ``load_dataset`` give the same arrays,
  the same backtest and the same fit (needs ../shared/data; skipped with a reason otherwise);
- the fit reads nothing at or after ``fit_until`` (shared data and the bundled sample);
- alignment rules of :func:`dataset`, the per-bar realized reader, event files summed per
  bar, and the store path (bundled sample, runs everywhere).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from liqmap._exceptions import ConfigError, DataError, InputError
from liqmap.core.realized import RealizedLiquidations
from liqmap.io.sample import load_sample
from liqmap.scorecard.backtest import run_backtest
from liqmap.scorecard.calibrate import default_grid, fit_calibration
from liqmap.scorecard.dataset import (
    RealizedBars,
    dataset,
    export_inputs,
    from_store,
    load_dataset,
    read_realized_bars,
    realized_from_events,
)
from liqmap.scorecard.frame import score_frame
from liqmap.scorecard.windows import CALIBRATION_END_MS, default_data_dir
from liqmap.timeutil import parse_time_ms

M5 = 300_000
H = 3_600_000
DAY = 86_400_000
PRESET = "fitted-binance-btcusdt-2025-12"
GRID = default_grid()[:3]
BAR_FIELDS = ("ts_ms", "open", "high", "low", "close", "volume", "open_interest",
              "taker_buy_volume", "taker_delta", "funding_rate")

DATA = default_data_dir()
HAVE = (DATA / "raw" / "coinglass_ismethanhtung").is_dir() and (
    DATA / "raw" / "binance_um_hlreaper").is_dir()
_skip = pytest.mark.skipif(not HAVE, reason=f"shared data not found at {DATA}; set "
                           "LIQMAP_SHARED_DATA to the folder holding raw/")


def needs_data(fn):
    """Needs the shared data folder (skipped with a reason when absent)."""
    return pytest.mark.shared_data(_skip(fn))


# slices of the research windows (small, fast)
SLICES = {"A": ("2025-12-04", "2026-02-20", CALIBRATION_END_MS),
          "C": ("2026-05-25", "2026-06-04", parse_time_ms("2026-06-01"))}


# ---------------------------------------------------------------------------- helpers


def sample_bars(days: float | None = None):
    """The bundled Binance BTCUSDT 5-minute sample (December 2025), optionally cut."""
    b = load_sample()
    if days is None:
        return b
    return b.take(b.ts_ms < b.ts_ms[0] + int(days * DAY))


def synthetic_totals(bars, score_ms: int = M5) -> RealizedBars:
    """Deterministic realized totals per scoring bar from the bars' adverse excursions."""
    df = pd.DataFrame({"ts": bars.ts_ms, "open": bars.open, "high": bars.high,
                       "low": bars.low, "oi": bars.open_interest})
    df["k"] = df.ts - df.ts % score_ms
    g = df.groupby("k", sort=True).agg(open=("open", "first"), high=("high", "max"),
                                      low=("low", "min"), oi=("oi", "first"))
    exc_l = (g.open - g.low) / g.open
    exc_s = (g.high - g.open) / g.open
    scale = g.oi * g.open * 0.05
    wiggle = 1.0 + 0.5 * np.sin(np.arange(len(g)) * 0.7)  # deterministic, not a pure fn of range
    return RealizedBars(ts_ms=g.index.to_numpy(np.int64),
                        long_usd=(scale * exc_l ** 1.5 * wiggle).to_numpy(np.float64),
                        short_usd=(scale * exc_s ** 1.5 / wiggle).to_numpy(np.float64),
                        bar_ms=score_ms, source="synthetic")


def synthetic_events(bars, n: int = 400, seed: int = 7) -> RealizedLiquidations:
    """Liquidation events spread over the bars' span (unique times, Binance BTC)."""
    rng = np.random.default_rng(seed)
    lo, hi = int(bars.ts_ms[0]), int(bars.ts_ms[-1]) + M5
    ts = np.sort(rng.choice(np.arange(lo, hi, 1_000), n, replace=False)).astype(np.int64)
    side = np.where(rng.random(n) < 0.5, 1, -1).astype(np.int8)
    price = np.interp(ts, bars.ts_ms, bars.close)
    qty = np.round(rng.lognormal(-2, 1.5, n), 3) + 0.001
    return RealizedLiquidations(ts_ms=ts, side=side, price=price, qty_coin=qty,
                                notional_usd=qty * price, venue="binance",
                                symbol="BTC/USDT:USDT", source="synthetic events")


def assert_same_dataset(a, b, *, exact_bars: bool = True) -> None:
    """Bars arrays, realized arrays, after_gap, score_ts and the spans are equal."""
    for f in BAR_FIELDS:
        va, vb = getattr(a.bars, f, None), getattr(b.bars, f, None)
        assert (va is None) == (vb is None), f
        if va is not None:
            if exact_bars:
                np.testing.assert_array_equal(va, vb, err_msg=f)
            else:
                np.testing.assert_allclose(va, vb, rtol=1e-12, err_msg=f)
    np.testing.assert_array_equal(a.realized_long_usd, b.realized_long_usd)
    np.testing.assert_array_equal(a.realized_short_usd, b.realized_short_usd)
    np.testing.assert_array_equal(a.after_gap, b.after_gap)
    np.testing.assert_array_equal(np.asarray(a.score_ts), np.asarray(b.score_ts))
    for k in ("bar_ms", "score_ms", "calibration_end_ms", "scoring_start_ms", "warmup_hours"):
        assert getattr(a.spec, k) == getattr(b.spec, k), k


def preset_core(cal) -> dict:
    """The parts of a fitted preset a fit decides: chosen point, model, combination."""
    d = cal.preset.to_dict()
    return {"best": d["selection"]["best"], "model": d["model"], "combine": d["combine"]}


def assert_same_fit(a: dict, b: dict) -> None:
    assert a["best"]["point"] == b["best"]["point"]
    assert a["best"]["offset"] == pytest.approx(b["best"]["offset"], rel=1e-9)
    assert a["model"] == b["model"]
    assert a["combine"].keys() == b["combine"].keys()
    for sd, fa in a["combine"].items():
        fb = b["combine"][sd]
        assert fa.keys() == fb.keys(), sd
        for k, v in fa.items():
            if isinstance(v, float):
                assert v == pytest.approx(fb[k], rel=1e-9, abs=1e-12), (sd, k)
            else:
                assert v == fb[k], (sd, k)


# ------------------------------------------------------ round trip of windows A and C


@pytest.fixture(scope="module", params=["A", "C"])
def window_pair(request, tmp_path_factory):
    """(window as loaded, the same exported and reloaded with load_dataset)."""
    if not HAVE:
        pytest.skip(f"shared data not found at {DATA}; set LIQMAP_SHARED_DATA")
    from liqmap.scorecard.data import load_window

    name = request.param
    start, end, fit_until = SLICES[name]
    win = load_window(name, DATA, start_ms=parse_time_ms(start), end_ms=parse_time_ms(end))
    win = replace(win, spec=replace(win.spec, calibration_end_ms=fit_until))
    folder = tmp_path_factory.mktemp(f"inputs-{name}")
    files = export_inputs(win, folder)
    assert set(files) == {"bars", "realized"}
    back = load_dataset(files["bars"], files["realized"], fit_until_ms=fit_until,
                        warmup_hours=win.spec.warmup_hours, name=name)
    return win, back


@needs_data
def test_round_trip_gives_the_same_arrays(window_pair):
    win, back = window_pair
    assert_same_dataset(win, back)
    assert back.spec.name == win.spec.name
    # the gaps inside the slice are the reloaded dataset's gaps
    lo, hi = int(win.bars.ts_ms[0]), int(win.bars.ts_ms[-1])
    if win.spec.score_ms == win.spec.bar_ms:
        assert set(back.gaps_ms) == {t for t in win.gaps_ms if lo < t < hi}


@needs_data
def test_round_trip_gives_the_same_backtest(window_pair):
    win, back = window_pair
    a = run_backtest(data=win, preset=PRESET)
    b = run_backtest(data=back, preset=PRESET)
    np.testing.assert_array_equal(a.ts_ms, b.ts_ms)
    np.testing.assert_array_equal(a.is_scoring, b.is_scoring)
    for sd in ("long", "short"):
        np.testing.assert_array_equal(a.predicted[sd], b.predicted[sd])
        np.testing.assert_array_equal(a.book[sd], b.book[sd])
        np.testing.assert_array_equal(a.realized[sd], b.realized[sd])
    assert a.summary()["spans"] == b.summary()["spans"]


@needs_data
def test_round_trip_gives_the_same_fit(window_pair):
    win, back = window_pair
    a = fit_calibration(win, grid=GRID, name="t")
    b = fit_calibration(back, grid=GRID, name="t")
    assert_same_fit(preset_core(a), preset_core(b))
    assert [s.cv_r2_log for s in a.scores] == pytest.approx([s.cv_r2_log for s in b.scores],
                                                            rel=1e-9)


# ------------------------------------------------- nothing at or after fit_until is read


def _perturb_after(data, cut_ms: int, factor: float = 3.0):
    """Open interest x factor, prices x 1.1, realized replaced by noise at/after ``cut_ms``."""
    b = data.bars
    k = b.ts_ms >= cut_ms
    bars = replace(b, open=np.where(k, b.open * 1.1, b.open),
                   high=np.where(k, b.high * 1.1, b.high), low=np.where(k, b.low * 1.1, b.low),
                   close=np.where(k, b.close * 1.1, b.close),
                   open_interest=np.where(k, b.open_interest * factor, b.open_interest))
    after = np.asarray(data.score_ts) >= cut_ms
    rng = np.random.default_rng(11)
    rl, rs = data.realized_long_usd.copy(), data.realized_short_usd.copy()
    rl[after] = rng.lognormal(16, 3, after.sum())
    rs[after] = rng.lognormal(12, 3, after.sum())
    return replace(data, bars=bars, realized_long_usd=rl, realized_short_usd=rs)


def _perturb_files(folder, out, cut_ms: int):
    """The same perturbation on exported files (through the file loaders)."""
    out.mkdir()
    bars = pd.read_csv(folder / "bars.csv")
    k = bars.ts_ms >= cut_ms
    for c in ("open", "high", "low", "close"):
        bars.loc[k, c] *= 1.1
    bars.loc[k, "open_interest"] *= 3.0
    bars.to_csv(out / "bars.csv", index=False, float_format="%.17g")
    real = pd.read_csv(folder / "realized.csv")
    k = real.ts_ms >= cut_ms
    real.loc[k, "long_usd"] = np.random.default_rng(5).lognormal(16, 3, k.sum())
    real.loc[k, "short_usd"] = 0.0
    real.to_csv(out / "realized.csv", index=False, float_format="%.17g")
    return out / "bars.csv", out / "realized.csv"


@needs_data
def test_fit_on_files_ignores_everything_after_fit_until(tmp_path):
    from liqmap.scorecard.data import load_window

    win = load_window("A", DATA, start_ms=parse_time_ms("2025-12-20"),
                      end_ms=parse_time_ms("2026-02-15"))
    files = export_inputs(win, tmp_path / "in")
    fit_until = CALIBRATION_END_MS
    base = load_dataset(files["bars"], files["realized"], fit_until_ms=fit_until)
    pb, pr = _perturb_files(tmp_path / "in", tmp_path / "perturbed", fit_until)
    pert = load_dataset(pb, pr, fit_until_ms=fit_until)
    assert not np.array_equal(base.bars.open_interest, pert.bars.open_interest)
    a = fit_calibration(base, grid=GRID).preset.to_dict()
    b = fit_calibration(pert, grid=GRID).preset.to_dict()
    sa, sb = a.pop("sources"), b.pop("sources")  # the two folders' names differ
    assert sa[1:] == [x.replace("perturbed", "in") for x in sb[1:]]
    assert a == b


def test_fit_on_the_sample_ignores_everything_after_fit_until():
    bars = sample_bars(days=12)
    fit_until = int(bars.ts_ms[0]) + 8 * DAY
    data = dataset(bars, synthetic_totals(bars, 30 * 60_000), fit_until_ms=fit_until)
    assert data.spec.calibration_end_ms == fit_until
    base = fit_calibration(data, grid=GRID).preset.to_dict()
    pert = fit_calibration(_perturb_after(data, fit_until), grid=GRID).preset.to_dict()
    assert base == pert
    assert base["fit_span"]["end"] < "2025-12-09"
    # ... while the same change from one day earlier does change the fit
    early = fit_calibration(_perturb_after(data, fit_until - DAY), grid=GRID).preset.to_dict()
    assert early["combine"] != base["combine"]


def test_fit_does_not_depend_on_how_much_data_follows_fit_until():
    bars = sample_bars(days=9)
    real = synthetic_totals(bars)
    fit_until = int(bars.ts_ms[0]) + 5 * DAY
    long_ = dataset(bars, real, fit_until_ms=fit_until)
    cut = bars.take(bars.ts_ms < fit_until)
    short = dataset(cut, real.take(real.ts_ms < fit_until), fit_until_ms=fit_until)
    assert long_.spec.warmup_hours == short.spec.warmup_hours
    assert preset_core(fit_calibration(long_, grid=GRID)) == \
        preset_core(fit_calibration(short, grid=GRID))


# --------------------------------------------------------- dataset(): alignment rules


def test_sample_round_trip_through_files(tmp_path):
    bars = sample_bars(days=6)
    data = dataset(bars, synthetic_totals(bars, 30 * 60_000),
                   fit_until_ms=int(bars.ts_ms[0]) + 4 * DAY)
    files = export_inputs(data, tmp_path)
    back = load_dataset(files["bars"], files["realized"],
                        fit_until_ms=data.spec.calibration_end_ms)
    assert_same_dataset(data, back)
    assert back.spec.score_ms == 30 * 60_000 and back.spec.bar_ms == M5
    assert back.spec.warmup_hours == 32  # a third of the 4 days before fit-until


def test_aligned_series_score_on_the_engine_bars():
    bars = sample_bars(days=3)
    data = dataset(bars, synthetic_totals(bars))
    assert data.score_ts_ms is None
    assert data.spec.calibration_end_ms == int(bars.ts_ms[-1]) + M5  # all calibration
    assert data.spec.scoring_start_ms == data.spec.calibration_end_ms
    assert not data.after_gap.any()


def test_coarser_realized_bars_are_multiples_of_the_engine_bar():
    bars = sample_bars(days=3)
    real = synthetic_totals(bars, H)
    data = dataset(bars, real)
    assert data.spec.score_ms == H and data.spec.bar_ms == M5
    np.testing.assert_array_equal(data.score_ts, real.ts_ms)
    frame = score_frame(data, 0)
    assert frame.scored.all()


def test_realized_outside_the_bars_is_dropped():
    bars = sample_bars(days=4)
    real = synthetic_totals(sample_bars(days=6))
    data = dataset(bars, real)
    assert np.asarray(data.score_ts).max() == bars.ts_ms[-1]
    assert data.realized_long_usd.size == len(bars)


def test_a_missing_engine_bar_or_realized_bar_flags_the_next_scoring_bar():
    bars = sample_bars(days=3)
    drop = 100
    gappy = bars.take(np.arange(len(bars)) != drop)
    real = synthetic_totals(bars)
    data = dataset(gappy, real)
    ts = np.asarray(data.score_ts)
    flagged = set(ts[data.after_gap].tolist())
    assert flagged == {int(bars.ts_ms[drop + 1])}
    assert data.gaps_ms == (int(bars.ts_ms[drop]),)
    # a missing realized bar flags the realized bar after it
    rdrop = 300
    data = dataset(bars, real.take(np.arange(real.ts_ms.size) != rdrop))
    ts = np.asarray(data.score_ts)
    assert set(ts[data.after_gap].tolist()) == {int(real.ts_ms[rdrop + 1])}
    assert int(real.ts_ms[rdrop]) not in set(ts.tolist())


def test_a_gap_between_fit_until_and_score_from_is_neither_span():
    bars = sample_bars(days=6)
    t0 = int(bars.ts_ms[0])
    fit_until, score_from = t0 + 3 * DAY, t0 + 4 * DAY
    data = dataset(bars, synthetic_totals(bars, H), fit_until_ms=fit_until,
                   score_from_ms=score_from)
    frame = score_frame(data, 24)
    between = (frame.ts_ms >= fit_until) & (frame.ts_ms < score_from)
    assert between.sum() == 24
    assert not (frame.calibration_mask & between).any()
    assert not (frame.is_scoring & between).any()
    res = run_backtest(data=data, preset=PRESET)
    kept = res.ts_ms
    assert not ((kept >= fit_until) & (kept < score_from)).any()
    assert kept[~res.is_scoring].max() < fit_until <= score_from <= kept[res.is_scoring].min()
    spans = res.summary()["spans"]
    assert spans["calibration"]["end"] == "2025-12-03T23:00Z"
    assert spans["scoring"]["start"] == "2025-12-05T00:00Z"
    # score_from alone sets fit_until
    only = dataset(bars, synthetic_totals(bars, H), score_from_ms=score_from)
    assert only.spec.calibration_end_ms == only.spec.scoring_start_ms == score_from


def test_score_from_before_fit_until_is_refused():
    bars = sample_bars(days=3)
    t0 = int(bars.ts_ms[0])
    with pytest.raises(ConfigError, match="(?s)--score-from.*before --fit-until"):
        dataset(bars, synthetic_totals(bars), fit_until_ms=t0 + 2 * DAY,
                score_from_ms=t0 + DAY)


def test_realized_bars_not_a_multiple_of_the_engine_bar_are_refused():
    bars = sample_bars(days=2)
    real = synthetic_totals(bars, 7 * 60_000)
    with pytest.raises(DataError, match="not a multiple of the engine bars of 300 s") as e:
        dataset(bars, real)
    assert e.value.source == "synthetic"


def test_realized_off_the_bar_boundaries_is_refused():
    bars = sample_bars(days=2)
    real = synthetic_totals(bars)
    off = replace(real, ts_ms=real.ts_ms + 60_000)
    with pytest.raises(DataError, match="does not open on an engine bar boundary") as e:
        dataset(bars, off)
    assert e.value.row == 0 and "use bar open times" in str(e.value)


def test_realized_not_overlapping_the_bars_is_refused():
    bars = sample_bars(days=2)
    real = synthetic_totals(bars)
    later = replace(real, ts_ms=real.ts_ms + 30 * DAY)
    with pytest.raises(DataError, match="overlap in fewer than 2 realized bars") as e:
        dataset(bars, later)
    assert "2025-12-31" in str(e.value) and "same period" in str(e.value)


# ------------------------------------------------------------ the per-bar realized file


def _write(tmp_path, name, df):
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


def _totals_frame(n=10, t0=1_764_547_200_000):
    return pd.DataFrame({"ts_ms": t0 + M5 * np.arange(n), "long_usd": np.arange(n) * 10.0,
                         "short_usd": np.arange(n) * 20.0})


def test_read_realized_bars(tmp_path):
    path = _write(tmp_path, "r.csv", _totals_frame())
    r = read_realized_bars(path)
    assert r.bar_ms == M5 and r.source == "r.csv" and r.ts_ms.dtype == np.int64
    assert r.long_usd.tolist() == [10.0 * i for i in range(10)]


@pytest.mark.parametrize("case, fragment, row", [
    ("missing", "missing column(s) ['short_usd']", None),
    ("negative", "long_usd = -5.0 is not a USD amount >= 0", 3),
    ("text", "short_usd = 'abc' is not a USD amount >= 0", 4),
    ("unsorted", "ts_ms not strictly increasing; sort the file", 5),
    ("duplicate", "ts_ms not strictly increasing", 2),
    ("one_row", "fewer than 2 rows", None),
    ("fraction", "whole milliseconds", None),
])
def test_bad_realized_files_name_file_row_and_fix(tmp_path, case, fragment, row):
    df = _totals_frame()
    if case == "missing":
        df = df.drop(columns="short_usd")
    elif case == "negative":
        df.loc[3, "long_usd"] = -5.0
    elif case == "text":
        df["short_usd"] = df["short_usd"].astype(object)
        df.loc[4, "short_usd"] = "abc"
    elif case == "unsorted":
        df.loc[[4, 5], "ts_ms"] = df.loc[[5, 4], "ts_ms"].to_numpy()
    elif case == "duplicate":
        df.loc[2, "ts_ms"] = df.loc[1, "ts_ms"]
    elif case == "one_row":
        df = df.iloc[:1]
    elif case == "fraction":
        df["ts_ms"] = df["ts_ms"].astype(float) + 0.5
    path = _write(tmp_path, "real.csv", df)
    with pytest.raises(DataError) as e:
        read_realized_bars(path)
    assert fragment in str(e.value)
    assert str(path) in str(e.value)
    if row is not None:
        assert e.value.row == row


# ------------------------------------------------------ event files summed per bar


def _pandas_sums(liq_frame: pd.DataFrame, grid: np.ndarray, bar_ms: int):
    """Per-bar long/short USD computed directly (SELL = a long liquidated)."""
    k = (liq_frame.ts // bar_ms) * bar_ms
    out = {}
    for side, name in (("SELL", "long"), ("BUY", "short")):
        s = liq_frame[liq_frame.side == side].groupby(k[liq_frame.side == side]).usd.sum()
        out[name] = s.reindex(grid, fill_value=0.0).to_numpy()
    return out


def test_snapshot_file_is_summed_per_bar(fx):
    path = fx("BTCUSDT-liquidationSnapshot-2025-12-27.csv")
    bars = sample_bars()
    bars = bars.take((bars.ts_ms >= parse_time_ms("2025-12-26"))
                     & (bars.ts_ms < parse_time_ms("2025-12-30")))
    data = load_dataset(bars, path)
    raw = pd.read_csv(path).drop_duplicates()
    price = raw.average_price.where(raw.average_price > 0, raw.price)
    frame = pd.DataFrame({"ts": raw.time, "side": raw.side,
                          "usd": raw.accumulated_fill_quantity * price})
    want = _pandas_sums(frame, bars.ts_ms, M5)
    assert data.score_ts_ms is None  # one realized bar per engine bar
    np.testing.assert_allclose(data.realized_long_usd, want["long"], rtol=1e-12)
    np.testing.assert_allclose(data.realized_short_usd, want["short"], rtol=1e-12)
    assert data.realized_long_usd.sum() > 0 and data.realized_short_usd.sum() > 0
    assert any("lower bound" in n for n in data.notes)


def test_forceorder_file_is_summed_per_coarser_bar(fx):
    path = fx("forceorder_allsymbols_sample.csv")
    bars = sample_bars()
    bars = bars.take((bars.ts_ms >= parse_time_ms("2025-12-26"))
                     & (bars.ts_ms < parse_time_ms("2025-12-30")))
    data = load_dataset(bars, path, score_bar_ms=H)
    raw = pd.read_csv(path)
    raw = raw[raw.symbol_stripped == "BTC"]
    price = raw.average_price.where(raw.average_price > 0, raw.price)
    frame = pd.DataFrame({"ts": raw.trade_time_ms, "side": raw.side,
                          "usd": raw.accumulated_filled_quantity * price})
    grid = np.asarray(data.score_ts)
    assert data.spec.score_ms == H and np.all(np.diff(grid) == H)
    want = _pandas_sums(frame, grid, H)
    np.testing.assert_allclose(data.realized_long_usd, want["long"], rtol=1e-12)
    np.testing.assert_allclose(data.realized_short_usd, want["short"], rtol=1e-12)
    # the same rows as the snapshot file (forceOrder's own USD column agrees)
    assert data.realized_short_usd.sum() == pytest.approx(
        (raw.accumulated_filled_quantity * raw.average_price)[raw.side == "BUY"].sum())


def test_bad_realized_format_is_refused(tmp_path):
    bars = sample_bars(days=2)
    with pytest.raises(InputError, match="--realized-format must be auto, totals"):
        load_dataset(bars, tmp_path / "x.csv", realized_format="parquet")


def test_realized_from_events_covers_the_whole_grid():
    bars = sample_bars(days=2)
    liq = synthetic_events(bars, n=50)
    r = realized_from_events(liq, H, int(bars.ts_ms[0]) + 7 * M5, int(bars.ts_ms[-1]) + M5)
    assert r.ts_ms[0] == bars.ts_ms[0] and np.all(np.diff(r.ts_ms) == H)
    assert r.lower_bound
    with pytest.raises(ConfigError):
        realized_from_events(liq, 0, 0, 1)


# ------------------------------------------------------------------------- the store


def test_from_store_equals_dataset_of_the_same_events(tmp_path):
    from liqmap.store import open_store

    bars = sample_bars(days=5)
    liq = synthetic_events(bars)
    path = tmp_path / "s.duckdb"
    with open_store(path) as store:
        store.write_bars(bars)
        store.write_realized(liq)
    fit_until = int(bars.ts_ms[0]) + 3 * DAY
    with open_store(path, read_only=True) as store:
        got = from_store(store, "binance", "BTC/USDT:USDT", fit_until_ms=fit_until,
                         score_bar_ms=30 * 60_000)
    want = dataset(bars, realized_from_events(liq, 30 * 60_000, int(bars.ts_ms[0]),
                                              int(bars.ts_ms[-1]) + M5),
                   fit_until_ms=fit_until)
    assert_same_dataset(got, want, exact_bars=False)
    assert got.spec.name == "binance-BTCUSDT"
    assert any(str(path) in n for n in got.notes)


def _commands_exist(text: str) -> None:
    """Every `liqmap CMD` the message suggests is a command of the CLI."""
    import re

    from liqmap.cli import app

    names = {c.name for c in app.registered_commands}
    said = re.findall(r"liqmap ([a-z][a-z-]*)", text)
    assert said and set(said) <= names, (said, text)


def test_from_store_without_the_series_names_the_store_and_the_fix(tmp_path):
    from liqmap.store import open_store

    bars = sample_bars(days=2)
    path = tmp_path / "s.duckdb"
    with open_store(path) as store:
        store.write_bars(bars)
        with pytest.raises(InputError) as e:
            from_store(store, "binance", "BTC/USDT:USDT")
        assert str(path) in str(e.value) and "ingest-liquidations" in str(e.value)
        _commands_exist(str(e.value))
        with pytest.raises(InputError) as e:
            from_store(store, "binance", "ETH/USDT:USDT")
        assert str(path) in str(e.value) and "ingest-bars" in str(e.value)
        _commands_exist(str(e.value))
        with pytest.raises(InputError) as e:  # the series exists, the span has no bars
            from_store(store, "binance", "BTC/USDT:USDT", start_ms=0, end_ms=1_000)
        assert str(path) in str(e.value) and "ingest-bars" in str(e.value)
        _commands_exist(str(e.value))
