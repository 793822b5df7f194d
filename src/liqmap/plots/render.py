"""Write an estimate's standard set of charts: heatmap and map, PNG and HTML."""

from __future__ import annotations

from pathlib import Path

from liqmap.core import mapstats
from liqmap.core.records import LiqMap
from liqmap.outputs import ensure_out_dir
from liqmap.plots.heatmap import plot_heatmap_html, plot_heatmap_png
from liqmap.plots.mapchart import plot_map_html, plot_map_png

__all__ = ["render_estimate", "render_map"]


def _annotations(m: LiqMap) -> dict:
    zones = [mapstats.densest_zone(m, side) for side in ("short", "long")]
    zone = max(zones, key=lambda z: z.notional_usd)
    return {"imbalance": mapstats.imbalance(m), "clusters": mapstats.clusters(m, top=6),
            "zone": zone, "max_pain": mapstats.max_pain(m)}


def render_map(m: LiqMap, out_dir, *, stem: str = "liqmap") -> dict[str, Path]:
    """The cumulative map chart as PNG and HTML, annotated with the map's analytics."""
    out = ensure_out_dir(out_dir)
    ann = _annotations(m)
    return {"map_png": plot_map_png(m, out / f"{stem}_map.png", **ann),
            "map_html": plot_map_html(m, out / f"{stem}_map.html", **ann)}


def render_estimate(est, out_dir, *, final_map: LiqMap | None = None,
                    stem: str = "liqmap") -> dict[str, Path]:
    """Heatmap (PNG, HTML) of ``est`` and the map chart of ``final_map`` (default: its own)."""
    out = ensure_out_dir(out_dir)
    files = {"heatmap_png": plot_heatmap_png(est.heatmap, out / f"{stem}_heatmap.png"),
             "heatmap_html": plot_heatmap_html(est.heatmap, out / f"{stem}_heatmap.html")}
    files.update(render_map(final_map if final_map is not None else est.final_map, out,
                            stem=stem))
    return files
