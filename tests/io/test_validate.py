"""Validation: every error names file, row and fix; opt-in repairs; gaps; OI units."""

from __future__ import annotations

import gzip
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqmap import ConfigError, DataError
from liqmap.io import GapWarning, load_bars, validate_frame
from liqmap.io.oi_units import OI_PLAUSIBLE_USD, check_oi_unit, convert_oi_to_base, market_base
from liqmap.io.plausibility import (
    OI_SPIKE_FACTOR,
    PRICE_SPIKE_FACTOR,
    _spikes_by_levels,
    find_spikes,
)

BROKEN = [
    ("broken_missing_column.csv", None, ["missing column(s) ['open_interest']", "mapping="]),
    ("broken_nan.csv", 5, ["'close' is empty", "fill in the value or delete the row"]),
    ("broken_zero_price.csv", 7, ["low price is 0.0", "prices must be positive"]),
    ("broken_high_lt_low.csv", 3, ["is below low", "swapped"]),
    ("broken_duplicate_ts.csv", 11, ["repeats an earlier row exactly", "repair=True"]),
    ("broken_conflicting_ts.csv", 11, ["several rows with different values", "keep only the correct row"]),
    ("broken_unsorted.csv", 5, ["not in time order", "sort the file by ts_ms", "repair=True"]),
    ("broken_oi_usd_as_base.csv", 0, ["implausibly large", "oi_unit='usd'"]),
]


@pytest.mark.parametrize(("name", "row", "fixes"), BROKEN)
def test_broken_file_error_names_file_row_and_fix(fx, names, name, row, fixes):
    with pytest.raises(DataError) as exc:
        load_bars(fx(name))
    names(exc.value, fx(name), row, *fixes)


@pytest.mark.parametrize("name", ["broken_nan.csv", "broken_zero_price.csv",
                                  "broken_high_lt_low.csv", "broken_conflicting_ts.csv"])
def test_repair_never_hides_unsafe_problems(fx, name):
    with pytest.raises(DataError):
        load_bars(fx(name), repair=True)


def test_repair_drops_exact_duplicate_and_reports_it(fx):
    good = load_bars(fx("bars_generic.csv"))
    fixed = load_bars(fx("broken_duplicate_ts.csv"), repair=True)
    assert fixed.repairs == ("dropped 1 exact duplicate row(s): [11]",)
    np.testing.assert_array_equal(fixed.ts_ms, good.ts_ms)
    np.testing.assert_array_equal(fixed.close, good.close)


def test_repair_sorts_and_reports_it(fx):
    good = load_bars(fx("bars_generic.csv"))
    fixed = load_bars(fx("broken_unsorted.csv"), repair=True)
    assert len(fixed.repairs) == 1 and fixed.repairs[0].startswith("sorted rows by ts_ms")
    np.testing.assert_array_equal(fixed.ts_ms, good.ts_ms)
    np.testing.assert_array_equal(fixed.open_interest, good.open_interest)
    assert good.repairs == ()


def test_gap_is_listed_not_an_error_by_default(fx):
    with pytest.warns(GapWarning, match="2 bar\\(s\\) missing"):
        bars = load_bars(fx("bars_with_gap.csv"))
    assert len(bars) == 22


def test_gap_report_and_gap_error(fx, names):
    frame = pd.read_csv(fx("bars_with_gap.csv"))
    _, report = validate_frame(frame, source="g.csv", gaps="ignore")
    (gap,) = report.gaps
    assert (gap.row, gap.missing_bars, gap.next_ts_ms - gap.after_ts_ms) == (8, 2, 900_000)
    assert "2 bar(s) missing" in report.summary()
    with pytest.raises(DataError) as exc:
        load_bars(fx("bars_with_gap.csv"), gaps="error")
    names(exc.value, fx("bars_with_gap.csv"), 8, "fill the missing bars")


def test_no_warning_without_gaps(fx):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_bars(fx("bars_generic.csv"))


def test_ts_in_seconds_is_rejected_with_fix(fx, names, tmp_path):
    frame = pd.read_csv(fx("bars_generic.csv"))
    frame["ts_ms"] //= 1000
    path = tmp_path / "seconds.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError) as exc:
        load_bars(path)
    names(exc.value, path, 0, "looks like seconds", "multiply by 1000")


def test_open_outside_range_and_negative_oi(fx, names, tmp_path):
    frame = pd.read_csv(fx("bars_generic.csv"))
    frame.loc[2, "open"] = frame.loc[2, "high"] + 10
    frame.loc[4, "open_interest"] = -1
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError) as exc:
        load_bars(path)
    names(exc.value, path, 2, "open", "outside [low, high]")
    frame.loc[2, "open"] = frame.loc[2, "high"]
    frame.to_csv(path, index=False)
    with pytest.raises(DataError) as exc:
        load_bars(path)
    names(exc.value, path, 4, "open_interest is negative")


def test_usd_oi_converts_to_base_with_close(fx):
    bars = load_bars(fx("broken_oi_usd_as_base.csv"), oi_unit="usd")
    raw = pd.read_csv(fx("broken_oi_usd_as_base.csv"))
    np.testing.assert_allclose(bars.open_interest, raw["open_interest"] / raw["close"])
    # Binance's own base-unit figure agrees to the mark/last price difference
    base = load_bars(fx("bars_generic.csv")).open_interest
    np.testing.assert_allclose(bars.open_interest, base, rtol=2e-3)


def test_base_oi_declared_usd_is_rejected(fx, names):
    with pytest.raises(DataError) as exc:
        load_bars(fx("bars_generic.csv"), oi_unit="usd")
    names(exc.value, fx("bars_generic.csv"), 0, "days of traded volume", "oi_unit='base'")


def test_contracts_times_contract_size(fx, tmp_path):
    frame = pd.read_csv(fx("bars_generic.csv"))
    frame["open_interest"] = (frame["open_interest"] * 1000).round()  # 0.001 BTC contracts
    path = tmp_path / "contracts.csv"
    frame.to_csv(path, index=False)
    bars = load_bars(path, oi_unit="contracts", contract_size=0.001)
    np.testing.assert_allclose(bars.open_interest, frame["open_interest"] * 0.001)
    with pytest.raises(ConfigError, match="contract_size"):
        load_bars(path, oi_unit="contracts")
    with pytest.raises(DataError, match="check contract_size"):
        load_bars(path, oi_unit="contracts", contract_size=1e-9)


def test_unknown_oi_unit_and_gap_mode(fx):
    with pytest.raises(ConfigError, match="oi_unit must be one of"):
        load_bars(fx("bars_generic.csv"), oi_unit="eur")
    with pytest.raises(ConfigError, match="gaps must be"):
        load_bars(fx("bars_generic.csv"), gaps="maybe")


def test_convert_and_check_directly():
    np.testing.assert_allclose(convert_oi_to_base([9e9], [9e4], oi_unit="usd"), [1e5])
    frame = pd.DataFrame({"ts_ms": [0, 300_000], "close": [1e5, 1e5],
                          "open_interest": [9e9, 9e9], "_row": [0, 1]})
    with pytest.raises(DataError, match="oi_unit='usd'"):
        check_oi_unit(frame, source="x")


# --- properties ---------------------------------------------------------------------

@st.composite
def bar_frames(draw):
    """Well-formed bars: positive prices, low <= open, close <= high, plausible OI.

    Prices walk at most 5% a bar from a level in [1, 1e5]: independent prices per row
    (the first version of this strategy) are lone jumps no market makes, which
    validation refuses (liqmap.io.plausibility).
    """
    n = draw(st.integers(2, 60))
    step = draw(st.sampled_from([60_000, 300_000, 3_600_000]))
    start = draw(st.integers(1_500_000_000_000, 1_800_000_000_000)) // step * step
    level = draw(st.floats(1.0, 1e5, allow_nan=False))
    walk = np.array(draw(st.lists(st.floats(-0.05, 0.05), min_size=n, max_size=n)))
    low = level * np.exp(np.cumsum(walk))
    span = np.array(draw(st.lists(st.floats(0, 0.1), min_size=n, max_size=n)))
    high = low * (1 + span)
    w_open = np.array(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
    w_close = np.array(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
    volume = np.array(draw(st.lists(st.floats(1, 100), min_size=n, max_size=n)))
    days = draw(st.floats(0.05, 100))
    oi = np.full(n, float(np.median(volume)) * days * 86_400_000 / step)
    return pd.DataFrame({
        "ts_ms": start + step * np.arange(n), "open": np.clip(low + w_open * (high - low), low, high),
        "high": high, "low": low, "close": np.clip(low + w_close * (high - low), low, high),
        "volume": volume, "open_interest": oi,
    })


@settings(max_examples=60, deadline=None)
@given(bar_frames())
def test_validation_accepts_well_formed_bars(frame):
    clean, report = validate_frame(frame, source="random", gaps="error")
    assert report.repairs == () and report.gaps == ()
    np.testing.assert_array_equal(clean["ts_ms"], frame["ts_ms"])
    np.testing.assert_array_equal(clean["close"], frame["close"])


@settings(max_examples=60, deadline=None)
@given(bar_frames(), st.randoms(use_true_random=False))
def test_sort_repair_is_idempotent(frame, rnd):
    order = list(range(len(frame)))
    rnd.shuffle(order)
    once, _ = validate_frame(frame.iloc[order], source="shuffled", repair=True, gaps="ignore")
    twice, report = validate_frame(once.drop(columns="_row"), source="again", repair=True,
                                   gaps="ignore")
    assert report.repairs == ()
    cols = list(frame.columns)
    pd.testing.assert_frame_equal(once[cols], twice[cols])
    pd.testing.assert_frame_equal(once[cols], frame.reset_index(drop=True)[cols],
                                  check_dtype=False)


# --- lone jumps (liqmap.io.plausibility) ----------------------------------------------

def _smooth(draw, n):
    """5m bars whose price and OI drift at most 0.3% / 0.5% a bar (no volume column)."""
    px = 90_000 * np.exp(np.cumsum(draw(st.lists(st.floats(-0.003, 0.003), min_size=n,
                                                   max_size=n))))
    oi = 85_000 * np.exp(np.cumsum(draw(st.lists(st.floats(-0.005, 0.005), min_size=n,
                                                  max_size=n))))
    return pd.DataFrame({"ts_ms": 1_764_547_200_000 + 300_000 * np.arange(n),
                         "open": px, "high": px * 1.001, "low": px * 0.999, "close": px,
                         "open_interest": oi})


@st.composite
def spiked(draw, cols, min_factor):
    """A smooth series with one row multiplied (or divided) by a factor >= min_factor."""
    n = draw(st.integers(12, 120))
    frame, row = _smooth(draw, n), draw(st.integers(0, n - 1))
    factor = draw(st.floats(min_factor, 1e6))
    frame.loc[row, cols] *= factor if draw(st.booleans()) else 1 / factor
    return frame, row


@settings(max_examples=60, deadline=None)
@given(spiked("open_interest", 1.1 * OI_SPIKE_FACTOR))
def test_one_oi_spike_anywhere_is_refused_at_its_row(case):
    frame, row = case
    with pytest.raises(DataError, match="open_interest .* no market makes") as exc:
        validate_frame(frame, source="s.csv")
    assert exc.value.row == row and "--repair" in str(exc.value)


@settings(max_examples=60, deadline=None)
@given(spiked(["open", "high", "low", "close"], 1.1 * PRICE_SPIKE_FACTOR))
def test_one_price_spike_anywhere_is_refused_at_its_row(case):
    frame, row = case
    with pytest.raises(DataError, match="in price no market makes") as exc:
        validate_frame(frame, source="s.csv")
    assert exc.value.row == row


@settings(max_examples=40, deadline=None)
@given(spiked(["open", "high", "low", "close", "open_interest"], 1.1 * OI_SPIKE_FACTOR))
def test_repair_puts_the_row_back_between_its_neighbours(case):
    frame, row = case
    clean, report = validate_frame(frame, source="s.csv", repair=True)
    assert len(report.repairs) == 5 and all(f"[{row}]" in r for r in report.repairs)
    for col in ("close", "open_interest"):
        near = frame[col].drop(index=row).iloc[max(0, row - 2): row + 2]
        assert near.min() * 0.99 <= clean[col].iat[row] <= near.max() * 1.01
    ohlc = clean[["open", "high", "low", "close"]].to_numpy()
    assert (ohlc[:, 2] <= ohlc.min(axis=1)).all() and (ohlc[:, 1] >= ohlc.max(axis=1)).all()


def test_level_shift_is_not_a_spike():
    x = np.r_[np.full(20, 100.0), np.full(20, 2_000.0)]
    assert not find_spikes(x, OI_SPIKE_FACTOR).any()
    x[39] = 15_000.0  # a last row 7.5x its neighbours: a move, not yet a glitch
    assert np.flatnonzero(find_spikes(x, OI_SPIKE_FACTOR)).tolist() == []
    x[39] = 200_000.0
    assert np.flatnonzero(find_spikes(x, OI_SPIKE_FACTOR)).tolist() == [39]


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.floats(1.0, 9.99), min_size=3, max_size=80),
       k=st.integers(1, 12), factor=st.sampled_from([PRICE_SPIKE_FACTOR, OI_SPIKE_FACTOR]),
       block=st.integers(1, 90), glitch=st.integers(0, 79))
def test_block_shortcut_equals_the_full_computation(values, k, factor, block, glitch):
    """``find_spikes`` judges blocks with their neighbours and skips those spanning less
    than the factor (all positive: no row there can be a spike); it flags exactly the rows
    the side-level computation over the whole series flags."""
    x = np.array(values) * 1_000.0
    if x.max() < factor * x.min():
        assert not _spikes_by_levels(x, factor, k).any()
    x[glitch % x.size] *= 1_000.0  # one glitch somewhere
    want = _spikes_by_levels(x, factor, k)
    assert (find_spikes(x, factor, k, block=block) == want).all()


def test_zero_level_neighbours_give_no_judgement():
    x = np.r_[np.zeros(10), 5.0, np.zeros(10)]  # a market with no open interest yet
    assert not find_spikes(x, OI_SPIKE_FACTOR).any()
    assert find_spikes(np.r_[np.full(10, 5.0), 0.0, np.full(10, 5.0)], 10.0)[10]
    listing = np.r_[np.zeros(10), np.linspace(50, 500, 10)]  # OI starts from zero
    assert not find_spikes(listing, OI_SPIKE_FACTOR).any()


def test_spike_error_names_value_level_and_fix(fx, names, tmp_path):
    frame = pd.read_csv(fx("bars_generic.csv"))
    frame.loc[9, "open_interest"] *= 10_000
    path = tmp_path / "glitch.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError) as exc:
        load_bars(path)
    level = pd.read_csv(fx("bars_generic.csv"))["open_interest"].iat[9]
    names(exc.value, path, 9, "x the level of its neighbours (",
          "fix or drop the row, or pass --repair")
    assert re.search(r"is [\d,]+x the level of its neighbours \(8\d{4}\.\d+\)", str(exc.value))
    assert f"{level * 10_000:.10g}" in str(exc.value)
    bars = load_bars(path, repair=True)
    assert bars.repairs[0].startswith("replaced open_interest spike(s) in 1 row(s) [9]")
    assert bars.open_interest[9] == pytest.approx(level, rel=2e-3)


def test_binance_archive_glitch_names_the_archive_file(tmp_path, names):
    from liqmap.venues.binance import load_binance_bars
    fx = Path(__file__).resolve().parents[1] / "fixtures"
    metrics = pd.read_csv(fx / "BTCUSDT-metrics-2025-12-01.csv")
    metrics.loc[5, "sum_open_interest"] *= 10_000
    path = tmp_path / "BTCUSDT-metrics-2025-12-01.csv"
    metrics.to_csv(path, index=False)
    with pytest.raises(DataError) as exc:
        load_binance_bars(fx / "BTCUSDT-5m-2025-12-01.csv", path)
    names(exc.value, fx / "BTCUSDT-5m-2025-12-01.csv", None, "open_interest", "--repair")


# --- unreadable files ----------------------------------------------------------------

@pytest.mark.parametrize(("name", "content", "fix"), [
    ("t.csv.gz", lambda raw: gzip.compress(raw)[:300], "file is truncated or not gzip"),
    ("t.csv.gz", lambda raw: raw, "file is truncated or not gzip"),
    ("t.csv", lambda raw: b"\x00\x01" + raw, "is a binary file"),
    ("t.csv", lambda raw: raw.replace(b"ts_ms", "ts_ms\xe9".encode("latin-1")), "not UTF-8"),
    ("t.csv", lambda raw: b"", "file is empty"),
    ("t.csv", lambda raw: raw.split(b"\n")[0] + b"\n", "no data rows"),
])
def test_unreadable_file_errors(fx, names, tmp_path, name, content, fix):
    path = tmp_path / name
    path.write_bytes(content(fx("bars_generic.csv").read_bytes()))
    with pytest.raises(DataError) as exc:
        load_bars(path)
    names(exc.value, path, None, fix)


def test_unreadable_archive_file(fx, names, tmp_path):
    from liqmap.venues.binance import load_binance_bars
    path = tmp_path / "BTCUSDT-5m-2025-12-01.csv"
    path.write_bytes(b"\x00" * 64)
    with pytest.raises(DataError) as exc:
        load_binance_bars(path, fx("BTCUSDT-metrics-2025-12-01.csv"))
    names(exc.value, path, None, "is a binary file")


# --- open interest against the market ---------------------------------------------------

def test_market_base_and_table():
    assert [market_base(s) for s in ("BTC/USDC:USDC", "XBTUSD", "BTC", "ETH-USDT-SWAP")] == \
        ["BTC", "BTC", "BTC", "ETH"]
    for (venue, base), rng in OI_PLAUSIBLE_USD.items():
        assert rng.min_usd < rng.typical_usd < rng.max_usd and rng.evidence, (venue, base)


def _day_frames(fx):
    """Two days of real 5m bars (the 2-hour fixture repeated with its real drift)."""
    one = pd.read_csv(fx("bars_generic.csv"))
    parts = [one.assign(ts_ms=one["ts_ms"] + i * 7_200_000) for i in range(24)]
    return pd.concat(parts, ignore_index=True)


def test_okx_contracts_given_as_base_are_refused_with_the_flag(fx):
    frame = _day_frames(fx)
    frame["open_interest"] = (frame["open_interest"] / 0.01).round()
    with pytest.raises(DataError, match="--oi-unit contracts --contract-size 0.01"):
        validate_frame(frame, source="okx.csv", venue="okx", symbol="BTC/USDT:USDT")
    clean, _ = validate_frame(frame, source="okx.csv", venue="okx", symbol="BTC/USDT:USDT",
                              oi_unit="contracts", contract_size=0.01)
    assert clean["open_interest"].median() == pytest.approx(88_000, rel=0.05)


def test_unknown_market_gets_the_volume_check_only(fx):
    frame = _day_frames(fx)
    frame["open_interest"] = (frame["open_interest"] / 0.01).round()
    validate_frame(frame, source="x.csv", venue="somewhere", symbol="FOO/USDT:USDT")
    with pytest.raises(DataError, match="implausibl.*--oi-unit contracts --contract-size SIZE"):
        validate_frame(frame.assign(open_interest=frame["open_interest"] * 2), source="x.csv",
                       venue="somewhere", symbol="BTC/USDT:USDT")


def test_days_of_daily_volume_catches_a_slip_the_range_misses(fx, names):
    frame = _day_frames(fx)
    frame["volume"] /= 200  # OI in range, but 200x the days of volume a market holds
    with pytest.raises(DataError) as exc:
        validate_frame(frame, source="v.csv", venue="binance", symbol="BTC/USDT:USDT")
    names(exc.value, "v.csv", 0, "days of the file's daily volume", "--oi-unit contracts")
    frame["volume"] *= 200 * 1000  # volume in USD-like units: OI looks tiny against it
    with pytest.raises(DataError, match="volume is not in base units"):
        validate_frame(frame, source="v.csv", venue="binance", symbol="BTC/USDT:USDT")


# --- real data passes -------------------------------------------------------------------

def test_bundled_samples_load_without_repairs():
    from liqmap.io.sample import list_samples, load_sample
    for name in list_samples():
        bars = load_sample(name)
        assert len(bars) > 1000 and bars.repairs == ()


def _flat(ts, price, oi, **extra):
    return pd.DataFrame({"ts_ms": ts, "open": price, "high": price, "low": price,
                         "close": price, "open_interest": oi, **extra})


def _real_frames(raw: Path):
    """``(name, frame, kwargs)`` for every real bar-like series in ../shared/data/raw."""
    m = pd.read_csv(raw / "binance_um_hlreaper/BTCUSDT_metrics_oi_5m_2025-12-01_2026-06-11.csv.gz")
    yield "binance metrics OI", _flat(m["t"], m["oi_usd"] / m["oi"], m["oi"]), {}
    yield "binance metrics OI (USD)", _flat(m["t"], m["oi_usd"] / m["oi"], m["oi_usd"]), \
        {"oi_unit": "usd"}
    for path in sorted((raw / "coinglass_ismethanhtung").glob("*BTC*_5m_*.csv.gz")) + sorted(
            (raw / "coinglass_ismethanhtung").glob("coinglass_BTC_regime_*.csv.gz")):
        d = pd.read_csv(path)
        yield path.name, pd.DataFrame({
            "ts_ms": d["timestamp"], "open": d["price_open"], "high": d["price_high"],
            "low": d["price_low"], "close": d["price_close"], "open_interest": d["oi_close"]}), \
            {"oi_unit": "usd"}
    ctx = pd.concat([pd.read_json(p, lines=True) for p in
                     sorted((raw / "hyperliquid_hlreaper").glob("ctx_BTC_*.jsonl.gz"))])
    yield "hyperliquid ctx", _flat(ctx["ts"], ctx["mark"], ctx["oi"]), \
        {"venue": "hyperliquid", "symbol": "BTC/USDC:USDC", "repair": True}
    trades = pd.read_json(raw / "hyperliquid_hlreaper/trades_BTC_20260613.jsonl.gz", lines=True)
    g = trades.groupby(trades["ts"] // 300_000)
    oi = ctx.groupby(ctx["ts"] // 300_000)["oi"].last()
    bars = pd.DataFrame({"open": g["px"].first(), "high": g["px"].max(), "low": g["px"].min(),
                         "close": g["px"].last(), "volume": g["sz"].sum(),
                         "open_interest": oi}).dropna()
    yield "hyperliquid 5m trades + ctx", bars.assign(ts_ms=bars.index * 300_000), \
        {"venue": "hyperliquid", "symbol": "BTC/USDC:USDC"}


@pytest.mark.shared_data
def test_every_real_file_passes(raw_dir):
    seen = 0
    for name, frame, kw in _real_frames(raw_dir):
        clean, report = validate_frame(frame.reset_index(drop=True), source=name,
                                       gaps="ignore", **{"venue": "binance",
                                                         "symbol": "BTC/USDT:USDT", **kw})
        assert report.repairs == () or report.repairs[0].startswith("sorted"), (name, report)
        seen += 1
    assert seen >= 6
    k = pd.read_csv(raw_dir / "binance_um_klines_won9892000/"
                    "BTCUSDT_perp_5m_2025-07-04_2025-12-31.csv.gz")  # covers 2025-10-10
    for col in ("open", "high", "low", "close"):
        assert not find_spikes(k[col].to_numpy(), PRICE_SPIKE_FACTOR).any(), col


@pytest.mark.shared_data
def test_real_daily_open_interest_of_20_venues(raw_dir):
    """Coinalyze daily OI 2022-2024: no spike, inside the venue's range, 100x is outside."""
    oi = pd.read_csv(raw_dir / "coinalyze_cryptovizart/coinalyze_daily_open_interest_history.csv"
                     ).sort_values("t")
    venues = {"Binance": "binance", "Bybit": "bybit", "OKX": "okx"}
    for col in oi.columns[1:]:
        usd = oi[col].dropna().to_numpy()
        assert not find_spikes(usd, OI_SPIKE_FACTOR).any(), col
        venue = venues.get(col.split(" - ")[1].split(".")[0], "*")
        venue = "binance-inverse" if col == "BTC/USD - Binance" else venue
        rng = OI_PLAUSIBLE_USD[(venue, "BTC")]
        assert ((usd >= rng.min_usd) & (usd <= rng.max_usd)).all(), col
        if venue != "*":
            assert (usd * 100 > rng.max_usd).all(), col
