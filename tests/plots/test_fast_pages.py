"""Issue #16, fast as a whole: the chart pages are written from plain figure dicts without
importing plotly.py and hold exactly the figure plotly.py would write for the same dict
(the numbers decoded and compared); each PNG is drawn once (the heatmap at fixed margins,
the map laid out once more and frozen) and the map's pixels are those of a plain savefig.
Timings are ``benchmarks/bench_plots.py``'s business, not checked here."""

from __future__ import annotations

import base64
import json
import pickle
import re
import subprocess
import sys

import matplotlib.figure
import numpy as np
import pytest

from liqmap.plots import _html, heatmap_figure, map_figure, plot_heatmap_png, plot_map_png
from liqmap.plots import _style as st
from liqmap.plots import heatmap as H
from liqmap.plots import mapchart as M

go = pytest.importorskip("plotly.graph_objects")
pio = pytest.importorskip("plotly.io")

SIZE = dict(figsize_in=(12.0, 6.0), dpi=100)


def _newplot_args(page: str) -> list:
    """The data, layout and config that a page passes to ``Plotly.newPlot``."""
    text = page[page.index("Plotly.newPlot(") + len("Plotly.newPlot("):]
    dec, out = json.JSONDecoder(), []
    text = text[text.index(",") + 1:]  # past the div id
    for _ in range(3):
        value, end = dec.raw_decode(text.lstrip())
        out.append(value)
        text = text.lstrip()[end:].lstrip()[1:]
    return out


ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?")


def _decoded(obj):
    """Typed arrays read back into (dtype, shape, values), ISO times into instants (plotly.py
    writes ``...:00.000`` or ``...:00`` by its JSON engine): what plotly.js will read."""
    if isinstance(obj, dict):
        if "bdata" in obj and "dtype" in obj:
            a = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=obj["dtype"])
            shape = tuple(int(n) for n in obj["shape"].split(",")) if "shape" in obj else a.shape
            return ("typed", a.dtype.str, shape, a.tobytes())
        return {k: _decoded(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decoded(v) for v in obj]
    if isinstance(obj, str) and ISO_TIME.fullmatch(obj):
        return np.datetime64(obj, "us")
    return obj


def _plotly_page(fig: dict, js) -> str:
    return pio.to_html(go.Figure(fig), include_plotlyjs=True if js is None else js,
                       full_html=True, config=dict(_html.CONFIG), div_id="chart")


def _assert_same_page(fig: dict, js="plotly-x.min.js") -> None:
    ours, theirs = _html.page(fig, js=js, div_id="chart"), _plotly_page(fig, js)
    assert _decoded(_newplot_args(ours)) == _decoded(_newplot_args(theirs))
    cut = ours.index("Plotly.newPlot("), theirs.index("Plotly.newPlot(")
    assert ours[:cut[0]] == theirs[:cut[1]]  # the markup and how plotly.js is loaded
    assert ours[ours.index("{\"displaylogo\""):] == theirs[theirs.index("{\"displaylogo\""):]


def _levels_and_layers(m) -> dict:
    from liqmap.core import mapstats

    return dict(ceiling=mapstats.squeeze_ceiling(m), floor=mapstats.flush_floor(m),
                layers=tuple(mapstats.layers(m, side) for side in ("short", "long")))


def test_heatmap_page_holds_the_figure_plotly_would_write(synth):
    hm, realized, _ = synth
    _assert_same_page(H._html_figure(hm, "both", None, realized, True, None, 400, 200))
    _assert_same_page(H._html_figure(hm, "long", "a <title>", None, False, None, 150, 90))


def test_map_page_holds_the_figure_plotly_would_write(synth_map):
    m, marks = synth_map
    _assert_same_page(M._html_figure(m, None, (), None, None, None, None, 6, None, None, ()))
    ann = dict(marks, **_levels_and_layers(m))
    fig = M._html_figure(m, ann["imbalance"], ann["clusters"], ann["zone"], ann["max_pain"],
                         None, None, 6, ann["ceiling"], ann["floor"], ann["layers"])
    _assert_same_page(fig)


def test_arrays_and_odd_values_are_written_as_plotly_writes_them():
    ts = np.array([1_736_121_600_000, 1_736_121_601_500, 1_736_121_660_000], "datetime64[ms]")
    fig = {"data": [dict(type="scatter", x=ts, y=np.array([1, 2, 3], np.int64),
                         customdata=np.array([-5, 300, 70_000], np.int64),
                         selectedpoints=np.array([2**40, 1, 2], np.int64),
                         ids=np.array([1.5, np.nan, np.inf]),
                         marker=dict(size=np.array([1.5, 2, 3.0]), opacity=np.float32(0.5)),
                         name="</script><b>·</b>\u2028")],
           "layout": {"template": "plotly_dark", "title": {"text": "x"},
                      "yaxis": {"range": [0.0, float("nan")]}}}
    _assert_same_page(fig)
    _assert_same_page({"data": [], "layout": {"template": "plotly_dark"}})
    assert "</script><b>" not in _html.page(fig, js="p.js")  # no early end of the script


def test_self_contained_page_and_shared_copy_are_plotlys_own(tmp_path):
    from plotly.offline import get_plotlyjs, get_plotlyjs_version

    fig = {"data": [dict(type="bar", y=np.arange(3.0))], "layout": {"template": "plotly_dark"}}
    _assert_same_page(fig, js=None)
    assert st.plotly_js_name() == f"plotly-{get_plotlyjs_version()}.min.js"
    copy = st.write_plotly_js(tmp_path)
    assert copy.read_bytes() == get_plotlyjs().encode("utf-8")


def test_pages_are_written_without_importing_plotly(synth, synth_map, tmp_path):
    data = tmp_path / "in.pkl"
    data.write_bytes(pickle.dumps((synth[0], synth[1], synth_map[0], synth_map[1])))
    code = (
        "import pickle, sys\n"
        "from liqmap.plots import plot_heatmap_html, plot_map_html\n"
        f"hm, real, m, marks = pickle.loads(open({str(data)!r}, 'rb').read())\n"
        f"plot_heatmap_html(hm, {str(tmp_path / 'h.html')!r}, realized=real)\n"
        f"plot_map_html(m, {str(tmp_path / 'm.html')!r}, **marks, self_contained=False)\n"
        "print(sorted({k.split('.')[0] for k in sys.modules} & {'plotly', '_plotly_utils'}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]"]
    assert (tmp_path / st.plotly_js_name()).is_file()
    assert "plotly.js v" in (tmp_path / "h.html").read_text(encoding="utf-8")[:5000]


@pytest.fixture
def draws(monkeypatch):
    """Counts the figure draws (a dry layout draw is one)."""
    calls = []
    real = matplotlib.figure.Figure.draw

    def draw(self, renderer):
        calls.append(self)
        return real(self, renderer)

    monkeypatch.setattr(matplotlib.figure.Figure, "draw", draw)
    return calls


def test_each_png_is_drawn_once(synth, synth_map, tmp_path, draws):
    plot_heatmap_png(synth[0], tmp_path / "h.png", **SIZE)
    assert len(draws) == 1
    plot_map_png(synth_map[0], tmp_path / "m.png", **synth_map[1], **SIZE)
    assert len(draws) == 2


def test_map_png_has_the_pixels_of_a_plain_savefig(synth_map, tmp_path, px):
    m, marks = synth_map
    ann = dict(marks, **_levels_and_layers(m))
    ours = px.read(plot_map_png(m, tmp_path / "ours.png", **ann, **SIZE))
    map_figure(m, **ann, **SIZE).savefig(tmp_path / "plain.png", facecolor=st.BG)
    np.testing.assert_array_equal(ours, px.read(tmp_path / "plain.png"))


@pytest.mark.parametrize("size", [dict(figsize_in=(14.0, 7.0), dpi=130), SIZE,
                                  dict(figsize_in=(8.0, 4.0), dpi=50),
                                  dict(figsize_in=(20.0, 6.0), dpi=72)])
def test_heatmap_fixed_margins_keep_every_label_inside(synth, size):
    hm, realized, _ = synth
    fig = heatmap_figure(hm, realized=realized, **size)
    assert fig.get_layout_engine() is None
    fig.canvas.draw()
    ax, cax = fig.axes[:2]
    for a in (ax, cax):  # ticks, axis labels, the price tag (a long title may run off)
        box = a.get_tightbbox()
        assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= fig.bbox.x1, (box, fig.bbox)
    tag = [t for t in ax.texts if t.get_text()][0].get_window_extent()  # the last-price tag
    assert tag.x1 < cax.get_window_extent().x0  # clear of the colour bar
