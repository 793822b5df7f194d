"""Plot benchmark: each chart function on the bundled 30-day sample, and the HTML sizes.

Run: ``make bench`` (or ``.venv/bin/python benchmarks/bench_plots.py [--repeats N]``).

One process, one model run on the sample (the book ``liqmap heatmap`` draws), then each
figure is the median of N calls (after one untimed warm-up call: fonts, plotly's
validators) next to its reference, called in turn with it in the same run:

- the map PNG against the way it was drawn before issue #16: the per-bin steps as
  ``ax.stairs`` patches (``_map_png_with_stairs`` below: matplotlib walks such a step path
  segment by segment to update the data limits; the chart now draws one PolyCollection);
- the heatmap PNG against the whole cropped book drawn by ``pcolormesh`` with the whole
  price line, as before (``_heatmap_png_full_mesh``: the chart's own code with those
  choices swapped back in; the chart now draws an image at most one cell per pixel and
  the price line's M4 points);
- the heatmap HTML against the old page: 600 x 320 cells, float32 colour values, the
  whole price line (``_heatmap_html_old``, the same way);
- the HTML sizes against their #16 bound (1.5 MB), and the inlined form (what the CLI wrote
  before, still one flag away: ``--self-contained-html``) against the shared one.

Nothing here fails on a missed target (a benchmark reports, it does not judge).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
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
def _map_png_with_stairs(m, path, ann) -> None:
    """The map PNG with its per-bin steps drawn by ``ax.stairs`` (the drawing before #16)."""
    from liqmap.outputs import atomic_path
    from liqmap.plots import _style as st
    from liqmap.plots import mapchart

    def stairs(ax, values, edges, baseline, **kw):
        return ax.stairs(values, edges, baseline=baseline, fill=True, **kw)

    real = mapchart._step_fill
    mapchart._step_fill = stairs
    try:
        fig = mapchart.map_figure(m, **ann)
    finally:
        mapchart._step_fill = real
    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, dpi=130, facecolor=st.BG)


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


# ------------------------------------------------------------------------------------ main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="timed calls per figure")
    args = ap.parse_args()

    from liqmap.io.sample import load_sample
    from liqmap.model import LiquidationModel
    from liqmap.plots import heatmap as H
    from liqmap.plots import mapchart as M
    from liqmap.plots.render import _annotations

    est = LiquidationModel().run(load_sample("btcusdt-5m-2025-12"))
    hm, m = est.heatmap, est.final_map
    ann = _annotations(m)
    rows: list[tuple[str, float, str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)

        def pair(name, new, ref_name, ref):
            t_new, t_ref = _interleaved(new, ref, args.repeats)
            rows.append((name, t_new, ref_name, t_ref))

        pair("map PNG (one PolyCollection)", lambda: M.plot_map_png(m, out / "m.png", **ann),
             "map PNG with ax.stairs", lambda: _map_png_with_stairs(m, out / "m0.png", ann))
        pair("heatmap PNG (image, <= 1/px)", lambda: H.plot_heatmap_png(hm, out / "h.png"),
             "full pcolormesh + line", lambda: _heatmap_png_full_mesh(hm, out / "h0.png"))
        pair("heatmap HTML (400 x 200)",
             lambda: H.plot_heatmap_html(hm, out / "h.html", self_contained=False),
             "600 x 320 float32 page", lambda: _heatmap_html_old(hm, out / "h0.html"))
        map_html = dict(ann)
        t_map_html = _timed(lambda: M.plot_map_html(m, out / "m.html", **map_html,
                                                    self_contained=False), args.repeats)
        H.plot_heatmap_html(hm, out / "alone_h.html", self_contained=True)
        M.plot_map_html(m, out / "alone_m.html", **map_html, self_contained=True)
        sizes = {name: (out / name).stat().st_size / 1e6 for name in
                 ("h.html", "m.html", "h0.html", "alone_h.html", "alone_m.html")}
        js = next(out.glob("plotly-*.min.js")).stat().st_size / 1e6

    print(f"plots on the bundled 30-day sample ({len(hm.ts_ms)} frames x "
          f"{len(hm.price_bins_usd)} bins, {len(hm.price_ts_ms):,} bars); median of "
          f"{args.repeats}, reference drawn in the same run")
    print(f"{'figure':<32}{'seconds':>9}  {'reference':<26}{'seconds':>9}{'ratio':>8}")
    for name, t_new, ref_name, t_ref in rows:
        print(f"{name:<32}{t_new:>9.3f}  {ref_name:<26}{t_ref:>9.3f}{t_new / t_ref:>7.2f}x")
    print(f"{'map HTML':<32}{t_map_html:>9.3f}")
    print(f"\nHTML sizes (bound {MAX_HTML_MB} MB a page; plotly.js {js:.2f} MB, one shared copy "
          "per folder)")
    for label, key, ref_key in (
            ("heatmap page", "h.html", "alone_h.html"), ("map page", "m.html", "alone_m.html")):
        mb, ref = sizes[key], sizes[ref_key]
        print(f"{label:<32}{mb:>7.2f} MB  self-contained {ref:>5.2f} MB  {mb / ref:>5.2f}x  "
              f"{'met' if mb <= MAX_HTML_MB else 'MISSED'}")
    print(f"{'heatmap page, old grid + line':<32}{sizes['h0.html']:>7.2f} MB  (data part before #16)")


if __name__ == "__main__":
    main()
