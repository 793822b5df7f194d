"""Charts of the level study: each effect (cluster - control) with its 95 % interval.

Three panels, because the units differ: acceleration ratios (speed, range), the post-touch
speed in basis points per bar, and rates (rejection, magnet hit rates, in percentage
points). A dashed line marks zero (no
difference from random levels).

>>> plot_effects_png(level_study(bars).to_dict(), "out/studies.png")   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from liqmap.outputs import atomic_path
from liqmap.timeutil import utc_date

__all__ = ["plot_effects_html", "plot_effects_png"]

_LABELS = {
    "speed": "speed after / before",
    "range": "range after / before",
    "rejection": "rejection rate",
    "speed_after": "speed after (bp/bar)",
    "magnet_mirror": "magnet: vs mirror level",
    "magnet_same_side": "magnet: vs other times",
}
_RATES = ("rejection", "magnet_mirror", "magnet_same_side")


def _panels(d: dict) -> list[tuple[str, list[dict], float]]:
    ratios = [s for s in d["studies"] if s["name"] in ("speed", "range")]
    bp = [s for s in d["studies"] if s["name"] == "speed_after"]
    rates = [s for s in d["studies"] if s["name"] in _RATES]
    return [("acceleration: cluster - control (ratio after/before)", ratios, 1.0),
            ("speed after the touch: cluster - control (bp per bar)", bp, 1.0),
            ("rates: cluster - control (percentage points)", rates, 100.0)]


def _title(d: dict) -> str:
    w = d.get("window", {})
    span = (f"{utc_date(w['start_ms'])} to {utc_date(w['end_ms'])}"
            if "start_ms" in w else "")
    return f"Level reaction and magnet study {span} (effects with 95% block-bootstrap CI)"


def plot_effects_png(d: dict, path) -> Path:
    """PNG of the effects in ``d`` (the ``LevelStudy.to_dict()`` shape)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 1, figsize=(10, 8), constrained_layout=True,
                             height_ratios=[2, 1.2, 3])
    for ax, (title, rows, scale) in zip(axes, _panels(d)):
        for y, s in enumerate(rows):
            e = s["effect"]
            if e is None:
                ax.text(0, y, f"{_LABELS.get(s['name'], s['name'])}: no events", va="center")
                continue
            lo, hi = (s["ci_low"] or e) * scale, (s["ci_high"] or e) * scale
            color = "#2a7" if lo > 0 else "#c44" if hi < 0 else "#555"
            ax.errorbar(e * scale, y, xerr=[[e * scale - lo], [hi - e * scale]], fmt="o",
                        color=color, capsize=5, lw=2)
            ax.annotate(f"{e * scale:+.3g} [{lo:+.3g}, {hi:+.3g}]  n={s['n']}",
                        (e * scale, y), xytext=(0, 9), textcoords="offset points",
                        ha="center", fontsize=8)
        ax.axvline(0, color="k", ls="--", lw=1)
        ax.set_yticks(range(len(rows)), [_LABELS.get(s["name"], s["name"]) for s in rows])
        ax.set_ylim(-0.7, len(rows) - 0.4)
        ax.set_title(title, fontsize=10, loc="left")
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(_title(d), fontsize=11)
    path = Path(path)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110)
    finally:
        plt.close(fig)
    return path


def plot_effects_html(d: dict, path) -> Path:
    """Interactive HTML of the same chart, with each study's statement on hover."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from liqmap.plots import write_html

    panels = _panels(d)
    fig = make_subplots(rows=3, cols=1, subplot_titles=[p[0] for p in panels],
                        vertical_spacing=0.12)
    for r, (_, rows, scale) in enumerate(panels, start=1):
        ok = [s for s in rows if s["effect"] is not None and s["ci_low"] is not None]
        x = [s["effect"] * scale for s in ok]
        fig.add_trace(go.Scatter(
            x=x, y=[_LABELS.get(s["name"], s["name"]) for s in ok], mode="markers",
            error_x=dict(type="data", symmetric=False,
                         array=[(s["ci_high"] - s["effect"]) * scale for s in ok],
                         arrayminus=[(s["effect"] - s["ci_low"]) * scale for s in ok]),
            text=[s["statement"] for s in ok], hoverinfo="text", showlegend=False),
            row=r, col=1)
        fig.add_vline(x=0, line_dash="dash", row=r, col=1)
    fig.update_layout(title=_title(d), height=750)
    return write_html(fig, path)
