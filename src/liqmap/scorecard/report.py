"""The scorecard report: one self-contained HTML page (PNG figures embedded as base64).

:func:`write_report` reads, from the scorecard folder, every ``metrics-<W>.json`` and its
``window-<W>.csv`` (written by ``liqmap backtest``), ``walk-forward-<W>.json`` when present
(``liqmap calibrate --walk-forward``), ``studies.json`` (``liqmap study-levels``) and
``predictors-<W>.json`` (``liqmap study-predictors``) and ``metrics-levels-<W>.json``
(``liqmap backtest --levels``) when present, and writes
``report.html`` plus the PNGs under ``plots/``. Per window and
span: the metrics table (model, raw book, each baseline), the verdict sentence per baseline,
the issue's targets and whether each is met, predicted vs realized over time, the log-log
scatter and the calibration curve; then the fitted preset and the reaction study.

>>> write_report("scorecard")["report"]                   # doctest: +SKIP
'scorecard/report.html'
"""

from __future__ import annotations

import base64
import json
from html import escape
from pathlib import Path

from liqmap._exceptions import DataError
from liqmap.outputs import atomic_write_text
from liqmap.timeutil import MS_PER_HOUR, MS_PER_MINUTE

__all__ = ["write_report"]

_METRICS = ("spearman", "pearson_log", "r2_log", "top_decile_share", "total_ratio",
            "r2_log_direct")
_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:right}th{background:#f3f3f3}td:first-child,td:nth-child(2){text-align:left}
.met{color:#070;font-weight:600}.miss{color:#b00;font-weight:600}img{max-width:100%}
code{background:#f3f3f3;padding:1px 4px}.note{color:#555;font-size:.9em}
table.num td:nth-child(2){text-align:right}"""


def _fmt(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.4g}" if v and not 1e-2 <= abs(v) < 1e6 else f"{v:.3f}"
    return escape(str(v))


def _img(path: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{escape(path.stem)}" src="data:image/png;base64,{data}">'


def _metrics_table(metrics: dict) -> str:
    head = "".join(f"<th>{m}</th>" for m in _METRICS)
    rows = []
    for side, preds in metrics.items():
        for name, m in preds.items():
            label = f"<b>{name}</b>" if name == "model" else escape(name)
            cells = "".join(f"<td>{_fmt(m.get(k))}</td>" for k in _METRICS)
            rows.append(f"<tr><td>{side}</td><td>{label}</td>{cells}</tr>")
    return (f"<table><tr><th>side</th><th>predictor</th>{head}<th></th></tr>"
            + "".join(rows) + "</table>").replace("<th></th>", "")


def _targets(tg: dict) -> str:
    rows = []
    for side in ("long", "short"):
        for name, t in tg[side].items():
            cls, word = ("met", "met") if t["met"] else ("miss", "not met")
            rows.append(f"<tr><td>{side}</td><td>{name}</td><td>{_fmt(t['value'])}</td>"
                        f"<td>{escape(t['target'])}</td><td class='{cls}'>{word}</td></tr>")
    return ("<table><tr><th>side</th><th>target</th><th>value</th><th>required</th>"
            "<th></th></tr>" + "".join(rows) + "</table>"
            f"<p>All targets met: <b>{'yes' if tg['all_met'] else 'no'}</b>.</p>")


def _verdicts(summary: dict) -> str:
    items = [f"<li>The model {'beats' if v['beats'] else 'does not beat'} the "
             f"<b>{escape(b)}</b> baseline on the {side} side out of sample "
             f"({len(v['wins'])}/4 metrics better: {escape(', '.join(v['wins']) or 'none')}).</li>"
             for side, vs in summary["verdict"].items() for b, v in vs.items()]
    return "<ul>" + "".join(items) + "</ul>"


def _window_section(summary: dict, plots: dict) -> str:
    w = summary["window"]
    sp = summary["spans"]
    bar = summary.get("scoring_bar_ms", MS_PER_HOUR) // MS_PER_MINUTE
    out = [f"<h2>Window {escape(w)}</h2>",
           f"<p>Prediction: {escape(summary.get('prediction', 'raw level book'))}. Scoring bars "
           f"of {bar} minutes ({summary['bars_scored']} scored, warm-up "
           f"{summary['warmup_hours']:g} h). Log-R² line fitted on the "
           f"{escape(summary.get('r2_log_fitted_on', 'calibration span'))}.</p>",
           "<ul class='note'>" + "".join(f"<li>{escape(n)}</li>" for n in summary["notes"])
           + "</ul>"]
    for span in ("calibration", "scoring"):
        if not sp[span]["n_bars"]:
            out.append(f"<p>No {span} span in this window.</p>")
            continue
        title = "out of sample" if span == "scoring" else "in sample"
        out.append(f"<h3>{span.capitalize()} span ({title}): {sp[span]['start']} → "
                   f"{sp[span]['end']}, {sp[span]['n_bars']} bars</h3>")
        out.append(_metrics_table(summary["metrics"][span]))
    out.append("<h3>Verdict against each baseline (out of sample)</h3>" + _verdicts(summary))
    label = "the issue's targets (defined for window A)" if w != "A" else "the issue's targets"
    out.append(f"<h3>Targets: {label}</h3>" + _targets(summary["targets"]))
    titles = {"timeseries": "Predicted vs realized over time", "scatter": "Scatter (log-log)",
              "calibration_curve": "Calibration curve (scoring span)"}
    for kind, path in plots.items():
        out.append(f"<h3>{titles[kind]}</h3>{_img(path)}")
    return "\n".join(out)


def _cv_table(selection: dict) -> str:
    """Out-of-fold CV (calibration span) of the chosen model against each baseline."""
    base, best = selection.get("baselines_cv"), selection["best"]
    if not base:
        return ""
    rows = [("model", {sd: {"r2_log": best["r2_log"][sd], "spearman": best["spearman"][sd]}
                       for sd in base})]
    rows += [(b, {sd: base[sd][b] for sd in base}) for b in next(iter(base.values()))]
    head = "".join(f"<th>{sd} {m}</th>" for sd in base for m in ("r2_log", "spearman"))
    body = "".join(f"<tr><td>{escape(name)}</td>" + "".join(
        f"<td>{_fmt(v[sd][m])}</td>" for sd in base for m in ("r2_log", "spearman"))
        + "</tr>" for name, v in rows)
    return ("<p>Calibration-span CV (out of fold, the selection's folds):</p>"
            f"<table><tr><th>predictor</th>{head}</tr>{body}</table>")


def _preset_section(preset: dict | None) -> str:
    if preset is None:
        return "<h2>Fitted preset</h2><p>The backtests scored the raw level book.</p>"
    rows = "".join(f"<tr><td>{escape(k)}</td><td>{_fmt(v)}</td></tr>"
                   for k, v in preset["model"].items() if k not in ("band_presets",))
    sides = list(preset["combine"])
    comb = "".join(f"<tr><td>{escape(k)}</td>" + "".join(
        f"<td>{_fmt(preset['combine'][sd][k])}</td>" for sd in sides) + "</tr>"
        for k in preset["combine"][sides[0]])
    chead = "".join(f"<th>{sd}</th>" for sd in sides)
    span = preset["fit_span"]
    best = preset["selection"]["best"]
    return (f"<h2>Fitted preset <code>{escape(preset['name'])}</code></h2>"
            f"<p>Fitted on window {escape(preset['window'])}, bars {span['start']} → "
            f"{span['end']} ({span['n_bars']} bars; nothing at or after "
            f"{span['calibration_end']}), code version {escape(preset['code_version'])}.</p>"
            f"<p>Model: <code>{escape(preset['formula'])}</code></p>"
            f"<p>Selection: {escape(preset['selection']['criterion'])}; "
            f"{preset['selection']['grid_size']} grid points; best CV log-R² "
            f"{_fmt(best['cv_r2_log'])} (offset {best['offset']}).</p>"
            f"<table><tr><th>engine parameter</th><th>value</th></tr>{rows}</table>"
            f"<table><tr><th>coefficient</th>{chead}</tr>{comb}</table>"
            + _cv_table(preset["selection"]) +
            "<ul class='note'>" + "".join(f"<li>{escape(s)}</li>" for s in preset["sources"])
            + "</ul>")


def _walk_forward_section(folder: Path) -> str:
    parts = []
    for f in sorted(folder.glob("walk-forward-*.json")):
        wf = json.loads(f.read_text())
        w = f.stem.split("-")[-1]
        fits = "".join(f"<li>fit before {escape(x['fit_end'])} → predicts "
                       f"{escape(x['predicts'][0])} … {escape(x['predicts'][1])}: "
                       f"{escape(json.dumps(x['best']['point']))}</li>" for x in wf["fits"])
        parts.append(f"<h2>Walk-forward, window {escape(w)} (reported separately)</h2>"
                     f"<p>Monthly re-fits, each on past bars only; {wf['n_bars_scored']} "
                     f"out-of-sample bars pooled.</p><ul class='note'>{fits}</ul>"
                     + _metrics_table(wf["metrics"]) + "<ul>" + "".join(
                         f"<li>{escape(s)}</li>" for v in wf["verdict"].values()
                         for s in v.values()) + "</ul>")
    return "\n".join(parts)


def _studies_section(folder: Path) -> str:
    path = folder / "studies.json"
    head = "<h2>Reaction study</h2>"
    if not path.exists():
        return (head + "<p>No <code>studies.json</code> in this folder. Produce it with "
                "<code>liqmap study-levels --out " + escape(str(folder)) + "</code>, then run "
                "<code>liqmap report-scorecard</code> again.</p>")
    try:
        studies = json.loads(path.read_text())["studies"]
        if not isinstance(studies, list) or not all(isinstance(s, dict) for s in studies):
            raise ValueError("'studies' must be a list of objects")
    except (ValueError, KeyError, TypeError) as exc:
        raise DataError(f"studies.json is not {{'studies': [...]}} ({exc}); re-create it with "
                        "liqmap study-levels", source=str(path)) from None
    rows = "".join(
        f"<tr><td>{escape(str(s.get('name')))}</td><td>{_fmt(s.get('effect'))}</td>"
        f"<td>{_fmt(s.get('ci_low'))} … {_fmt(s.get('ci_high'))}</td><td>{_fmt(s.get('n'))}"
        f"</td><td style='text-align:left'>{escape(str(s.get('statement', '')))}</td></tr>"
        for s in studies)
    png = folder / "studies.png"
    plot = f"<p>{_img(png)}</p>" if png.exists() else ""
    return (head + "<table><tr><th>study</th><th>effect</th><th>95% CI</th><th>n</th>"
            f"<th>statement</th></tr>{rows}</table>" + plot)


def _predictors_section(folder: Path) -> str:
    """``predictors-<W>.json`` (``liqmap study-predictors``) as a table, when present."""
    parts = []
    for path in sorted(folder.glob("predictors-*.json")):
        try:
            d = json.loads(path.read_text())
            rows = "".join(
                f"<tr><td>{escape(str(v['name']))}</td><td>{_fmt(v['r2_log']['long'])}</td>"
                f"<td>{_fmt(v['r2_log']['short'])}</td><td>{_fmt(v['spearman']['long'])}</td>"
                f"<td>{_fmt(v['spearman']['short'])}</td></tr>" for v in d["variants"])
            share, count = d["small_bar_error_share"], d["small_bar_count"]
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(f"not a predictor study ({exc}); re-create it with liqmap "
                            "study-predictors", source=str(path)) from None
        w = path.stem.split("-", 1)[1]
        parts.append(
            f"<h2>Other predictors, window {escape(w)}: calibration span only</h2>"
            f"<p>Out-of-fold CV on the {d['n_bars']} calibration bars before "
            f"{escape(d['calibration_end'])} (the CV that chose the preset); the scoring span "
            "is not read. Each row adds to the shipped three regressors. Bars with under $1k "
            f"realized ({count['long']} long, {count['short']} short) carry "
            f"{share['long']:.0%} (long) and {share['short']:.0%} (short) of the shipped "
            "fit's out-of-fold squared log error.</p><table class='num'><tr><th>variant</th>"
            "<th>r2_log long</th><th>r2_log short</th><th>spearman long</th>"
            f"<th>spearman short</th></tr>{rows}</table>")
    return "\n".join(parts)


def _levels_rows(metrics: dict, verdict: dict, vendor: dict) -> str:
    rows = []
    for h, by_side in metrics.items():
        for sd, p in by_side.items():
            v, vo = verdict[h][sd], vendor[h][sd]
            ci = v["spearman_diff_ci"]
            cells = [h, sd, p["map"]["spearman"], p["shapeless"]["spearman"],
                     p["vendor-style"]["spearman"], p["map"]["r2_log"],
                     p["shapeless"]["r2_log"], p["map"]["top_decile_share"],
                     p["shapeless"]["top_decile_share"], "yes" if v["beats"] else "no",
                     v["spearman_diff"], f"{_fmt(ci[0])} … {_fmt(ci[1])}",
                     vo["map_over_realized"], vo["vendor_over_realized"]]
            rows.append("<tr>" + "".join(f"<td>{_fmt(c)}</td>" for c in cells) + "</tr>")
    head = ("H (h)", "side", "ρ map", "ρ shapeless", "ρ vendor", "r2_log map",
            "r2_log shapeless", "top10% map", "top10% shapeless", "map beats shapeless",
            "Δρ", "Δρ 95% CI", "map / realized", "vendor / realized")
    return ("<table><tr>" + "".join(f"<th>{escape(x)}</th>" for x in head) + "</tr>"
            + "".join(rows) + "</table>")


def _no_book_line(nb: dict) -> str:
    parts = []
    for sd, v in nb["metrics"].get("scoring", {}).items():
        c, n = v["combiner"], v["no_book"]
        gain = (None if c["spearman"] is None or n["spearman"] is None
                else c["spearman"] - n["spearman"])
        parts.append(f"{sd}: Spearman {_fmt(c['spearman'])} with the book, "
                     f"{_fmt(n['spearman'])} without (book adds {_fmt(gain)}); r2_log "
                     f"{_fmt(c['r2_log'])} vs {_fmt(n['r2_log'])}")
    return ("<p><b>Hourly combiner with and without the book</b> (out of sample; the "
            "no-book combiner is excursion and range x OI fitted the same way on the "
            "calibration span): " + escape("; ".join(parts)) + ".</p>")


def _claims_table(claims: dict) -> str:
    rows = [(e["span"], e["name"], e["effect"], e["ci_low"], e["ci_high"], e["n"])
            for e in claims.get("imbalance", [])]
    for sp, by_h in claims.get("walls", {}).items():
        for h, kinds in by_h.items():
            rows += [(sp, f"{e['name']} ({h} h)", e["effect"], e["ci_low"], e["ci_high"],
                      e["n"]) for k in kinds.values() for e in k["effects"]]
    body = "".join("<tr>" + "".join(f"<td>{_fmt(c)}</td>" for c in r) + "</tr>" for r in rows)
    return ("<table><tr><th>span</th><th>claim</th><th>effect</th><th>95% CI low</th>"
            f"<th>95% CI high</th><th>n</th></tr>{body}</table>")


def _kernel_note(fit: dict) -> str:
    flat = fit["kernel_scale"] >= max(x[0] for x in fit["kernel_curve"])
    return (f"of scale {fit['kernel_scale']:.3%} of price (fitted on the calibration span"
            + ("; the flattest scale tried: over the excursions seen the kernel is nearly "
               "linear, so the shapeless map is close to total x excursion)" if flat else ")"))


def _levels_section(folder: Path) -> str:
    """``metrics-levels-<W>.json`` (``liqmap backtest --levels``) when present."""
    parts = []
    for path in sorted(folder.glob("metrics-levels-*.json")):
        try:
            d = json.loads(path.read_text())
            out = [f"<h2>The map measured as a map, window {escape(d['window'])}"
                   f"{' (calibration only)' if d['calibration_only'] else ''}</h2>",
                   "<p>For every hour t and horizon H: the map standing at t, the notional "
                   "between the price and the extreme of the next H hours, against realized "
                   "liquidations over those hours. Shapeless map: the map's per-side totals "
                   f"spread by one exponential kernel {_kernel_note(d['fit'])}. ‘beats’: "
                   "better on all four of spearman, pearson_log, r2_log and top_decile_share;"
                   " Δρ is the map's Spearman minus the shapeless map's, with a "
                   "block-bootstrap interval.</p>"]
            for span, by_h in d["metrics"].items():
                out.append(f"<h3>{escape(span.capitalize())} span "
                           f"({d['spans'][span]['rows']} rows)</h3>")
                out.append(_levels_rows(by_h, d["verdict"][span],
                                        d["vendor_overstatement"][span]))
                out.append("<ul>" + "".join(f"<li>{escape(v['statement'])}</li>"
                                            for by_side in d["verdict"][span].values()
                                            for v in by_side.values()) + "</ul>")
            out.append(_no_book_line(d["no_book_combiner"]))
            out.append("<h3>The readers' claims</h3>" + _claims_table(d["claims"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(f"not a level-test file ({exc}); re-create it with liqmap "
                            "backtest --levels", source=str(path)) from None
        parts.append("\n".join(out))
    return "\n".join(parts)


def write_report(folder="scorecard") -> dict:
    """Write ``<folder>/report.html`` from the backtest outputs in ``folder``.

    Returns
    -------
    dict
        ``report`` (path), ``windows`` (ids), ``plots`` (paths).

    Raises
    ------
    DataError
        When the folder holds no ``metrics-<W>.json`` with its ``window-<W>.csv``.
    """
    import pandas as pd

    from liqmap.plots.scorecard_charts import window_plots

    folder = Path(folder)
    pairs = [(m, folder / f"window-{m.stem.split('-', 1)[1]}.csv")
             for m in sorted(folder.glob("metrics-*.json"))]
    pairs.append((folder / "metrics.json", folder / "backtest.csv"))  # your own data
    pairs = [(m, c) for m, c in pairs if m.exists() and c.exists()]
    if not pairs:
        raise DataError("no metrics-<W>.json with its window-<W>.csv (or metrics.json with "
                        "backtest.csv) here; run `liqmap backtest --out DIR` first",
                        source=str(folder))
    sections, plots, windows, preset = [], [], [], None
    for mpath, cpath in pairs:
        summary = json.loads(mpath.read_text())
        label = None if summary["window"] in ("A", "C") else "realized (" + next(
            (n.split(": ", 1)[1] for n in summary.get("notes", []) if n.startswith("realized:")),
            "as given") + ")"
        figs = window_plots(pd.read_csv(cpath), summary["window"], folder / "plots",
                            realized_label=label)
        sections.append(_window_section(summary, figs))
        plots += [str(p) for p in figs.values()]
        windows.append(summary["window"])
        preset = preset or summary.get("preset")
    body = "\n".join([
        "<h1>liqmap scorecard</h1>",
        "<p>Predicted liquidations per bar against realized liquidations (the research "
        "windows: Coinglass, Binance+Bybit+OKX, a lower bound; other data: as its notes "
        "say), with naive baselines computed in the same run. "
        "Calibration uses bars before each dataset's fit-until instant only (2026-02-01 for "
        "the research windows); everything from its score-from instant on is out of sample. "
        "‘beats’ means better on all four of spearman, pearson_log, r2_log and "
        "top_decile_share.</p>",
        *sections, _preset_section(preset), _walk_forward_section(folder),
        _predictors_section(folder), _levels_section(folder), _studies_section(folder)])
    html = (f"<!doctype html><html><head><meta charset='utf-8'><title>liqmap scorecard"
            f"</title><style>{_CSS}</style></head><body>{body}</body></html>")
    out = atomic_write_text(folder / "report.html", html)
    return {"report": str(out), "windows": windows, "plots": plots}
