/* liqmap dashboard: fetches /api/v1/* and draws it with Plotly.js (served locally).
 *
 * Panels: heatmap (price x time, longs + shorts, log colour scale as in
 * liqmap.plots.heatmap), cumulative liquidation map, cascade simulator, scorecard.
 * Every panel shows the API's error message ({"detail": ...}) instead of a blank chart.
 * Rendering state is written to data-* attributes so a browser test can wait on it.
 */
"use strict";
(() => {
  // Colours of liqmap.plots._style (keep in sync).
  const C = {
    bg: "#0b0b12", panel: "#12101c", fg: "#e6e6eb", dim: "#9a9aae", grid: "#2a2838",
    price: "#f5f5f5", long: "#ff4d5e", longDim: "#b8323f", short: "#21c08b",
    shortDim: "#168a63", zone: "#ffb020", maxpain: "#ff7ad9", accent: "#fde725",
  };
  const HEAT = [[0, "#12051f"], [0.12, "#3b0f6f"], [0.30, "#3e4a89"], [0.48, "#26828e"],
    [0.66, "#35b779"], [0.82, "#9fd938"], [1, "#fde725"]];
  const CLIP_PCT = 99.5;    // top of the colour scale: this percentile of non-empty cells
  const LOG_DECADES = 1.5;  // the log colour scale spans this many decades below the top
  const API = "/api/v1";
  const PLOTLY_CONFIG = { displaylogo: false, responsive: true, displayModeBar: false };
  const $ = (id) => document.getElementById(id);
  const state = { seq: 0, reloadTimer: null };

  // ---------- formatting ----------
  function fmtUsd(x, digits = 3) {
    if (x === null || x === undefined || Number.isNaN(x)) return "n/a";
    const sign = x < 0 ? "-" : "";
    const a = Math.abs(x);
    if (!Number.isFinite(a)) return `${sign}$∞`;
    for (const [scale, suffix] of [[1, ""], [1e3, "K"], [1e6, "M"], [1e9, "B"], [1e12, "T"]]) {
      const v = Number((a / scale).toPrecision(digits));
      if (v < 1000 || suffix === "T") return `${sign}$${fixedSig(v, digits)}${suffix}`;
    }
    return "n/a";
  }
  function fixedSig(v, digits) {
    if (v === 0) return "0";
    return v.toFixed(Math.max(0, digits - 1 - Math.floor(Math.log10(v))));
  }
  function fmtPrice(x) {
    if (x === null || !Number.isFinite(x)) return "n/a";
    return Math.abs(x) >= 100 ? Math.round(x).toLocaleString("en-US") : x.toPrecision(4);
  }
  function fmtPct(x, d = 2) {
    if (x === null || !Number.isFinite(x)) return "n/a";
    return `${x > 0 ? "+" : x < 0 ? "−" : ""}${Math.abs(x).toFixed(d)} %`;
  }
  function fmtRatio(r, shortUsd, longUsd) {
    if (r === null || r === undefined) return longUsd === 0 && shortUsd > 0 ? "∞:1" : "n/a";
    return r >= 1 || r === 0 ? `${r.toFixed(1)}:1` : `1:${(1 / r).toFixed(1)}`;
  }
  const utc = (ms) => new Date(ms).toISOString().slice(0, 16).replace("T", " ");
  const esc = (s) => String(s).replace(/[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

  // ---------- API ----------
  function detailText(detail) {
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) {  // FastAPI validation errors
      return detail.map((d) => `${(d.loc || []).slice(-1)[0] || "request"}: ${d.msg}`).join("; ");
    }
    return JSON.stringify(detail);
  }
  async function api(path, params) {
    const q = new URLSearchParams(params || {}).toString();
    const r = await fetch(`${API}/${path}${q ? "?" + q : ""}`);
    let body = null;
    try { body = await r.json(); } catch (_) { body = null; }
    if (!r.ok) {
      const msg = body && body.detail !== undefined ? detailText(body.detail) : r.statusText;
      const err = new Error(`${msg} (HTTP ${r.status})`);
      err.status = r.status;
      throw err;
    }
    return body;
  }
  function selection() {
    const q = { venue: $("venue").value, lookback: $("lookback").value };
    if ($("symbol").value) q.symbol = $("symbol").value;
    return q;
  }
  function setStatus(text, bad = false) {
    $("status").textContent = text;
    $("status").classList.toggle("bad", bad);
  }
  function showError(name, err) {
    const box = $(`${name}-error`);
    box.textContent = `Could not load the ${name}: ${err.message || err}`;
    box.hidden = false;
    const chart = $(name);
    if (chart && window.Plotly) Plotly.purge(chart);
    if (chart) { chart.dataset.state = "error"; delete chart.dataset.renderedLookback; }
    if (name === "heatmap") {  // no stale title for a chart that is not there
      $("heatmap-title").textContent = "Liquidation heatmap";
      $("heatmap-note").textContent = "";
    }
  }
  function clearError(name) { $(`${name}-error`).hidden = true; }

  function axis(extra) {
    return Object.assign({ gridcolor: C.grid, zerolinecolor: C.grid, linecolor: C.grid,
      color: C.dim, tickfont: { size: 10 } }, extra);
  }
  function layout(extra) {
    return Object.assign({
      paper_bgcolor: C.panel, plot_bgcolor: HEAT[0][1], font: { color: C.fg, size: 11 },
      margin: { l: 62, r: 10, t: 8, b: 34 }, hovermode: "closest", showlegend: true,
      legend: { bgcolor: "rgba(11,11,18,0.75)", bordercolor: C.grid, borderwidth: 1,
        x: 0.01, y: 0.99, xanchor: "left", yanchor: "top", font: { size: 10 } },
    }, extra);
  }

  // ---------- heatmap ----------
  function percentile(sorted, p) {
    const i = (sorted.length - 1) * p / 100, lo = Math.floor(i), hi = Math.ceil(i);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
  }
  function heatLimits(total) {
    const pos = [];
    for (const row of total) for (const v of row) if (v > 0 && Number.isFinite(v)) pos.push(v);
    pos.sort((a, b) => a - b);
    const vmax = pos.length ? percentile(pos, CLIP_PCT) || 1 : 1;
    return [vmax / 10 ** LOG_DECADES, vmax, pos.length];
  }
  function minMax(values) {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
    return [lo, hi];
  }
  // Price window: bar range widened to hold 98 % of the (clipped) level mass, at most
  // 15 % beyond the bars, padded 3 % (as liqmap.plots._prep.heat_y_range).
  function heatYRange(d, total, vmax) {
    const bins = d.price_bins_usd;
    const [lo0] = minMax(d.price.low_usd), [, hi0] = minMax(d.price.high_usd);
    let lo = lo0, hi = hi0;
    const mass = bins.map((_, j) => total.reduce((s, row) => s + Math.min(row[j], vmax), 0));
    const sum = mass.reduce((a, b) => a + b, 0);
    if (sum > 0 && Number.isFinite(lo0)) {
      let c = 0, qlo = null, qhi = bins[bins.length - 1];
      for (let j = 0; j < bins.length; j++) {
        c += mass[j] / sum;
        if (qlo === null && c >= 0.01) qlo = bins[j];
        if (c >= 0.99) { qhi = bins[j]; break; }
      }
      lo = Math.max(Math.min(lo, qlo), lo0 * 0.85);
      hi = Math.min(Math.max(hi, qhi), hi0 * 1.15);
    }
    if (!Number.isFinite(lo)) [lo, hi] = [bins[0], bins[bins.length - 1]];
    const pad = 0.03 * Math.max(hi - lo, 1e-9 * Math.abs(hi));
    return [lo - pad, hi + pad];
  }
  function colorbarTicks(vmin, vmax) {
    const vals = [], text = [];
    for (let k = Math.floor(Math.log10(vmin)); k <= Math.ceil(Math.log10(vmax)); k++) {
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** k;
        if (v >= vmin && v <= vmax) { vals.push(Math.log10(v)); text.push(fmtUsd(v, 2)); }
      }
    }
    return { tickvals: vals, ticktext: text };
  }
  function realizedTraces(realized) {
    const top = Math.max(1, ...realized.map((r) => r.notional_usd || 0));
    return [["long", C.long, "realized long liq."], ["short", C.short, "realized short liq."]]
      .map(([side, colour, name]) => {
        const rs = realized.filter((r) => r.side === side);
        return {
          type: "scatter", mode: "markers", name, x: rs.map((r) => r.ts_ms),
          y: rs.map((r) => r.price_usd), text: rs.map((r) => fmtUsd(r.notional_usd)),
          marker: { color: colour, opacity: 0.7, line: { color: "white", width: 0.6 },
            size: rs.map((r) => 5 + 26 * Math.sqrt(Math.max(0, r.notional_usd) / top)) },
          hovertemplate: `${name}<br>%{x|%Y-%m-%d %H:%M} UTC<br>%{y:,.0f}<br>%{text}` +
            "<extra></extra>",
        };
      }).filter((t) => t.x.length);
  }
  async function renderHeatmap(d) {
    const el = $("heatmap"), bins = d.price_bins_usd, ts = d.ts_ms;
    if (!ts.length || !bins.length) throw new Error("the server sent an empty heatmap");
    const total = d.long_usd.map((row, i) => row.map((v, j) => v + d.short_usd[i][j]));
    const [vmin, vmax, nonzero] = heatLimits(total);
    const z = bins.map((_, j) => ts.map((_, i) => {
      const v = total[i][j];
      return v > 0 ? Math.log10(Math.max(v, vmin)) : null;
    }));
    const hover = bins.map((_, j) => ts.map((_, i) => fmtUsd(total[i][j])));
    const yr = heatYRange(d, total, vmax);
    const step = ts.length > 1 ? ts[1] - ts[0] : 300000;
    const xr = [ts[0] - step / 2, ts[ts.length - 1] + step / 2];
    const traces = [{
      type: "heatmap", name: "liquidation levels", x: ts, y: bins, z, text: hover,
      zmin: Math.log10(vmin), zmax: Math.log10(vmax), colorscale: HEAT, showscale: true,
      hoverongaps: false, showlegend: false,
      colorbar: Object.assign(colorbarTicks(vmin, vmax), { thickness: 10, outlinecolor: C.grid,
        tickfont: { color: C.dim, size: 10 }, title: { text: "USD per bin", side: "right" } }),
      hovertemplate: "%{x|%Y-%m-%d %H:%M} UTC<br>%{y:,.0f}<br>%{text}<extra>longs + shorts</extra>",
    }, {
      type: "scatter", mode: "lines", name: "price (close)", x: d.price.ts_ms,
      y: d.price.close_usd, line: { color: C.price, width: 1.3 },
      hovertemplate: "%{x|%Y-%m-%d %H:%M} UTC<br>close %{y:,.1f}<extra></extra>",
    }, ...realizedTraces(d.realized || [])];
    const last = d.price.close_usd[d.price.close_usd.length - 1];
    await Plotly.react(el, traces, layout({
      xaxis: axis({ type: "date", range: xr }),
      yaxis: axis({ range: yr, tickformat: ",.0f",
        title: { text: "price (USD)", font: { size: 10 } } }),
      annotations: Number.isFinite(last) ? [{ xref: "paper", x: 1, xanchor: "right", y: last,
        text: fmtPrice(last), showarrow: false, bgcolor: C.price,
        font: { color: C.bg, size: 10 } }] : [],
    }), PLOTLY_CONFIG);
    $("heatmap-title").textContent = `Liquidation heatmap · ${d.symbol} · ${d.venue} · ` +
      `${d.lookback} · ${utc(ts[0])} → ${utc(ts[ts.length - 1])} UTC`;
    $("heatmap-note").textContent = d.lookback_clamped
      ? `The ${d.lookback} lookback reaches before the data: shown from ${utc(ts[0])} UTC.` : "";
    state.dataVersion = d.data_version;
    Object.assign(el.dataset, { state: "rendered", renderedLookback: d.lookback,
      dataVersion: String(d.data_version),
      xFromMs: String(xr[0]), xToMs: String(xr[1]), nonzeroCells: String(nonzero) });
    return yr;
  }

  // ---------- cumulative map ----------
  function imbalanceLine(imb, p) {
    if (!imb) return "";
    const band = Math.round((imb.short_to_usd / p - 1) * 100);
    return `<b class="s">${fmtUsd(imb.short_usd)}</b> of shorts within +${band} % vs ` +
      `<b class="l">${fmtUsd(imb.long_usd)}</b> of longs within −${band} %: ` +
      `<b>${fmtRatio(imb.ratio, imb.short_usd, imb.long_usd)}</b>`;
  }
  function renderMapText(m) {
    const s = m.summary, p = m.price_usd;
    const lines = Object.keys(s.imbalance || {}).sort((a, b) => parseFloat(a) - parseFloat(b))
      .map((k) => imbalanceLine(s.imbalance[k], p));
    const mp = s.max_pain;
    if (mp && mp.price_usd !== null) {
      lines.push(`max pain <b style="color:${C.maxpain}">${fmtPrice(mp.price_usd)}</b> ` +
        `(${fmtPct(mp.distance_pct, 1)}, ${fmtUsd(mp.notional_usd)} of ${mp.side}s)`);
    }
    $("imbalance").innerHTML = `price ${fmtPrice(p)} · ${utc(m.ts_ms)} UTC<br>` +
      lines.join("<br>");
    const cl = [...(s.clusters.short || []), ...(s.clusters.long || [])];
    $("clusters").innerHTML = cl.map((c) => `<li class="${c.side === "long" ? "l" : "s"}">` +
      `${c.side} ${fmtUsd(c.notional_usd)} @ ${fmtPrice(c.price_usd)} ` +
      `(${fmtPct(c.distance_pct, 1)})</li>`).join("");
  }
  function mapShapes(m) {
    const s = m.summary, line = (y, colour, dash, w = 1.2) => ({ type: "line", xref: "paper",
      x0: 0, x1: 1, y0: y, y1: y, line: { color: colour, dash, width: w } });
    const shapes = [line(m.price_usd, C.price, "solid", 1.5)];
    const notes = [];
    if (s.max_pain && s.max_pain.price_usd !== null) {
      shapes.push(line(s.max_pain.price_usd, C.maxpain, "dash"));
      notes.push({ xref: "paper", x: 1, xanchor: "right", yanchor: "bottom",
        y: s.max_pain.price_usd, text: "max pain", showarrow: false,
        font: { color: C.maxpain, size: 10 } });
    }
    for (const side of ["short", "long"]) {
      for (const c of (s.clusters[side] || []).slice(0, 3)) {
        shapes.push(line(c.price_usd, side === "long" ? C.long : C.short, "dot", 0.8));
        notes.push({ xref: "paper", x: 1, xanchor: "right", yanchor: "top", y: c.price_usd,
          text: `${fmtUsd(c.notional_usd, 2)} cluster`, showarrow: false,
          font: { color: side === "long" ? C.long : C.short, size: 9 } });
      }
    }
    return [shapes, notes];
  }
  async function renderMap(m, yr) {
    const el = $("map"), p = m.price_usd;
    const [lo, hi] = yr || [p * 0.85, p * 1.15];
    const idx = m.price_bins_usd.map((_, j) => j)
      .filter((j) => m.price_bins_usd[j] >= lo && m.price_bins_usd[j] <= hi);
    const pick = (a) => idx.map((j) => a[j]);
    const y = pick(m.price_bins_usd);
    const cum = (a, colour, name) => ({ type: "scatter", mode: "lines", name, xaxis: "x2", y,
      x: pick(a).map((v) => (v > 0 ? v : null)), line: { color: colour, width: 2 },
      fill: "tozerox", fillcolor: colour + "22", connectgaps: false,
      hovertemplate: `${name}<br>%{y:,.0f}: %{x:$.3s}<extra></extra>` });
    const bars = (a, colour, name) => ({ type: "bar", orientation: "h", name, y, x: pick(a),
      marker: { color: colour }, hovertemplate: `${name}<br>%{y:,.0f}: %{x:$.3s}<extra></extra>` });
    const [shapes, notes] = mapShapes(m);
    await Plotly.react(el, [
      bars(m.long_usd, C.longDim, "longs per bin"), bars(m.short_usd, C.shortDim, "shorts per bin"),
      cum(m.cumulative_long_usd, C.long, "cumulative longs"),
      cum(m.cumulative_short_usd, C.short, "cumulative shorts"),
    ], layout({
      plot_bgcolor: C.panel, bargap: 0, barmode: "overlay", shapes, annotations: notes,
      margin: { l: 62, r: 10, t: 40, b: 40 }, showlegend: false,
      xaxis: axis({ title: { text: "per bin (bars)", font: { size: 10 } }, tickformat: "$.2s" }),
      xaxis2: axis({ overlaying: "x", side: "top", tickformat: "$.2s", showgrid: false,
        title: { text: "cumulative from price (lines)", font: { size: 10 } } }),
      yaxis: axis({ range: [lo, hi], tickformat: ",.0f" }),
    }), PLOTLY_CONFIG);
    renderMapText(m);
    Object.assign(el.dataset, { state: "rendered", renderedTsMs: String(m.ts_ms) });
  }

  async function loadCharts() {
    const seq = ++state.seq, q = selection();
    document.body.dataset.state = "loading";
    setStatus(`loading ${q.venue} · ${q.lookback}…`);
    const cols = Math.round($("heatmap").clientWidth / 2);  // about one frame per 2 px
    const hq = Object.assign({ resolution: Math.max(50, Math.min(1000, cols || 300)) }, q);
    const [hm, mp] = await Promise.allSettled([api("heatmap", hq), api("map", q)]);
    if (seq !== state.seq) return;  // a newer selection is loading
    let yr = null, failed = false;
    try {
      if (hm.status === "rejected") throw hm.reason;
      yr = await renderHeatmap(hm.value);
      clearError("heatmap");
    } catch (e) { failed = true; showError("heatmap", e); }
    try {
      if (mp.status === "rejected") throw mp.reason;
      await renderMap(mp.value, yr);
      clearError("map");
      if (yr) Plotly.Plots.resize($("heatmap"));  // the map's text may have made the row taller
    } catch (e) {
      failed = true;
      showError("map", e);
      $("imbalance").textContent = "";
      $("clusters").innerHTML = "";
    }
    setStatus(failed ? "some panels failed: see the messages on them" : state.span, failed);
    document.body.dataset.state = failed ? "error" : "ready";
  }

  // ---------- cascade ----------
  function showShock() { $("shock-value").textContent = fmtPct(Number($("shock").value), 1); }
  async function runCascade() {
    const el = $("cascade-chart"), btn = $("cascade-run");
    btn.disabled = true;
    el.dataset.state = "running";
    try {
      const c = await api("cascade", Object.assign(selection(), { shock_pct: $("shock").value }));
      await renderCascade(c);
      clearError("cascade");
    } catch (e) {
      showError("cascade", e);
      $("cascade-result").textContent = "";
    } finally { btn.disabled = false; }
  }
  async function renderCascade(c) {
    const el = $("cascade-chart"), steps = c.path.map((s) => s.step);
    await Plotly.react(el, [{
      type: "bar", name: "liquidated at step", x: steps, y: c.path.map((s) => s.liquidated_usd),
      yaxis: "y2", marker: { color: c.shock_pct < 0 ? C.longDim : C.shortDim },
      hovertemplate: "step %{x}: %{y:$.3s} liquidated<extra></extra>",
    }, {
      type: "scatter", mode: "lines+markers", name: "price move", x: steps,
      y: c.path.map((s) => s.move_pct), text: c.path.map((s) => fmtPrice(s.price_usd)),
      line: { color: C.accent, width: 2 }, marker: { size: 5 },
      hovertemplate: "step %{x}: %{y:.2f} % (price %{text})<extra></extra>",
    }], layout({
      plot_bgcolor: C.panel, margin: { l: 52, r: 62, t: 8, b: 34 },
      legend: { bgcolor: "rgba(11,11,18,0.75)", bordercolor: C.grid, borderwidth: 1,
        x: 0.99, y: 0.99, xanchor: "right", yanchor: "top", font: { size: 10 } },
      xaxis: axis({ title: { text: "step", font: { size: 10 } }, dtick: 1 }),
      yaxis: axis({ title: { text: "move from price (%)", font: { size: 10 } }, ticksuffix: " %" }),
      yaxis2: axis({ overlaying: "y", side: "right", showgrid: false, tickformat: "$.2s",
        title: { text: "liquidated (USD)", font: { size: 10 } } }),
      shapes: [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: c.shock_pct, y1: c.shock_pct,
        line: { color: C.dim, dash: "dash", width: 1 } }],
    }), PLOTLY_CONFIG);
    const amp = c.amplification === null ? "n/a" : `${c.amplification.toFixed(2)}×`;
    $("cascade-result").innerHTML = `Shock <b>${fmtPct(c.shock_pct, 1)}</b> → final move ` +
      `<b>${fmtPct(c.final_move_pct)}</b> · amplification ` +
      `<b data-testid="cascade-amplification">${amp}</b> · liquidated longs ` +
      `${fmtUsd(c.liquidated_long_usd)}, shorts ` +
      `${fmtUsd(c.liquidated_short_usd)} · ${c.path.length} steps`;
    Object.assign(el.dataset, { state: "rendered", points: String(c.path.length),
      shock: String(c.shock_pct) });
  }

  // ---------- scorecard ----------
  const METRICS = ["spearman", "pearson_log", "r2_log", "top_decile_share", "total_ratio",
    "n_bars"];
  const HEADS = ["spearman", "pearson (log)", "R² (log)", "top 10 % share", "total ratio", "bars"];
  const num = (v) => (v === null || v === undefined ? "n/a"
    : Number.isInteger(v) ? String(v) : Number(v).toFixed(3));
  function scorecardTable(name, sc) {
    const spans = sc.metrics, span = spans.scoring ? "scoring" : Object.keys(spans)[0];
    const rows = [];
    for (const side of Object.keys(spans[span])) {
      for (const [pred, m] of Object.entries(spans[span][side])) {
        rows.push(`<tr class="${pred === "model" ? "model" : ""}"><td>${esc(side)}</td>` +
          `<td>${esc(pred)}</td>${METRICS.map((k) => `<td>${num(m[k])}</td>`).join("")}</tr>`);
      }
    }
    const verdicts = Object.values(sc.verdict || {}).flatMap((v) => Object.values(v))
      .map((v) => `<li>${esc(v.statement)}</li>`).join("");
    const title = `window ${esc(sc.window || name || "?")} · ${esc(span)} span`;
    return `<p>${title}</p><table><thead><tr><th>side</th><th>predictor</th>` +
      `${HEADS.map((k) => `<th>${k}</th>`).join("")}</tr></thead><tbody>${rows.join("")}` +
      `</tbody></table>${verdicts ? `<ul>${verdicts}</ul>` : ""}`;
  }
  function scorecardHtml(s) {  // {"windows": {W: metrics-W.json}} or one metrics file
    const cards = s && s.metrics ? [["", s]]
      : Object.entries((s && s.windows) || s || {})
        .filter(([, v]) => v && typeof v === "object" && v.metrics);
    if (!cards.length) return `<pre class="msg">${esc(JSON.stringify(s, null, 1))}</pre>`;
    return cards.map(([name, sc]) => scorecardTable(name, sc)).join("");
  }
  async function loadScorecard() {
    const el = $("scorecard");
    try {
      el.innerHTML = scorecardHtml(await api("scorecard"));
      el.dataset.state = "loaded";
    } catch (e) {
      el.innerHTML = `<p class="msg">${esc(e.message)}</p>`;
      el.dataset.state = e.status === 404 ? "missing" : "error";
    }
  }

  // ---------- start ----------
  function fillSelect(sel, values, chosen) {
    sel.innerHTML = values.map((v) => `<option value="${esc(v)}">${esc(v)}</option>`).join("");
    if (values.includes(chosen)) sel.value = chosen;
  }
  function openStream() {
    if (!window.EventSource) return;
    const live = $("live"), es = new EventSource(`${API}/stream`);
    es.onopen = () => { live.textContent = "● live"; live.classList.add("on"); };
    es.addEventListener("error", (e) => {  // connection lost, or the server's error event
      live.textContent = "○ offline";
      live.classList.remove("on");
      if (e.data) setStatus(`live updates: ${detailText(JSON.parse(e.data).detail)}`, true);
    });
    es.addEventListener("update", (e) => {  // sent on connect and when the data change
      const version = JSON.parse(e.data).data_version;
      if (version === undefined || version === state.dataVersion) return;
      clearTimeout(state.reloadTimer);  // new data: redraw once things settle
      state.reloadTimer = setTimeout(loadCharts, 1000);
    });
  }
  async function init() {
    showShock();
    let h;
    try {
      h = await api("health");
    } catch (e) {
      setStatus(`API not reachable: ${e.message}`, true);
      for (const name of ["heatmap", "map"]) showError(name, e);
      document.body.dataset.state = "error";
      return;
    }
    const venues = h.venues || [];
    fillSelect($("venue"), venues, venues.includes("aggregate") ? "aggregate" : null);
    fillSelect($("symbol"), h.symbols || [], null);
    if (h.lookbacks && h.lookbacks.length) fillSelect($("lookback"), h.lookbacks, "7d");
    $("symbol-label").hidden = (h.symbols || []).length < 2;
    state.span = `${h.source} · data ${utc(h.data_from_ms)} → ${utc(h.data_to_ms)} UTC`;
    for (const id of ["venue", "symbol", "lookback"]) $(id).addEventListener("change", loadCharts);
    $("shock").addEventListener("input", showShock);
    $("cascade-run").addEventListener("click", runCascade);
    await Promise.all([loadCharts(), loadScorecard()]);
    openStream();
  }
  window.addEventListener("DOMContentLoaded", init);
})();
