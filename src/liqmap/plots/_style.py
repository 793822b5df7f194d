"""Shared look of the liqmap charts: dark theme colours, the heat colour map, number formats
(``fmt_usd``, ``fmt_price``: imported from ``liqmap.fmt``, their one home).

Nothing here draws; the chart modules read these constants so the static (matplotlib)
and interactive (Plotly) versions of a chart look alike.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.colors import Colormap, LinearSegmentedColormap

from liqmap.fmt import fmt_price, fmt_usd  # the one number formatter, read as st.fmt_*
from liqmap.outputs import atomic_path, atomic_write_bytes
from liqmap.plots import _html

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
    "PNG_COMPRESS_LEVEL",
    "PRICE",
    "SHORT",
    "SHORT_DIM",
    "ZONE",
    "fmt_price",
    "fmt_usd",
    "dark_layout",
    "heat_cmap",
    "mpl_text",
    "plotly_js_name",
    "save_png",
    "write_html",
    "write_plotly_js",
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
ZONE = "#ffb020"  # densest zone / harvest level accents: amber
MAXPAIN = "#ff7ad9"

#: zlib level of the PNGs: 4 writes the 30-day heatmap in about half the time of the
#: default 6, 9 % larger (the pixels are the same at any level).
PNG_COMPRESS_LEVEL = 4

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


def heat_cmap() -> Colormap:
    """The heat colour map (see ``HEAT_STOPS``); values below the norm's floor are empty."""
    cmap = LinearSegmentedColormap.from_list("liqmap_heat", list(HEAT_STOPS), N=512)
    return cmap.with_extremes(under=HEAT_STOPS[0][1], bad=HEAT_STOPS[0][1])


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
        xaxis=axis, yaxis=dict(axis), hovermode="closest", margin=dict(l=70, r=30, t=60, b=50),
        legend=dict(bgcolor="rgba(11,11,18,0.7)", bordercolor=GRID, borderwidth=1,
                    x=0.01, y=0.99, xanchor="left", yanchor="top"),
    )


def plotly_js_name() -> str:
    """File name of the shared plotly.js copy: ``plotly-<version>.min.js`` (the version in
    the name, so a folder written by another plotly keeps a copy that matches each page)."""
    return f"plotly-{_html.plotlyjs_version()}.min.js"


def write_plotly_js(folder) -> Path:
    """The shared plotly.js copy in ``folder``, written (atomically) when it is not there."""
    path = Path(folder) / plotly_js_name()
    if not path.is_file():
        atomic_write_bytes(path, _html.plotlyjs_path().read_bytes())
    return path


def write_html(fig, path, *, self_contained: bool = True) -> Path:
    """Write a Plotly figure as an HTML file that opens offline (no CDN), atomically
    (:func:`liqmap.outputs.atomic_path`).

    ``fig`` is a plotly.py figure or the plain dict plotly.js reads (``{"data": [...],
    "layout": {...}}``, numpy arrays allowed: the page plotly.py would write, without
    importing it; see ``liqmap.plots._html``). ``self_contained=True``: one file, plotly.js
    (about 4.7 MB) inlined. False: the page loads one shared copy of plotly.js from its
    own folder (:func:`write_plotly_js`, written once per folder), so each page holds its
    data only; move the folder, not a lone page.
    """
    path = Path(path)
    js = None if self_contained else write_plotly_js(path.parent).name
    if isinstance(fig, dict):
        return _html.write_figure(fig, path, js=js)
    with atomic_path(path) as tmp:
        fig.write_html(tmp, include_plotlyjs=True if js is None else js, full_html=True,
                       config=dict(_html.CONFIG))
    return path


def save_png(fig, path) -> Path:
    """Write a matplotlib figure as a PNG at its own dpi, atomically.

    One draw: a figure without a layout engine (fixed margins, or laid out and frozen
    beforehand) skips the dry run ``savefig`` makes to lay a figure out. zlib level
    ``PNG_COMPRESS_LEVEL`` (the pixels are the same at any level).
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=fig.dpi, facecolor=BG,
                    pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    return path
