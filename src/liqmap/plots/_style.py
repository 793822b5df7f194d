"""Shared look of the liqmap charts: dark theme colours, the heat colour map, number formats.

Nothing here draws; the chart modules read these constants so the static (matplotlib)
and interactive (Plotly) versions of a chart look alike.
"""

from __future__ import annotations

import math

from pathlib import Path

from matplotlib.colors import LinearSegmentedColormap

from liqmap.outputs import atomic_path

__all__ = [
    "BG",
    "FG",
    "FG_DIM",
    "GRID",
    "HEAT_STOPS",
    "LONG",
    "LONG_DIM",
    "MAXPAIN",
    "PANEL",
    "PRICE",
    "SHORT",
    "SHORT_DIM",
    "ZONE",
    "fmt_price",
    "fmt_usd",
    "dark_layout",
    "heat_cmap",
    "mpl_text",
    "write_html",
]

BG = "#0b0b12"  # figure background: near-black
PANEL = "#12101c"  # axes background: near-black with a purple cast
FG = "#e6e6eb"  # labels, titles
FG_DIM = "#9a9aae"  # ticks, secondary text
GRID = "#2a2838"
PRICE = "#f5f5f5"  # the price line
LONG = "#ff4d5e"  # long liquidations (below price): red
LONG_DIM = "#b8323f"
SHORT = "#21c08b"  # short liquidations (above price): green
SHORT_DIM = "#168a63"
ZONE = "#ffb020"  # densest zone / max pain accents: amber
MAXPAIN = "#ff7ad9"

#: Heat colour stops (position 0..1, colour): empty is near-black purple, dense is bright
#: yellow, through violet, blue, teal and green (a darkened viridis, as on Coinglass).
HEAT_STOPS: tuple[tuple[float, str], ...] = (
    (0.00, "#12051f"),
    (0.12, "#3b0f6f"),
    (0.30, "#3e4a89"),
    (0.48, "#26828e"),
    (0.66, "#35b779"),
    (0.82, "#9fd938"),
    (1.00, "#fde725"),
)


def heat_cmap() -> LinearSegmentedColormap:
    """The heat colour map (see ``HEAT_STOPS``); values below the norm's floor are empty."""
    cmap = LinearSegmentedColormap.from_list("liqmap_heat", list(HEAT_STOPS), N=512)
    return cmap.with_extremes(under=HEAT_STOPS[0][1], bad=HEAT_STOPS[0][1])


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


def mpl_text(text: str) -> str:
    """Escape ``$`` so matplotlib prints it instead of starting math mode."""
    return text.replace("$", r"\$")


def dark_layout(title: str) -> dict:
    """Plotly layout settings of the dark theme shared by the interactive charts."""
    axis = dict(gridcolor=GRID, zerolinecolor=GRID, color=FG_DIM)
    return dict(
        title=dict(text=title, x=0.01, font=dict(color=FG, size=15)),
        template="plotly_dark", paper_bgcolor=BG, plot_bgcolor=HEAT_STOPS[0][1],
        font=dict(color=FG),
        xaxis=axis, yaxis=axis, hovermode="closest", margin=dict(l=70, r=30, t=60, b=50),
        legend=dict(bgcolor="rgba(11,11,18,0.7)", bordercolor=GRID, borderwidth=1,
                    x=0.01, y=0.99, xanchor="left", yanchor="top"),
    )


def write_html(fig, path) -> Path:
    """Write a Plotly figure as one self-contained HTML file (plotly.js inlined, no CDN),
    atomically (:func:`liqmap.outputs.atomic_path`)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.write_html(tmp, include_plotlyjs=True, full_html=True,
                       config={"displaylogo": False, "scrollZoom": True})
    return path
