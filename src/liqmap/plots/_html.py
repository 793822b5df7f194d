"""Plotly pages from plain figure dicts, without importing plotly.py.

A chart builds its figure as the dict plotly.js reads (``{"data": [...], "layout": {...}}``,
numpy arrays where plotly.py takes arrays) and :func:`write_figure` writes the page that
``plotly.io.write_html`` would write for it: the same markup, the same JSON (arrays as
base64 typed arrays, datetimes as ISO strings, NaN as null, ``<``, ``>``, ``/`` and line
separators escaped, other text as UTF-8), a named ``template`` filled in from plotly's
own template file, plotly.js read from plotly's package data. Skipping plotly.py's figure
objects skips importing plotly (its validators) and validating every property: the same
page, a lighter process. A layout without a template gets none (plotly.py would add its
default one).
"""

from __future__ import annotations

import base64
import functools
import importlib.util
import json
import re
import uuid
from datetime import date, datetime
from pathlib import Path

import numpy as np

from liqmap.outputs import atomic_path

__all__ = ["figure_json", "page", "plotlyjs_path", "plotlyjs_version", "write_figure"]

#: plotly.js's short names of the array types it reads as typed arrays.
_TYPED = {"int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2", "int32": "i4",
          "uint32": "u4", "float32": "f4", "float64": "f8"}
_NARROWER = {"i": ("int8", "int16", "int32"), "u": ("uint8", "uint16", "uint32")}
_SAFE = (("<", "\\u003c"), (">", "\\u003e"), ("/", "\\u002f"), ("\u2028", "\\u2028"),
         ("\u2029", "\\u2029"))
CONFIG = {"displaylogo": False, "scrollZoom": True, "responsive": True}


@functools.cache
def _package_data() -> Path:
    """plotly's ``package_data`` folder, found without importing plotly."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("plotly is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "package_data"


def plotlyjs_path() -> Path:
    """The ``plotly.min.js`` that the installed plotly ships."""
    return _package_data() / "plotly.min.js"


@functools.cache
def plotlyjs_version() -> str:
    """Version of the shipped plotly.js, as its header names it (``4.1.1``)."""
    with open(plotlyjs_path(), encoding="utf-8") as fh:
        found = re.search(r"plotly\.js v(\d[\w.+-]*)", fh.read(500))
    if found is None:  # pragma: no cover - a plotly.js without its usual header
        from plotly.offline import get_plotlyjs_version

        return str(get_plotlyjs_version())
    return found.group(1)


@functools.cache
def _template_text(name: str) -> str:
    return (_package_data() / "templates" / f"{name}.json").read_text(encoding="utf-8")


def _typed_array(a: np.ndarray):
    """A numpy array as plotly.py writes it: a typed array where plotly.js reads one
    (64-bit integers narrowed when they fit), else a list (datetimes: ISO strings)."""
    if a.dtype.kind == "M":
        return [None if d is None else d.isoformat()
                for d in a.astype("datetime64[us]").tolist()]
    if a.size and a.dtype.kind in _NARROWER and a.dtype.itemsize == 8:
        lo, hi = a.min(), a.max()
        fits = [t for t in _NARROWER[a.dtype.kind]
                if np.iinfo(t).min <= lo and hi <= np.iinfo(t).max]
        a = a.astype(fits[0]) if fits else a
    if not a.size or str(a.dtype) not in _TYPED:
        return a.tolist()
    spec = {"dtype": _TYPED[str(a.dtype)],
            "bdata": base64.b64encode(np.ascontiguousarray(a).data).decode("ascii")}
    if a.ndim > 1:
        spec["shape"] = str(a.shape)[1:-1]
    return spec


def _default(o):
    if isinstance(o, np.ndarray):
        return _typed_array(o)
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, (datetime, date)):
        return o.isoformat()
    raise TypeError(f"{type(o).__name__} is not JSON serializable")


def _null_nan(const: str) -> None:
    return None


_dumps = functools.partial(json.dumps, separators=(",", ":"), ensure_ascii=False)


def figure_json(obj) -> str:
    """Compact JSON of a figure part as plotly.py writes it (see the module docstring)."""
    text = _dumps(obj, default=_default)
    if "NaN" in text or "Infinity" in text:  # strict JSON: NaN and infinities as null
        text = _dumps(json.loads(text, parse_constant=_null_nan))
    for unsafe, safe in _SAFE:
        text = text.replace(unsafe, safe)
    return text


def _layout_json(layout: dict) -> str:
    """The layout's JSON, a template named by string filled in from plotly's file."""
    name = layout.get("template")
    if not isinstance(name, str):
        return figure_json(layout)
    rest = figure_json({k: v for k, v in layout.items() if k != "template"})
    template = figure_json(json.loads(_template_text(name)))
    return f'{{"template":{template}{"," if rest != "{}" else ""}{rest[1:]}'


_PAGE = """\
<!doctype html>
<html>
<head>
    <meta charset="utf-8" />
    <style>html, body {{height: 100%;}}</style>
</head>
<body>
    <div style="height:100%; width:100%;">\
                        <script>window.PlotlyConfig = {{MathJaxConfig: 'local'}};</script>
        {load}\
                <div id="{id}" class="plotly-graph-div" style="height:100%; width:100%;"></div>\
            <script>\
                window.PLOTLYENV=window.PLOTLYENV || {{}};\
                                if (document.getElementById("{id}")) {{\
                    Plotly.newPlot(\
                        "{id}",\
                        {data},\
                        {layout},\
                        {config}\
                    )\
                }};\
            </script>\
        </div>
</body>
</html>"""


def page(fig: dict, *, js: str | None, div_id: str | None = None) -> str:
    """The HTML page of ``fig``: plotly.js inlined (``js=None``) or loaded from ``js``
    (a path relative to the page), as ``plotly.io.to_html(full_html=True)`` writes it."""
    if js is None:
        load = f"<script>{plotlyjs_path().read_text(encoding='utf-8')}</script>"
    else:
        load = f'<script charset="utf-8" src="{js}"></script>'
    return _PAGE.format(load=load, id=div_id or uuid.uuid4(),
                        data=figure_json(fig.get("data", [])),
                        layout=_layout_json(fig.get("layout", {})), config=json.dumps(CONFIG))


def write_figure(fig: dict, path, *, js: str | None) -> Path:
    """Write the page of ``fig`` (see :func:`page`) atomically; returns the path."""
    path = Path(path)
    text = page(fig, js=js)
    with atomic_path(path) as tmp:
        _write_text(tmp, text)
    return path


def _write_text(path: Path, text: str) -> None:
    """The one write of a page (a test makes it fail half-way, as a full disk would)."""
    path.write_text(text, encoding="utf-8")
