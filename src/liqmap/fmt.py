"""The one formatter of numbers for people: USD amounts and prices.

Every figure liqmap prints or draws goes through these two (chart labels, CLI tables and
summaries, study sentences, alert lines); the dashboard's ``fmtUsd`` (``service/static``)
is their JavaScript twin.

>>> fmt_usd(1_234_000_000), fmt_usd(-5e6), fmt_usd(31.6e6, 2), fmt_price(94_000.4)
('$1.23B', '-$5.00M', '$32M', '94,000')
"""

from __future__ import annotations

import math

__all__ = ["fmt_price", "fmt_usd"]

_UNITS = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))


def fmt_usd(x: float, digits: int = 3) -> str:
    """Format a USD amount compactly with ``digits`` significant digits and a K/M/B/T suffix.

    Parameters
    ----------
    x : float
        Amount in USD (may be negative).
    digits : int, default 3
        Significant digits kept.

    Returns
    -------
    str
        ``"$1.23B"``, ``"$450M"``, ``"$12.3K"``, ``"-$5.00M"``, ``"$950"``; ``"n/a"`` for
        NaN and ``"$∞"`` for infinity.

    Examples
    --------
    >>> fmt_usd(1_234_000_000), fmt_usd(450e6), fmt_usd(12_345)
    ('$1.23B', '$450M', '$12.3K')
    """
    if x is None or math.isnan(x):
        return "n/a"
    sign = "-" if x < 0 else ""
    a = abs(float(x))
    if math.isinf(a):
        return f"{sign}$∞"
    for scale, suffix in ((1.0, ""),) + tuple(reversed(_UNITS)):
        v = _round_sig(a / scale, digits)
        if v < 1000 or suffix == "T":
            return f"{sign}${_fixed(v, digits)}{suffix}"
    raise AssertionError("unreachable")  # pragma: no cover


def _round_sig(v: float, digits: int) -> float:
    """Round ``v`` to ``digits`` significant digits (0 stays 0)."""
    if v == 0:
        return 0.0
    return round(v, digits - 1 - int(math.floor(math.log10(abs(v)))))


def _fixed(v: float, digits: int) -> str:
    """Write ``v`` (already rounded) with enough decimals for ``digits`` significant digits."""
    if v == 0:
        return "0"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(v))))
    return f"{v:.{decimals}f}"


def fmt_price(x: float) -> str:
    """Format a price in USD with thousands separators (decimals only below $100).

    Examples
    --------
    >>> fmt_price(94_000.4), fmt_price(3.14159)
    ('94,000', '3.142')
    """
    if x is None or not math.isfinite(x):
        return "n/a"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:,.3f}".rstrip("0").rstrip(".") if abs(x) < 10 else f"{x:,.2f}"
    return f"{x:.4g}"
