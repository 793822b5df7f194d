"""Charts of the cascade simulator: the step-by-step path and the amplification curve.

``plot_cascade(result, "out/cascade.png")`` - top: mark price over simulated time against the
reference and the shocked price; bottom: notional liquidated per step (longs red, shorts
green) and the cumulative forced market flow (right axis).

``plot_amplification(curve, "out/amplification.png")`` - left: terminal move against the
shock with the no-cascade diagonal and the self-sustaining thresholds; right: the cascade's
own move (``|move| - |shock|``) upward and downward by shock size, with the asymmetry.

A ``.html`` suffix writes an interactive Plotly version instead (dark theme, offline).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from liqmap.outputs import atomic_path
from liqmap.plots import _style as st

__all__ = ["amplification_figure", "cascade_figure", "plot_amplification", "plot_cascade"]


def _axes(ax) -> None:
    ax.set_facecolor(st.PANEL)
    ax.tick_params(colors=st.FG_DIM, labelsize=9)
    for sp in ax.spines.values():
        sp.set_color(st.GRID)
    ax.grid(color=st.GRID, linewidth=0.6, alpha=0.8)
    ax.xaxis.label.set_color(st.FG)
    ax.yaxis.label.set_color(st.FG)


def _usd_fmt():
    return FuncFormatter(lambda v, _: st.fmt_usd(v, 3))


def _new(figsize_in, dpi, ncols=1, nrows=1, **kw):
    fig = Figure(figsize=figsize_in, dpi=dpi, facecolor=st.BG, layout="constrained")
    FigureCanvasAgg(fig)
    axs = fig.subplots(nrows, ncols, squeeze=False, **kw)
    for ax in axs.ravel():
        _axes(ax)
    return fig, axs


def cascade_figure(res, *, figsize_in=(11.0, 7.0), dpi: int = 110) -> Figure:
    """The path chart of a ``CascadeResult`` on a new ``Figure``."""
    fig, axs = _new(figsize_in, dpi, nrows=2, sharex=True, height_ratios=(3, 2))
    ax, axb = axs[0, 0], axs[1, 0]
    t, p0 = res.t_s, res.reference_price_usd
    ax.step(t, res.price_usd, where="post", color=st.PRICE, lw=1.6, label="mark price")
    ax.axhline(p0 * (1 + res.shock_pct / 100), color=st.ZONE, lw=0.9, ls="--",
               label=f"shock {res.shock_pct:+.2f}% alone (from {st.fmt_price(p0)})")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: st.fmt_price(v)))
    ax.set_ylabel("price (USD)")
    amp = "n/a" if not np.isfinite(res.amplification) else f"{res.amplification:.2f}x"
    ax.set_title(f"Cascade after a {res.shock_pct:+.2f}% shock ({res.impact} impact): "
                 f"move {res.move_pct:+.2f}%, amplification {amp}, "
                 f"{res.t_s[-1] / 60:.1f} min", color=st.FG, fontsize=12, loc="left")
    leg = ax.legend(loc="best", fontsize=9, facecolor=st.BG, edgecolor=st.GRID)
    for txt in leg.get_texts():
        txt.set_color(st.FG)
    w = max(float(np.median(np.diff(t))) if t.size > 1 else 1.0, 1e-9) * 0.8
    axb.bar(t, res.liq_long_usd.sum(1), width=w, color=st.LONG, align="edge", label="longs liquidated")
    axb.bar(t, res.liq_short_usd.sum(1), width=w, color=st.SHORT, align="edge",
            bottom=res.liq_long_usd.sum(1), label="shorts liquidated")
    axb.yaxis.set_major_formatter(_usd_fmt())
    axb.set_ylabel("liquidated per step")
    axb.set_xlabel("seconds after the shock")
    ax2 = axb.twinx()
    ax2.plot(t, res.cum_forced_usd, color=st.ZONE, lw=1.4, label="cumulative forced flow")
    ax2.yaxis.set_major_formatter(_usd_fmt())
    ax2.tick_params(colors=st.FG_DIM, labelsize=9)
    ax2.set_ylim(bottom=0.0)
    ax2.set_ylabel("cumulative forced flow", color=st.FG)
    handles = axb.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    leg = axb.legend(handles=handles, loc="center right", fontsize=9, facecolor=st.BG,
                     edgecolor=st.GRID)
    for txt in leg.get_texts():
        txt.set_color(st.FG)
    return fig


def amplification_figure(curve, *, figsize_in=(12.0, 5.2), dpi: int = 110) -> Figure:
    """The amplification chart of a ``CurveResult`` on a new ``Figure``."""
    fig, axs = _new(figsize_in, dpi, ncols=2)
    ax, axr = axs[0, 0], axs[0, 1]
    s, m = curve.shocks_pct, curve.move_pct
    ax.plot(s, s, color=st.FG_DIM, lw=0.9, ls=":", label="no cascade (move = shock)")
    ax.plot(s, m, color=st.PRICE, lw=1.6, label="terminal move")
    ax.fill_between(s, s, m, where=s > 0, color=st.SHORT, alpha=0.25, lw=0)
    ax.fill_between(s, s, m, where=s < 0, color=st.LONG, alpha=0.25, lw=0)
    for thr, col in ((curve.threshold_up_pct, st.SHORT), (curve.threshold_down_pct, st.LONG)):
        if thr is not None:
            ax.axvline(thr, color=col, lw=1.0, ls="--", label=f"self-sustaining from {thr:+.1f}%")
    ax.set_xlabel("initial shock (%)")
    ax.set_ylabel("terminal move (%)")
    ax.set_title(f"Amplification curve ({curve.impact} impact; threshold = "
                 f"{curve.sustain_amplification:g}x)", color=st.FG, fontsize=12, loc="left")
    pos = s[s > 0]
    neg = -s[s < 0]
    endo = np.abs(m) - np.abs(s)
    axr.plot(pos, endo[s > 0], color=st.SHORT, lw=1.6, label="upward (shorts liquidated)")
    axr.plot(neg, endo[s < 0], color=st.LONG, lw=1.6, label="downward (longs liquidated)")
    axr.set_xlabel("shock size (%)")
    axr.set_ylabel("cascade's own move |move| - |shock| (%)")
    asym = "n/a" if not np.isfinite(curve.asymmetry) else f"{curve.asymmetry:+.2f}"
    axr.set_title(f"Up vs down: asymmetry {asym} (+1 = all upside)", color=st.FG,
                  fontsize=12, loc="left")
    for a in (ax, axr):
        leg = a.legend(loc="upper left", fontsize=9, facecolor=st.BG, edgecolor=st.GRID)
        for txt in leg.get_texts():
            txt.set_color(st.FG)
    return fig


def _html_path(res, path: Path) -> Path:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=(0.6, 0.4),
                        specs=[[{}], [{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=res.t_s, y=res.price_usd, name="mark price", line_shape="hv",
                             line=dict(color=st.PRICE)), row=1, col=1)
    fig.add_trace(go.Bar(x=res.t_s, y=res.liq_long_usd.sum(1), name="longs liquidated",
                         marker_color=st.LONG), row=2, col=1)
    fig.add_trace(go.Bar(x=res.t_s, y=res.liq_short_usd.sum(1), name="shorts liquidated",
                         marker_color=st.SHORT), row=2, col=1)
    fig.add_trace(go.Scatter(x=res.t_s, y=res.cum_forced_usd, name="cumulative forced flow",
                             line=dict(color=st.ZONE)), row=2, col=1, secondary_y=True)
    lay = st.dark_layout(f"Cascade after a {res.shock_pct:+.2f}% shock: move {res.move_pct:+.2f}%")
    lay.pop("xaxis"), lay.pop("yaxis")
    fig.update_layout(**lay, barmode="stack")
    return st.write_html(fig, path)


def _html_curve(curve, path: Path) -> Path:
    import plotly.graph_objects as go

    s = curve.shocks_pct
    fig = go.Figure([go.Scatter(x=s, y=s, name="no cascade", line=dict(color=st.FG_DIM, dash="dot")),
                     go.Scatter(x=s, y=curve.move_pct, name="terminal move",
                                line=dict(color=st.PRICE))])
    fig.update_layout(**st.dark_layout(f"Amplification curve, asymmetry {curve.asymmetry:+.2f}"))
    return st.write_html(fig, path)


def _save(fig: Figure, path) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, facecolor=st.BG)
    return path


def plot_cascade(res, path) -> Path:
    """Write the path chart of a ``CascadeResult`` as PNG (or HTML for ``.html``)."""
    path = Path(path)
    return _html_path(res, path) if path.suffix == ".html" else _save(cascade_figure(res), path)


def plot_amplification(curve, path) -> Path:
    """Write the amplification chart of a ``CurveResult`` as PNG (or HTML for ``.html``)."""
    path = Path(path)
    if path.suffix == ".html":
        return _html_curve(curve, path)
    return _save(amplification_figure(curve), path)
