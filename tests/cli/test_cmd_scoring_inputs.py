"""``liqmap backtest`` / ``liqmap calibrate`` on any data: --window, --input + --realized, --db.

One source of scoring inputs (:mod:`liqmap.cli._dataset`), the spans --fit-until and
--score-from, the outputs for your data (backtest.csv, metrics.json, report.html), event
files summed per bar, and hostile inputs (exit 2, the message names the file/row and the
fix, no traceback). The bundled sample (``--input`` with ``--start``/``--end``) and a
synthetic realized series make it run everywhere; the window A comparisons need
../shared/data (skipped with a reason otherwise).
"""

from __future__ import annotations

import contextlib
import io
import json
import traceback
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from liqmap.cli import main
from liqmap.core.realized import RealizedLiquidations
from liqmap.io.sample import load_sample
from liqmap.scorecard.backtest import CSV_HEAD
from liqmap.scorecard.windows import default_data_dir
from liqmap.timeutil import parse_time_ms

M5 = 300_000
H = 3_600_000
PRESET = "fitted-binance-btcusdt-2025-12"
SAMPLE = resources.files("liqmap").joinpath("data/btcusdt-5m-2025-12.csv.gz")
START, END = "2025-12-20", "2025-12-30"  # slice of the sample used throughout
FIT_UNTIL, SCORE_FROM = "2025-12-26", "2025-12-27"

DATA = default_data_dir()
HAVE = (DATA / "raw" / "coinglass_ismethanhtung").is_dir() and (
    DATA / "raw" / "binance_um_hlreaper").is_dir()
_skip = pytest.mark.skipif(not HAVE, reason=f"shared data not found at {DATA}; set "
                           "LIQMAP_SHARED_DATA to the folder holding raw/")


def needs_data(fn):
    return pytest.mark.shared_data(_skip(fn))


# ---------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


def cli(*argv) -> CliResult:
    """``liqmap ARGV`` in-process; an escaping exception is reported as a traceback."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in argv])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # noqa: BLE001 - reported as a crash
            err.write(traceback.format_exc())
            code = 1
    return CliResult(code, out.getvalue(), err.getvalue())


def ok(res: CliResult) -> CliResult:
    assert "Traceback" not in res.err, res.err
    assert res.code == 0, (res.code, res.err[-3000:], res.out[-2000:])
    return res


def refused(res: CliResult, *fragments: str) -> None:
    """Exit 2, no traceback, each fragment (case-insensitive) in stderr."""
    assert "Traceback" not in res.err, res.err
    assert res.code == 2, (res.code, res.err, res.out[-2000:])
    low = res.err.lower()
    for frag in fragments:
        assert frag.lower() in low, (frag, res.err)


def _sample_slice():
    b = load_sample()
    return b.take((b.ts_ms >= parse_time_ms(START)) & (b.ts_ms < parse_time_ms(END)))


def realized_totals(bars, score_ms: int = M5) -> pd.DataFrame:
    """Deterministic per-bar realized totals from the bars' adverse excursions."""
    df = pd.DataFrame({"ts": bars.ts_ms, "open": bars.open, "high": bars.high,
                       "low": bars.low, "oi": bars.open_interest})
    df["k"] = df.ts - df.ts % score_ms
    g = df.groupby("k", sort=True).agg(open=("open", "first"), high=("high", "max"),
                                      low=("low", "min"), oi=("oi", "first"))
    scale = g.oi * g.open * 0.05
    wiggle = 1.0 + 0.5 * np.sin(np.arange(len(g)) * 0.7)
    return pd.DataFrame({"ts_ms": g.index.to_numpy(np.int64),
                         "long_usd": (scale * ((g.open - g.low) / g.open) ** 1.5
                                      * wiggle).to_numpy(),
                         "short_usd": (scale * ((g.high - g.open) / g.open) ** 1.5
                                       / wiggle).to_numpy()})


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """{"bars": the bundled sample file, "realized": 5-min totals, "realized_30m": 30-min
    totals, "dir": a scratch folder} for the sample slice."""
    d = tmp_path_factory.mktemp("scoring-inputs")
    bars = _sample_slice()
    out = {"bars": str(SAMPLE), "dir": d}
    for name, ms in (("realized", M5), ("realized_30m", 30 * 60_000)):
        path = d / f"{name}.csv"
        realized_totals(bars, ms).to_csv(path, index=False, float_format="%.17g")
        out[name] = str(path)
    return out


def _slice_args():
    return ("--start", START, "--end", END)


@pytest.fixture
def no_plots(monkeypatch):
    """Replace the HTML report (its plots take seconds) by a stub where a test checks other
    outputs; the real report is written by the sample-files test."""

    def stub(folder):
        path = Path(folder) / "report.html"
        path.write_text("<html></html>", encoding="utf-8")
        return {"report": str(path), "windows": [], "plots": []}

    monkeypatch.setattr("liqmap.scorecard.report.write_report", stub)


# -------------------------------------------------- outputs and spans on your files


def test_backtest_on_files_writes_csv_metrics_and_report_and_keeps_the_spans(files, tmp_path):
    out = tmp_path / "o"
    res = ok(cli("backtest", "--input", files["bars"], "--realized", files["realized_30m"],
                 *_slice_args(), "--fit-until", FIT_UNTIL, "--score-from", SCORE_FROM,
                 "--preset", PRESET, "--out", out, "--json"))
    summary = json.loads(res.out)
    assert set(summary["files"]) == {"csv", "metrics", "report"}
    assert (out / "backtest.csv").is_file() and (out / "metrics.json").is_file()
    assert (out / "report.html").is_file() and (out / "report.html").stat().st_size > 1000
    df = pd.read_csv(out / "backtest.csv")
    assert tuple(df.columns[:5]) == CSV_HEAD
    assert not df[list(CSV_HEAD)].isna().any().any()
    fit, score = parse_time_ms(FIT_UNTIL), parse_time_ms(SCORE_FROM)
    assert not ((df.ts_ms >= fit) & (df.ts_ms < score)).any()  # the gap is in neither span
    assert df[df.span == "calibration"].ts_ms.max() < fit
    assert df[df.span == "scoring"].ts_ms.min() >= score
    assert np.all(np.diff(df.ts_ms) % (30 * 60_000) == 0)  # 30-minute scoring bars
    m = json.loads((out / "metrics.json").read_text())
    assert m["calibration_end"] == "2025-12-26T00:00Z" and m["score_from"] == "2025-12-27T00:00Z"
    assert m["spans"]["calibration"]["end"] == "2025-12-25T23:30Z"
    assert m["spans"]["scoring"]["start"] == "2025-12-27T00:00Z"
    assert m["spans"]["scoring"]["end"] == "2025-12-29T23:30Z"
    assert m["spans"]["calibration"]["n_bars"] + m["spans"]["scoring"]["n_bars"] == len(df)
    assert m["engine_bar_ms"] == M5 and m["scoring_bar_ms"] == 30 * 60_000
    assert m["venue"] == "binance" and m["symbol"] == "BTC/USDT:USDT"


def test_score_from_before_fit_until_is_refused(files, tmp_path):
    res = cli("backtest", "--input", files["bars"], "--realized", files["realized"],
              *_slice_args(), "--fit-until", SCORE_FROM, "--score-from", FIT_UNTIL,
              "--out", tmp_path)
    refused(res, "--score-from", "--fit-until", "2025-12-26", "2025-12-27")
    assert not (tmp_path / "backtest.csv").exists()


@needs_data
def test_score_from_before_fit_until_is_refused_on_a_window(tmp_path):
    res = cli("backtest", "--window", "A", "--start", "2026-01-01", "--end", "2026-02-10",
              "--fit-until", "2026-02-01", "--score-from", "2026-01-20", "--out", tmp_path)
    refused(res, "--score-from", "--fit-until")


# ------------------------------------------------ window A through files = window A


@needs_data
def test_backtest_on_exported_window_a_equals_window_a(tmp_path, no_plots):
    start, end = "2025-12-04", "2026-02-20"
    inp = tmp_path / "in"
    ok(cli("backtest", "--window", "A", "--start", start, "--end", end,
           "--export-inputs", inp))
    assert (inp / "bars.csv").is_file() and (inp / "realized.csv").is_file()
    ok(cli("backtest", "--window", "A", "--start", start, "--end", end, "--preset", PRESET,
           "--out", tmp_path / "win"))
    ok(cli("backtest", "--input", inp / "bars.csv", "--realized", inp / "realized.csv",
           "--preset", PRESET, "--score-from", "2026-02-01", "--out", tmp_path / "files"))
    win = pd.read_csv(tmp_path / "win" / "window-A.csv")
    mine = pd.read_csv(tmp_path / "files" / "backtest.csv")
    pd.testing.assert_frame_equal(win, mine, check_exact=True)
    a = json.loads((tmp_path / "win" / "metrics-A.json").read_text())
    b = json.loads((tmp_path / "files" / "metrics.json").read_text())
    assert a["spans"] == b["spans"] and a["metrics"] == b["metrics"]


@needs_data
def test_calibrate_on_exported_window_a_equals_window_a(tmp_path, monkeypatch):
    from liqmap.scorecard import calibrate

    grid = calibrate.default_grid()[:3]
    monkeypatch.setattr(calibrate, "default_grid", lambda: grid)  # a tiny grid, fast
    start, end = "2025-12-04", "2026-02-20"
    inp = tmp_path / "in"
    ok(cli("backtest", "--window", "A", "--start", start, "--end", end,
           "--export-inputs", inp))
    ok(cli("calibrate", "--window", "A", "--start", start, "--end", end, "--name", "t",
           "--out", tmp_path / "win"))
    ok(cli("calibrate", "--input", inp / "bars.csv", "--realized", inp / "realized.csv",
           "--fit-until", "2026-02-01", "--name", "t", "--out", tmp_path / "files"))
    a = json.loads((tmp_path / "win" / "t.json").read_text())
    b = json.loads((tmp_path / "files" / "t.json").read_text())
    assert a["selection"]["grid_size"] == 3
    assert a["selection"]["best"] == b["selection"]["best"]
    assert a["model"] == b["model"]
    for sd, fa in a["combine"].items():
        for k, v in fa.items():
            assert b["combine"][sd][k] == pytest.approx(v, rel=1e-9), (sd, k)
    assert a["fit_span"] == b["fit_span"]


def test_calibrate_on_files_writes_the_preset_named_after_the_data(files, tmp_path,
                                                                    monkeypatch):
    from liqmap.scorecard import calibrate

    grid = calibrate.default_grid()[:2]
    monkeypatch.setattr(calibrate, "default_grid", lambda: grid)
    res = ok(cli("calibrate", "--input", files["bars"], "--realized", files["realized_30m"],
                 *_slice_args(), "--fit-until", FIT_UNTIL, "--out", tmp_path, "--json"))
    name = "fitted-binance-btcusdt-2025-12-26"
    assert (tmp_path / f"{name}.json").is_file()
    preset = json.loads((tmp_path / f"{name}.json").read_text())
    assert preset["fit_span"]["calibration_end"] == "2025-12-26T00:00Z"
    assert preset["fit_span"]["end"] < "2025-12-26"
    assert json.loads(res.out)["files"]["preset"].endswith(f"{name}.json")


# ---------------------------------------------------------- realized from event files


@pytest.mark.parametrize("fixture, column_ts, column_qty, score_bar", [
    ("BTCUSDT-liquidationSnapshot-2025-12-27.csv", "time", "accumulated_fill_quantity",
     None),
    ("forceorder_allsymbols_sample.csv", "trade_time_ms", "accumulated_filled_quantity",
     "1h"),
])
def test_event_files_are_summed_per_scoring_bar(files, fx, tmp_path, fixture, column_ts,
                                                 column_qty, score_bar):
    path = fx(fixture)
    extra = () if score_bar is None else ("--score-bar", score_bar)
    ok(cli("backtest", "--input", files["bars"], "--realized", path, *_slice_args(), *extra,
           "--export-inputs", tmp_path))
    got = pd.read_csv(tmp_path / "realized.csv")
    bar_ms = H if score_bar else M5
    grid = np.arange(parse_time_ms(START), parse_time_ms(END), bar_ms)
    np.testing.assert_array_equal(got.ts_ms.to_numpy(), grid)
    raw = pd.read_csv(path)
    if "symbol_stripped" in raw:
        raw = raw[raw.symbol_stripped == "BTC"]
    raw = raw.drop_duplicates()
    usd = raw[column_qty] * raw.average_price.where(raw.average_price > 0, raw.price)
    key = raw[column_ts] // bar_ms * bar_ms
    for side, col in (("SELL", "long_usd"), ("BUY", "short_usd")):
        want = usd[raw.side == side].groupby(key[raw.side == side]).sum()
        want = want.reindex(grid, fill_value=0.0).to_numpy()
        np.testing.assert_allclose(got[col].to_numpy(), want, rtol=1e-12)
    assert got.long_usd.sum() > 0 and got.short_usd.sum() > 0
    assert (got.long_usd > 0).sum() + (got.short_usd > 0).sum() <= 6


# ----------------------------------------------------------------------------- store


def _store(tmp_path, with_realized=True):
    from liqmap.store import open_store

    bars = _sample_slice()
    rng = np.random.default_rng(3)
    n = 300
    ts = np.sort(rng.choice(np.arange(int(bars.ts_ms[0]), int(bars.ts_ms[-1]) + M5, 1000), n,
                            replace=False)).astype(np.int64)
    price = np.interp(ts, bars.ts_ms, bars.close)
    qty = np.round(rng.lognormal(-2, 1.5, n), 3) + 0.001
    liq = RealizedLiquidations(ts_ms=ts, side=np.where(rng.random(n) < 0.5, 1, -1)
                               .astype(np.int8), price=price, qty_coin=qty,
                               notional_usd=qty * price, source="synthetic")
    path = tmp_path / "store.duckdb"
    with open_store(path) as store:
        store.write_bars(bars)
        if with_realized:
            store.write_realized(liq)
    return path, liq


def test_backtest_on_a_store_writes_backtest_csv(tmp_path, no_plots):
    path, liq = _store(tmp_path)
    out = tmp_path / "o"
    ok(cli("backtest", "--db", path, "--venue", "binance", "--symbol", "BTC/USDT:USDT",
           "--preset", "none", "--score-bar", "30m", "--fit-until", "2025-12-27",
           "--out", out))
    df = pd.read_csv(out / "backtest.csv")
    assert tuple(df.columns[:5]) == CSV_HEAD and len(df) > 0
    assert (out / "metrics.json").is_file() and (out / "report.html").is_file()
    assert set(df.span) == {"calibration", "scoring"}
    # the realized column is the stored events summed per 30 minutes
    k = (liq.ts_ms // 1_800_000) * 1_800_000
    longs = pd.Series(liq.notional_usd[liq.side == 1]).groupby(k[liq.side == 1]).sum()
    want = longs.reindex(df.ts_ms, fill_value=0.0).to_numpy()
    np.testing.assert_allclose(df.realized_long_usd.to_numpy(), want, rtol=1e-9)


def test_backtest_on_a_store_without_spans_scores_everything_as_calibration(tmp_path,
                                                                            no_plots):
    path, _ = _store(tmp_path)
    out = tmp_path / "o"
    ok(cli("backtest", "--db", path, "--venue", "binance", "--symbol", "BTC/USDT:USDT",
           "--preset", "none", "--out", out))
    df = pd.read_csv(out / "backtest.csv")
    assert tuple(df.columns[:5]) == CSV_HEAD and len(df) > 0
    assert set(df.span) == {"calibration"}
    assert np.all(np.diff(df.ts_ms) == M5)
    m = json.loads((out / "metrics.json").read_text())
    assert m["spans"]["scoring"]["n_bars"] == 0


def test_report_of_a_dataset_without_a_scoring_span(tmp_path, monkeypatch):
    from liqmap.plots import scorecard_charts as charts

    def blank(df, window, path, **_):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\x89PNG")
        return path

    for other in ("plot_timeseries", "plot_scatter"):  # only the failing figure, fast
        monkeypatch.setattr(charts, other, blank)
    path, _ = _store(tmp_path)
    out = tmp_path / "o"
    ok(cli("backtest", "--db", path, "--venue", "binance", "--symbol", "BTC/USDT:USDT",
           "--preset", "none", "--out", out))
    assert (out / "report.html").is_file()


def test_store_without_the_series_is_refused_naming_store_and_fix(tmp_path):
    path, _ = _store(tmp_path, with_realized=False)
    refused(cli("backtest", "--db", path, "--venue", "binance", "--symbol", "ETH/USDT:USDT",
                "--preset", "none", "--out", tmp_path / "o"), str(path), "ingest-bars")
    refused(cli("backtest", "--db", path, "--venue", "binance", "--symbol", "BTC/USDT:USDT",
                "--preset", "none", "--out", tmp_path / "o"), str(path),
            "ingest-liquidations")
    assert not (tmp_path / "o" / "backtest.csv").exists()


def test_store_file_that_does_not_exist_is_refused(tmp_path):
    path = tmp_path / "nope.duckdb"
    res = cli("backtest", "--db", path, "--preset", "none", "--out", tmp_path / "o")
    refused(res, str(path))
    assert not path.exists()


# -------------------------------------------------------------------- hostile inputs


def _bad_realized(tmp_path, case: str):
    df = realized_totals(_sample_slice())
    if case == "missing_column":
        df = df.drop(columns="long_usd")
    elif case == "negative":
        df.loc[17, "short_usd"] = -1.0
    elif case == "unsorted":
        df.loc[[40, 41], "ts_ms"] = df.loc[[41, 40], "ts_ms"].to_numpy()
    elif case == "seven_minutes":
        df["ts_ms"] = parse_time_ms(START) + 7 * 60_000 * np.arange(len(df))
    elif case == "no_overlap":
        df["ts_ms"] += 365 * 86_400_000
    elif case == "off_boundary":
        df["ts_ms"] += 60_000
    path = tmp_path / f"realized-{case}.csv"
    df.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("case, fragments", [
    ("missing_column", ["missing column(s) ['long_usd']", "ts_ms,long_usd,short_usd"]),
    ("negative", ["row 17", "short_usd", "-1.0", "fix or drop the row"]),
    ("unsorted", ["row 41", "not strictly increasing", "sort the file"]),
    ("seven_minutes", ["420 s", "not a multiple of the engine bars of 300 s"]),
    ("no_overlap", ["overlap in fewer than 2", "same period", "2026-12-20"]),
    ("off_boundary", ["row 0", "does not open on an engine bar boundary",
                      "use bar open times"]),
])
def test_bad_realized_files_are_refused(files, tmp_path, case, fragments):
    path = _bad_realized(tmp_path, case)
    res = cli("backtest", "--input", files["bars"], "--realized", path, *_slice_args(),
              "--out", tmp_path / "o")
    refused(res, path.name, *fragments)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("argv, fragments", [
    (["--input", "{bars}"], ["--input needs --realized"]),
    (["--realized", "{real}"], ["--realized goes with --input"]),
    (["--window", "A", "--input", "{bars}", "--realized", "{real}"], ["give one source"]),
    (["--window", "C", "--db", "{dir}/x.duckdb"], ["give one source"]),
    (["--input", "{bars}", "--realized", "{real}", "--db", "{dir}/x.duckdb"],
     ["give one source"]),
    (["--window", "A", "--venue", "okx"], ["--venue and --symbol select a series of --db"]),
    (["--input", "{bars}", "--realized", "{real}", "--score-bar", "7x"],
     ["--score-bar '7x'", "30m"]),
    (["--input", "{bars}", "--realized", "{real}", "--realized-format", "xml"],
     ["--realized-format must be auto, totals, snapshot or forceorder"]),
    (["--input", "{bars}", "--realized", "{real}", "--fit-until", "yesterday-ish"],
     ["yesterday-ish"]),
])
@pytest.mark.parametrize("command", ["backtest", "calibrate"])
def test_conflicting_sources_are_refused(files, tmp_path, command, argv, fragments):
    args = [a.format(bars=files["bars"], real=files["realized"], dir=tmp_path) for a in argv]
    refused(cli(command, *args, "--out", tmp_path / "o"), *fragments)
    assert not (tmp_path / "o").exists()


def test_realized_file_that_does_not_exist_is_refused(files, tmp_path):
    path = tmp_path / "missing.csv"
    refused(cli("backtest", "--input", files["bars"], "--realized", path, *_slice_args(),
                "--out", tmp_path / "o"), "missing.csv")


def test_slice_without_bars_is_refused(files, tmp_path):
    refused(cli("backtest", "--input", files["bars"], "--realized", files["realized"],
                "--start", "2024-01-01", "--end", "2024-01-02", "--out", tmp_path / "o"),
            "--start", "--end")


def test_realized_file_of_an_unknown_layout_names_the_option_and_the_layouts(files, tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b,c\n1,2,3\n4,5,6\n", encoding="utf-8")
    refused(cli("backtest", "--input", files["bars"], "--realized", path, *_slice_args(),
                "--out", tmp_path / "o"), "other.csv", "--realized-format",
            "ts_ms,long_usd,short_usd")
