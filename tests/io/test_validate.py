"""Validation: every error names file, row and fix; opt-in repairs; gaps; OI units."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqmap import ConfigError, DataError
from liqmap.io import GapWarning, load_bars, validate_frame
from liqmap.io.oi_units import check_oi_unit, convert_oi_to_base

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
    """Well-formed bars: positive prices, low <= open, close <= high, plausible OI."""
    n = draw(st.integers(2, 60))
    step = draw(st.sampled_from([60_000, 300_000, 3_600_000]))
    start = draw(st.integers(1_500_000_000_000, 1_800_000_000_000)) // step * step
    floats = st.floats(1.0, 1e5, allow_nan=False)
    low = np.array(draw(st.lists(floats, min_size=n, max_size=n)))
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
