"""Write an estimate's standard set of charts: heatmap and map, PNG and HTML.

The HTML pages of one output folder share one copy of plotly.js written beside them
(``self_contained=False``, the default here: each page holds its data only, well under
1.5 MB); ``self_contained=True`` inlines plotly.js in each page instead (one file to send).
"""

from __future__ import annotations

from pathlib import Path

from liqmap.core import mapstats
from liqmap.core.records import LiqMap
from liqmap.outputs import ensure_out_dir
from liqmap.plots.heatmap import heatmap_title, plot_heatmap_html, plot_heatmap_png
from liqmap.plots.mapchart import map_title, plot_map_html, plot_map_png

__all__ = ["VENDOR_LABEL", "render_estimate", "render_map"]


def _annotations(m: LiqMap) -> dict:
    zones = [mapstats.densest_zone(m, side) for side in ("short", "long")]
    zone = max(zones, key=lambda z: z.notional_usd)
    return {"imbalance": mapstats.imbalance(m), "clusters": mapstats.clusters(m, top=6),
            "zone": zone, "max_pain": mapstats.harvest_level(m),
            "ceiling": mapstats.squeeze_ceiling(m), "floor": mapstats.flush_floor(m),
            "layers": tuple(mapstats.layers(m, side) for side in ("short", "long"))}


VENDOR_LABEL = "vendor-style convention"
"""Title suffix of a map or heatmap drawn in the ``vendor`` convention."""


def render_map(m: LiqMap, out_dir, *, stem: str = "liqmap", convention: str = "liqmap",
               self_contained: bool = False) -> dict[str, Path]:
    """The cumulative map chart as PNG and HTML, annotated with the map's analytics;
    labelled when drawn in the ``vendor`` convention."""
    out = ensure_out_dir(out_dir)
    ann = _annotations(m)
    if convention == "vendor":
        ann["title"] = f"{map_title(m)} · {VENDOR_LABEL}"
    return {"map_png": plot_map_png(m, out / f"{stem}_map.png", **ann),
            "map_html": plot_map_html(m, out / f"{stem}_map.html", **ann,
                                      self_contained=self_contained)}


def render_estimate(est, out_dir, *, final_map: LiqMap | None = None,
                    stem: str = "liqmap", self_contained: bool = False) -> dict[str, Path]:
    """Heatmap (PNG, HTML) of ``est`` and the map chart of ``final_map`` (default: its own).

    The heatmap shows the drawn span only (``est.heatmap``: frames and price line over
    ``est.drawn_bars``); after a warm-up its first column holds the levels standing then,
    and the title says since when positions are counted.
    """
    out = ensure_out_dir(out_dir)
    hm, warm = est.heatmap, int(getattr(est, "warmup_bars", 0))
    title = heatmap_title(hm, opened_since_ms=int(est.bars.ts_ms[0])) if warm else None
    convention = getattr(est.model, "convention", "liqmap")
    if convention == "vendor":
        title = f"{title or heatmap_title(hm)} · {VENDOR_LABEL}"
    files = {"heatmap_png": plot_heatmap_png(hm, out / f"{stem}_heatmap.png", title=title),
             "heatmap_html": plot_heatmap_html(hm, out / f"{stem}_heatmap.html", title=title,
                                               self_contained=self_contained)}
    files.update(render_map(final_map if final_map is not None else est.final_map, out,
                            stem=stem, convention=convention, self_contained=self_contained))
    return files
