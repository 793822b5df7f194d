"""Plot benchmark: each chart function on the bundled 30-day sample, and the HTML sizes.

Run: ``make bench`` (or ``.venv/bin/python benchmarks/bench_plots.py [--repeats N]``).

One process, one model run on the sample (the book ``liqmap heatmap`` draws), then each
figure is the median of N calls (after one untimed warm-up call: fonts, plotly's
validators) next to its reference, called in turn with it in the same run. Each reference
is the chart's own code with the old choice swapped back in (``_patched``):

- "fast as a whole" (#16): the heatmap PNG at fixed margins, drawn once, zlib level 4,
  against constrained layout (a layout pass in ``savefig``'s dry draw, then the draw) at
  level 6 (``_old_png``: the old picture, pixel for pixel); the map PNG laid out once (with
  its legend and titles, before the labels placed on that layout) and drawn once at level
  4 against two layouts (one before the labels, one in ``savefig``'s dry draw) at level 6
  (the same pixels); each HTML page from a plain dict (``liqmap.plots._html``, no plotly.py) against
  the same dict through plotly.py's figure objects (``_plotly_py_pages``: validation, then
  ``write_html``; the same decoded figure). The PNG rows print the pixel difference of the
  two files;
- all four files in a fresh process (imports included: matplotlib, and plotly.py for the
  old pages), median of N processes, new against every old choice at once;
- the map PNG against its per-bin steps drawn as ``ax.stairs`` patches (``_stairs``:
  matplotlib walks such a step path segment by segment to update the data limits; the
  chart now draws one PolyCollection);
- the heatmap PNG against the whole cropped book drawn by ``pcolormesh`` with the whole
  price line (``_heatmap_png_full_mesh``; the chart now draws an image at most one cell
  per pixel and the price line's M4 points);
- the heatmap HTML against the old page: 600 x 320 cells, float32 colour values, the
  whole price line (``_heatmap_html_old``);
- the HTML sizes against their #16 bound (1.5 MB), and the inlined form (what the CLI wrote
  before, still one flag away: ``--self-contained-html``) against the shared one.

Nothing here fails on a missed target (a benchmark reports, it does not judge).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

MAX_HTML_MB = 1.5


def _timed(fn, repeats: int) -> float:
    """Median seconds of ``repeats`` calls of ``fn`` after one untimed warm-up call."""
    fn()
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def _interleaved(fn, ref, repeats: int) -> tuple[float, float]:
    """Median seconds of ``fn`` and of ``ref``, called in turn (a busy machine slows both
    alike), after one untimed warm-up call of each."""
    fn(), ref()
    a, b = [], []
    for _ in range(repeats):
        for f, runs in ((fn, a), (ref, b)):
            t0 = time.perf_counter()
            f()
            runs.append(time.perf_counter() - t0)
    return statistics.median(a), statistics.median(b)


# ------------------------------------------------------------------ references (old drawings)
@contextlib.contextmanager
def _patched(module, **names):
    """Swap module attributes for the block (the old drawing choices), then restore them."""
    old = {k: getattr(module, k) for k in names}
    for k, v in names.items():
        setattr(module, k, v)
    try:
        yield
    finally:
        for k, v in old.items():
            setattr(module, k, v)


def _constrained_axes(fig):
    """The heatmap's axes before #16 (fast as a whole): constrained layout, the colour bar's
    axes taken from the heat panel (``fig.colorbar(ax=..., pad=0.045, fraction=0.03)``)."""
    from matplotlib.colorbar import make_axes

    fig.set_layout_engine("constrained")
    ax = fig.add_subplot()
    return ax, make_axes(ax, pad=0.045, fraction=0.03)[0]


def _auto_title(fig, text: str) -> None:
    """The title as constrained layout placed it."""
    from liqmap.plots import _style as st

    fig.suptitle(st.mpl_text(text), color=st.FG, fontsize=12, x=0.01, ha="left")


def _savefig(fig, path) -> Path:
    """A PNG as before: ``savefig`` (a dry draw first when the figure has a layout engine),
    zlib's default level."""
    from liqmap.outputs import atomic_path
    from liqmap.plots import _style as st

    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, dpi=fig.dpi, facecolor=st.BG)
    return Path(path)


@contextlib.contextmanager
def _old_png():
    """Both PNGs drawn as before: constrained heatmap layout, savefig's dry draws (a second
    layout of the map), level 6."""
    from liqmap.plots import _style
    from liqmap.plots import heatmap as H
    from liqmap.plots import mapchart as M

    with (_patched(H, _axes=_constrained_axes, _title=_auto_title),
          _patched(M, _freeze_layout=lambda fig: None), _patched(_style, save_png=_savefig)):
        yield


def _plotly_py_page(fig: dict, path, *, js) -> Path:
    """A page as before: the figure through plotly.py's figure objects and ``write_html``."""
    import plotly.graph_objects as go

    from liqmap.outputs import atomic_path
    from liqmap.plots import _html

    with atomic_path(Path(path)) as tmp:
        go.Figure(fig).write_html(tmp, include_plotlyjs=True if js is None else js,
                                  full_html=True, config=dict(_html.CONFIG))
    return Path(path)


@contextlib.contextmanager
def _plotly_py_pages():
    from liqmap.plots import _html

    with _patched(_html, write_figure=_plotly_py_page):
        yield


def _stairs(ax, values, edges, baseline, **kw):
    """The per-bin steps as ``ax.stairs`` patches (the map's drawing before #16)."""
    return ax.stairs(values, edges, baseline=baseline, fill=True, **kw)


def _whole_line(ts_ms, price, max_points):
    return np.asarray(ts_ms), np.asarray(price, dtype=float)


def _heatmap_png_full_mesh(hm, path) -> None:
    """The heatmap PNG drawn as before #16: the whole cropped book (no display grid) as a
    ``pcolormesh`` (frames picked from bars are not exactly evenly spaced, and the old test
    asked for equal steps) and the whole price line; the chart's code otherwise."""
    from liqmap.core import heatgrid
    from liqmap.plots import heatmap as H

    def whole_book(ts, bins, layers, *, max_frames, max_bins, dtype):
        return heatgrid.downsample_heat(ts, bins, layers, dtype=np.float64)

    with _patched(H, downsample_heat=whole_book, price_envelope=_whole_line,
                  _evenly_spaced=lambda d: False):
        H.plot_heatmap_png(hm, path)


def _heatmap_html_old(hm, path) -> None:
    """The heatmap page as before #16 (plotly.js shared, to compare the data part): 600 x
    320 cells, float32 colour values, the whole price line; the chart's code otherwise."""
    from liqmap.plots import heatmap as H

    def float_levels(zc, lo, hi):
        return np.asarray(zc, dtype=np.float32)

    with _patched(H, price_envelope=_whole_line, _colour_levels=float_levels):
        H.plot_heatmap_html(hm, path, max_frames=600, max_bins=320, self_contained=False)


def _in_old_way(fn, *managers):
    """``fn`` called with the old choices (``managers``: context manager factories) in place."""
    def call():
        with contextlib.ExitStack() as stack:
            for cm in managers:
                stack.enter_context(cm())
            return fn()
    return call


def _pixel_diff(a: Path, b: Path) -> str:
    from PIL import Image

    x, y = (np.asarray(Image.open(p).convert("RGB"), dtype=np.int16) for p in (a, b))
    if x.shape != y.shape:
        return f"sizes differ {x.shape} {y.shape}"
    d = np.abs(x - y).max(axis=-1)
    return (f"{np.mean(d > 0):.2%} px differ ({np.mean(d > 16):.2%} by more than 16/255), "
            f"max {int(d.max())}/255")


# ------------------------------------------------------------- all four files, fresh process
def _render_once(old: bool, data: str, out: str) -> None:
    """In a fresh process: import the charts and write the four files; print the seconds."""
    with open(data, "rb") as fh:
        hm, m, ann = pickle.load(fh)
    t0 = time.perf_counter()
    from liqmap.plots.heatmap import plot_heatmap_html, plot_heatmap_png
    from liqmap.plots.mapchart import plot_map_html, plot_map_png

    with contextlib.ExitStack() as stack:
        for cm in (_old_png, _plotly_py_pages) if old else ():
            stack.enter_context(cm())
        plot_heatmap_png(hm, Path(out) / "h.png")
        plot_heatmap_html(hm, Path(out) / "h.html", self_contained=False)
        plot_map_png(m, Path(out) / "m.png", **ann)
        plot_map_html(m, Path(out) / "m.html", **ann, self_contained=False)
    print(time.perf_counter() - t0)


def _fresh_processes(data: Path, out: Path, repeats: int) -> tuple[float, float]:
    """Median seconds of the four files in a fresh process, new and old in turn."""
    runs: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(repeats):
        for old in runs:
            cmd = [sys.executable, __file__, "--render-once", "old" if old else "new",
                   str(data), str(out / ("old" if old else "new"))]
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            runs[old].append(float(done.stdout.split()[-1]))
    return statistics.median(runs[False]), statistics.median(runs[True])


# ------------------------------------------------------------------------------------ main
def _rows(hm, m, ann, out: Path) -> list[tuple]:
    """(name, new, reference name, reference, PNG files to compare or None) per timed row."""
    from liqmap.plots import heatmap as H
    from liqmap.plots import mapchart as M

    shared = dict(self_contained=False)
    stairs = functools.partial(_patched, M, _step_fill=_stairs)
    return [
        ("heatmap PNG (fixed margins)", lambda: H.plot_heatmap_png(hm, out / "h.png"),
         "constrained, dry draw, zlib 6",
         _in_old_way(lambda: H.plot_heatmap_png(hm, out / "h_old.png"), _old_png),
         ("h.png", "h_old.png")),
        ("map PNG (1 layout, 1 draw)", lambda: M.plot_map_png(m, out / "m.png", **ann),
         "2 layouts, dry draw, zlib 6",
         _in_old_way(lambda: M.plot_map_png(m, out / "m_old.png", **ann), _old_png),
         ("m.png", "m_old.png")),
        ("heatmap HTML (plain dict)", lambda: H.plot_heatmap_html(hm, out / "h.html", **shared),
         "plotly.py figure objects",
         _in_old_way(lambda: H.plot_heatmap_html(hm, out / "h_old.html", **shared),
                     _plotly_py_pages), None),
        ("map HTML (plain dict)", lambda: M.plot_map_html(m, out / "m.html", **ann, **shared),
         "plotly.py figure objects",
         _in_old_way(lambda: M.plot_map_html(m, out / "m_old.html", **ann, **shared),
                     _plotly_py_pages), None),
        ("map PNG (one PolyCollection)", lambda: M.plot_map_png(m, out / "m.png", **ann),
         "map PNG with ax.stairs",
         _in_old_way(lambda: M.plot_map_png(m, out / "m0.png", **ann), stairs), None),
        ("heatmap PNG (image, <= 1/px)", lambda: H.plot_heatmap_png(hm, out / "h.png"),
         "full pcolormesh + line", lambda: _heatmap_png_full_mesh(hm, out / "h0.png"), None),
        ("heatmap HTML (400 x 200)", lambda: H.plot_heatmap_html(hm, out / "h.html", **shared),
         "600 x 320 float32 page", lambda: _heatmap_html_old(hm, out / "h0.html"), None),
    ]


def _print_rows(rows, repeats: int, out: Path) -> None:
    print(f"{'figure':<30}{'seconds':>9}  {'reference':<30}{'seconds':>9}{'ratio':>8}")
    diffs = []
    for name, new, ref_name, ref, files in rows:
        t_new, t_ref = _interleaved(new, ref, repeats)
        print(f"{name:<30}{t_new:>9.3f}  {ref_name:<30}{t_ref:>9.3f}{t_new / t_ref:>7.2f}x")
        if files:
            diffs.append(f"  {name}: {_pixel_diff(out / files[0], out / files[1])}")
    print("PNG against its reference:", *diffs, sep="\n")


def _print_sizes(hm, m, ann, out: Path) -> None:
    from liqmap.plots import heatmap as H
    from liqmap.plots import mapchart as M

    H.plot_heatmap_html(hm, out / "alone_h.html", self_contained=True)
    M.plot_map_html(m, out / "alone_m.html", **ann, self_contained=True)
    sizes = {name: (out / name).stat().st_size / 1e6 for name in
             ("h.html", "m.html", "h0.html", "alone_h.html", "alone_m.html")}
    js = next(out.glob("plotly-*.min.js")).stat().st_size / 1e6
    print(f"\nHTML sizes (bound {MAX_HTML_MB} MB a page; plotly.js {js:.2f} MB, one shared copy "
          "per folder)")
    for label, key, ref_key in (
            ("heatmap page", "h.html", "alone_h.html"), ("map page", "m.html", "alone_m.html")):
        mb, ref = sizes[key], sizes[ref_key]
        print(f"{label:<32}{mb:>7.2f} MB  self-contained {ref:>5.2f} MB  {mb / ref:>5.2f}x  "
              f"{'met' if mb <= MAX_HTML_MB else 'MISSED'}")
    print(f"{'heatmap page, old grid + line':<32}{sizes['h0.html']:>7.2f} MB  (data part before #16)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="timed calls per figure")
    ap.add_argument("--render-once", nargs=3, metavar=("NEW_OR_OLD", "DATA", "OUT"),
                    help=argparse.SUPPRESS)  # the fresh process of the whole-render row
    args = ap.parse_args()
    if args.render_once:
        return _render_once(args.render_once[0] == "old", *args.render_once[1:])

    from liqmap.io.sample import load_sample
    from liqmap.model import LiquidationModel
    from liqmap.plots.render import _annotations

    est = LiquidationModel().run(load_sample("btcusdt-5m-2025-12"))
    hm, m = est.heatmap, est.final_map
    ann = _annotations(m)
    print(f"plots on the bundled 30-day sample ({len(hm.ts_ms)} frames x "
          f"{len(hm.price_bins_usd)} bins, {len(hm.price_ts_ms):,} bars); median of "
          f"{args.repeats}, reference drawn in the same run")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        _print_rows(_rows(hm, m, ann, out), args.repeats, out)
        (out / "data.pkl").write_bytes(pickle.dumps((hm, m, ann)))
        t_new, t_old = _fresh_processes(out / "data.pkl", out, args.repeats)
        print(f"\nall four files in a fresh process (imports included), median of "
              f"{args.repeats}: {t_new:.3f} s, every old choice {t_old:.3f} s, "
              f"{t_new / t_old:.2f}x")
        _print_sizes(hm, m, ann, out)


if __name__ == "__main__":
    main()
