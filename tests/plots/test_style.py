"""Number formats and the colour map shared by the charts."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as hs

from liqmap.plots import fmt_price, fmt_usd
from liqmap.plots._style import HEAT_STOPS, heat_cmap, mpl_text


@pytest.mark.parametrize(("x", "text"), [
    (1.234e9, "$1.23B"), (450e6, "$450M"), (12_345, "$12.3K"), (14e9, "$14.0B"),
    (1e9, "$1.00B"), (950, "$950"), (0, "$0"), (-5e6, "-$5.00M"), (2.5e12, "$2.50T"),
    (999_600, "$1.00M"), (999_499, "$999K"), (float("inf"), "$∞"), (float("nan"), "n/a"),
])
def test_fmt_usd_values(x, text):
    assert fmt_usd(x) == text


def test_fmt_usd_digits():
    assert fmt_usd(1.234e9, 2) == "$1.2B"
    assert fmt_usd(31.6e6, 2) == "$32M"


@given(hs.floats(min_value=1.0, max_value=9.99e14, allow_nan=False))
def test_fmt_usd_reads_back_within_rounding(x):
    text = fmt_usd(x)
    scale = {"K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}.get(text[-1], 1.0)
    number = float(text[1:-1] if text[-1] in "KMBT" else text[1:]) * scale
    assert math.isclose(number, x, rel_tol=5.1e-3)
    assert len(text.rstrip("KMBT").replace("$", "").replace(".", "")) <= 4


def test_fmt_price():
    assert fmt_price(94_000.4) == "94,000"
    assert fmt_price(101_234.5) == "101,234" or fmt_price(101_234.5) == "101,235"
    assert fmt_price(3.14159) == "3.142"
    assert fmt_price(float("nan")) == "n/a"


def test_mpl_text_escapes_dollars():
    assert mpl_text("$1B vs $2B") == r"\$1B vs \$2B"


def test_heat_cmap_runs_from_dark_purple_to_yellow():
    cmap = heat_cmap()
    lo, hi = np.array(cmap(0.0)[:3]), np.array(cmap(1.0)[:3])
    assert lo.max() < 0.2 and lo[2] > lo[1]  # near black, purple cast
    assert hi[0] > 0.9 and hi[1] > 0.85 and hi[2] < 0.2  # bright yellow
    assert HEAT_STOPS[0][0] == 0.0 and HEAT_STOPS[-1][0] == 1.0
    lum = [np.array(cmap(v)[:3]) @ [0.2126, 0.7152, 0.0722] for v in np.linspace(0, 1, 11)]
    assert all(b > a for a, b in zip(lum, lum[1:]))  # brighter means more notional
