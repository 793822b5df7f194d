"""Charts of liqmap results: the liquidation heatmap and the cumulative liquidation map.

Each chart comes as a static PNG (matplotlib, drawn on an Agg canvas without pyplot, so
no display and no global backend switch; drawn once) and as an interactive HTML that opens
offline (plotly.js inlined or one shared copy beside it; the page is written from a plain
figure dict, so plotly.py is not imported). Both share one dark theme
(``liqmap.plots._style``).

::

    plot_heatmap_png(hm, "out/heatmap.png", realized=(ts_ms, price_usd, notional_usd, side))
    plot_heatmap_html(hm, "out/heatmap.html")
    plot_map_png(m, "out/map.png", imbalance=imb, clusters=cl, zone=zone, max_pain=mp)
    plot_map_html(m, "out/map.html", imbalance=imb, clusters=cl)

``heatmap_figure`` and ``map_figure`` return the matplotlib ``Figure`` for further
drawing; ``write_html`` writes any Plotly figure, or figure dict, the same way (atomic);
``fmt_usd`` / ``fmt_price`` (from ``liqmap.fmt``) are the number formats used on every label.

The charts of other results live beside them, each imported where it is drawn (so importing
``liqmap.plots`` loads neither pyplot nor Plotly): ``cascade_chart`` (a cascade's path and
amplification curve), ``level_study_chart`` (the level study's effects) and
``scorecard_charts`` (a scorecard window's predicted vs realized figures).
"""

from __future__ import annotations

from liqmap.fmt import fmt_price, fmt_usd
from liqmap.plots._style import write_html
from liqmap.plots.heatmap import heatmap_figure, plot_heatmap_html, plot_heatmap_png
from liqmap.plots.mapchart import (
    cluster_label,
    imbalance_text,
    map_figure,
    plot_map_html,
    plot_map_png,
)

__all__ = [
    "cluster_label",
    "fmt_price",
    "fmt_usd",
    "heatmap_figure",
    "imbalance_text",
    "map_figure",
    "plot_heatmap_html",
    "plot_heatmap_png",
    "plot_map_html",
    "plot_map_png",
    "write_html",
]
