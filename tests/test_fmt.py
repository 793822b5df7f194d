"""liqmap.fmt: the one formatter of USD amounts and prices."""

from __future__ import annotations

from liqmap import fmt, plots
from liqmap.fmt import fmt_usd
from liqmap.plots import _style


def test_one_home():
    assert plots.fmt_usd is fmt.fmt_usd is _style.fmt_usd
    assert plots.fmt_price is fmt.fmt_price is _style.fmt_price


def test_figures_the_studies_and_cli_print():
    # market-state sentences, watch alerts, cascade and sweep lines all read these
    assert [fmt_usd(x) for x in (720.0, 789_000, 4.5e6, 45.6e6, 123.4e6, 12.35e9)] == [
        "$720", "$789K", "$4.50M", "$45.6M", "$123M", "$12.3B"]
    assert fmt_usd(-5e6) == "-$5.00M" and fmt_usd(0.0) == "$0"
