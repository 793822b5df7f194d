/* liqmap dashboard: fetches /api/v1/* and draws it with Plotly.js (served locally).
 *
 * Panels: heatmap (price x time, longs + shorts, log colour scale as in
 * liqmap.plots.heatmap), cumulative liquidation map, brief (the map read as traders read
 * one: /api/v1/brief), cascade simulator, scorecard, level watch (the stored approaches of
 * clusters, when the source is a store), market scan (/api/v1/scan: one row per symbol and
 * venue held, sorted as the user picks; a row click shows that series). The symbol picker
 * lists the source's symbols and the venue picker the venues holding the symbol picked.
 * The counting toggle (liqmap / vendor-style) and
 * the time picker (at_ms) re-request map, heatmap and brief; the map downloads as CSV and
 * the brief as JSON.
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
  function apiUrl(path, params) {  // a link to an API answer (the downloads)
    const q = new URLSearchParams(params || {}).toString();
    return `${API}/${path}${q ? "?" + q : ""}`;
  }
  function atMs() {  // the time picker, read as UTC; null: the last bar
    const v = $("at").value;
    if (!v) return null;
    const t = Date.parse(v.length <= 16 ? `${v}:00Z` : `${v}Z`);
    return Number.isFinite(t) ? t : null;
  }
  function selection() {
    const q = { venue: $("venue").value, lookback: $("lookback").value };
    if ($("symbol").value) q.symbol = $("symbol").value;
    if ($("convention").value === "vendor") q.convention = "vendor";
    const at = atMs();
    if (at !== null) q.at_ms = String(at);
    return q;
  }
  const convLabel = (c) => (c === "vendor" ? "vendor-style" : "liqmap");
  function setConvLabel(el, c) {
    el.textContent = c === "vendor" ? "vendor-style counting" : "liqmap counting";
    el.classList.toggle("vendor", c === "vendor");
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
  const barMs = (d) => { const t = d.price.ts_ms; return t.length > 1 ? t[1] - t[0] : 300000; };
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
    const conv = d.convention || "liqmap";
    $("heatmap-title").textContent = `Liquidation heatmap · ${d.symbol} · ${d.venue} · ` +
      `${d.lookback} · ${utc(ts[0])} → ${utc(ts[ts.length - 1])} UTC · ${convLabel(conv)} counting`;
    const warm = Object.values(d.warmup_bars || {}).reduce((a, b) => Math.max(a, b), 0);
    $("heatmap-note").textContent = d.lookback_clamped
      ? `The ${d.lookback} lookback reaches before the data: shown from ${utc(ts[0])} UTC.`
      : warm > 0 ? `Standing levels: the first column holds the positions opened in the ` +
        `${warm} bars (${(warm * barMs(d) / 86400000).toFixed(1)} days) run before it.` : "";
    state.dataVersion = d.data_version;
    Object.assign(el.dataset, { state: "rendered", renderedLookback: d.lookback,
      dataVersion: String(d.data_version), convention: conv, toMs: String(ts[ts.length - 1]),
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
    const mp = s.harvest_level || s.max_pain;
    if (mp && mp.price_usd !== null) {
      lines.push(`harvest level (most notional per unit of push) <b style="color:${C.maxpain}">${fmtPrice(mp.price_usd)}</b> ` +
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
        y: s.max_pain.price_usd, text: "harvest level", showarrow: false,
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
    setConvLabel($("map-convention"), m.convention || "liqmap");
    Object.assign(el.dataset, { state: "rendered", renderedTsMs: String(m.ts_ms),
      convention: m.convention || "liqmap" });
  }

  // ---------- brief (/api/v1/brief: the numbers of `liqmap brief`) ----------
  function ratioText(r) {
    if (r.ratio === null || r.ratio === undefined) {
      return r.shorts_usd > 0 && !(r.longs_usd > 0) ? "shorts only" : "n/a";
    }
    if (r.ratio >= 1) return `${r.ratio.toFixed(1)}:1 shorts`;
    return r.ratio > 0 ? `${(1 / r.ratio).toFixed(1)}:1 longs` : "longs only";
  }
  function watchText(x) {  // [price, notional, distance %] or a dict
    const [p, usd, d] = Array.isArray(x) ? x : [x.price_usd, x.notional_usd, x.distance_pct];
    return `${fmtPrice(p)} <small>(${fmtPct(d, 1)}, ${fmtUsd(usd, 2)})</small>`;
  }
  function briefNumbers(b) {
    const rows = b.bands.map((r) => `<tr><td>${r.within_pct === null ? "±50 % (whole map)"
      : `±${r.within_pct} %`}</td><td class="s">${fmtUsd(r.shorts_usd)}</td>` +
      `<td class="l">${fmtUsd(r.longs_usd)}</td><td><b class="r">${ratioText(r)}</b></td></tr>`)
      .join("");
    const level = (c) => (c && c.price_usd !== null
      ? `${fmtPrice(c.price_usd)} (${fmtPct(c.distance_pct, 1)})` : "none within ±50 %");
    const layers = (sd) => {
      const l = (b.layers || {})[sd] || { layers: [] };
      const at = l.layers.slice(0, 4).map((x) => fmtPrice(x.price_usd)).join(", ") || "none";
      return `${at}${l.staircase ? " · <b class=\"r\">staircase</b>" : ""}`;
    };
    const w = b.watch_levels || {};
    return `<table data-testid="brief-bands"><thead><tr><th>band</th><th>shorts above</th>` +
      `<th>longs below</th><th>ratio</th></tr></thead><tbody>${rows}</tbody></table><dl>` +
      `<dt>squeeze ceiling</dt><dd class="s" data-testid="brief-ceiling">${level(b.squeeze_ceiling)}</dd>` +
      `<dt>flush floor</dt><dd class="l" data-testid="brief-floor">${level(b.flush_floor)}</dd>` +
      `<dt>watch above</dt><dd>${(w.above || []).map(watchText).join(" → ") || "none"}</dd>` +
      `<dt>watch below</dt><dd>${(w.below || []).map(watchText).join(" → ") || "none"}</dd>` +
      `<dt>short layers</dt><dd class="s">${layers("short")}</dd>` +
      `<dt>long layers</dt><dd class="l">${layers("long")}</dd></dl>`;
  }
  function renderBrief(b, q) {
    const conv = (b.convention && b.convention.convention) || "liqmap";
    $("brief-text").textContent = b.text;
    $("brief-numbers").innerHTML = briefNumbers(b);
    setConvLabel($("brief-convention"), conv);
    $("brief-sub").textContent = `(${b.venue} · ${utc(b.ts_ms)} UTC · price ` +
      `${fmtPrice(b.price_usd)} · positions opened over all the history up to then)`;
    const link = $("brief-json");
    link.href = apiUrl("brief", q);
    link.download = `liqmap-brief-${b.venue}-${utc(b.ts_ms).replace(/[ :-]/g, "")}-${conv}.json`;
    Object.assign($("brief").dataset, { state: "rendered", tsMs: String(b.ts_ms),
      convention: conv });
  }
  function showBriefError(e) {
    const box = $("brief-error");
    box.textContent = `Could not load the brief: ${e.message || e}`;
    box.hidden = false;
    $("brief-text").textContent = "";
    $("brief-numbers").innerHTML = "";
    $("brief").dataset.state = "error";
  }

  async function loadCharts() {
    const seq = ++state.seq, q = selection();
    document.body.dataset.state = "loading";
    setStatus(`loading ${q.venue} · ${q.lookback}…`);
    const cols = Math.round($("heatmap").clientWidth / 2);  // about one frame per 2 px
    const hq = Object.assign({ resolution: Math.max(50, Math.min(1000, cols || 300)) }, q);
    const bq = Object.assign({}, q);  // the brief counts all the history up to the time
    delete bq.lookback;
    const [hm, mp, br] = await Promise.allSettled([api("heatmap", hq), api("map", q),
      api("brief", bq)]);
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
      $("map-csv").href = apiUrl("map", Object.assign({}, q, { format: "csv" }));
      clearError("map");
      if (yr) Plotly.Plots.resize($("heatmap"));  // the map's text may have made the row taller
    } catch (e) {
      failed = true;
      showError("map", e);
      $("imbalance").textContent = "";
      $("clusters").innerHTML = "";
    }
    try {
      if (br.status === "rejected") throw br.reason;
      renderBrief(br.value, bq);
      clearError("brief");
    } catch (e) { failed = true; showBriefError(e); }
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
  // the running scorecard (a store's live predictions): rolling spans and a small series
  const RUN_METRICS = ["spearman", "r2_log", "total_ratio", "n_bars"];
  const RUN_HEADS = ["spearman", "R² (log)", "total ratio", "bars"];
  function runningHtml(r) {
    const spans = Object.entries(r.spans).filter(([, sp]) => sp.metrics);
    const rows = [];
    for (const [label, sp] of spans) {
      for (const side of Object.keys(sp.metrics)) {
        for (const [pred, m] of Object.entries(sp.metrics[side])) {
          rows.push(`<tr class="${pred === "model" ? "model" : ""}"><td>${esc(label)}</td>` +
            `<td>${esc(side)}</td><td>${esc(pred)}</td>` +
            `${RUN_METRICS.map((k) => `<td>${num(m[k])}</td>`).join("")}</tr>`);
        }
      }
    }
    const first = spans.length ? spans[0][1] : null;  // the shortest span's verdicts
    const verdicts = first ? Object.values(first.verdict).flatMap((v) => Object.values(v))
      .map((v) => `<li>${esc(v.statement)}</li>`).join("") : "";
    const lb = r.realized_lower_bound ? " · realized is a lower bound (the feed drops some)" : "";
    return `<p data-testid="scorecard-running">running · ${esc(r.venue)} ${esc(r.symbol)} · ` +
      `${r.n_predictions} predicted bars ${utc(r.first_ts_ms)} → ${utc(r.end_ms)} UTC${lb}</p>` +
      `<div id="scorecard-series" class="chart mini" data-testid="scorecard-series"></div>` +
      `<table><thead><tr><th>span</th><th>side</th><th>predictor</th>` +
      `${RUN_HEADS.map((k) => `<th>${k}</th>`).join("")}</tr></thead><tbody>${rows.join("")}` +
      `</tbody></table>${verdicts ? `<ul>${verdicts}</ul>` : ""}`;
  }
  async function renderRunningSeries(r) {
    const s = r.series, x = s.ts_ms.map((t) => new Date(t));
    const tr = (key, name, color, dash) => ({ type: "scatter", mode: "lines", name, x,
      y: s[key], line: { color, width: 1.5, dash }, hovertemplate: `${name} %{y:$.3s}<extra></extra>` });
    await Plotly.react($("scorecard-series"), [
      tr("predicted_long_usd", "predicted longs", C.long, "solid"),
      tr("realized_long_usd", "realized longs", C.longDim, "dot"),
      tr("predicted_short_usd", "predicted shorts", C.short, "solid"),
      tr("realized_short_usd", "realized shorts", C.shortDim, "dot"),
    ], layout({ plot_bgcolor: C.panel, margin: { l: 52, r: 8, t: 4, b: 28 },
      xaxis: axis({}), yaxis: axis({ tickformat: "$.2s" }) }), PLOTLY_CONFIG);
    $("scorecard-series").dataset.points = String(s.ts_ms.length);
  }
  function scorecardHtml(s) {  // {"windows": {W: metrics-W.json}} or one metrics file
    if (s && s.running) return runningHtml(s.running);
    const cards = s && s.metrics ? [["", s]]
      : Object.entries((s && s.windows) || s || {})
        .filter(([, v]) => v && typeof v === "object" && v.metrics);
    if (!cards.length) return `<pre class="msg">${esc(JSON.stringify(s, null, 1))}</pre>`;
    return cards.map(([name, sc]) => scorecardTable(name, sc)).join("");
  }
  async function loadScorecard() {
    const el = $("scorecard");
    try {
      const s = await api("scorecard");
      el.innerHTML = scorecardHtml(s);
      if (s && s.running) await renderRunningSeries(s.running);
      el.dataset.kind = s && s.running ? "running" : "files";
      el.dataset.state = "loaded";
    } catch (e) {
      el.innerHTML = `<p class="msg">${esc(e.message)}</p>`;
      el.dataset.state = e.status === 404 ? "missing" : "error";
    }
  }

  // ---------- level watch (/api/v1/levels/approaches: a store only) ----------
  const NO_LEVELS = "No level watch here: it is kept in a liqmap store (liqmap serve --db FILE, " +
    "filled by liqmap watch --db FILE --record or liqmap live --db FILE).";
  function levelsHtml(d) {
    const pct = (x) => (x === null || x === undefined ? "n/a" : `${Math.round(100 * x)} %`);
    const sums = Object.entries(d.summary || {}).map(([side, v]) =>
      `<tr><td>${esc(side)}</td><td>${v.approaches}</td><td>${v.through}</td>` +
      `<td>${v.rejected}</td><td>${v.pending}</td><td>${pct(v.through_share)}</td>` +
      `<td>${fmtUsd(v.median_realized_usd_through)}</td>` +
      `<td>${fmtUsd(v.median_realized_usd_rejected)}</td></tr>`).join("");
    const rows = d.approaches.slice(-30).reverse().map((a) =>
      `<tr class="${esc(a.outcome)}"><td>${utc(a.ts_ms)}</td><td>${esc(a.side)}</td>` +
      `<td>${fmtPrice(a.cluster_price_usd)}</td><td>${fmtUsd(a.notional_usd)}</td>` +
      `<td>${esc(a.outcome)}</td><td>${fmtPct(a.move_pct)}</td>` +
      `<td>${fmtUsd(a.realized_long_usd)} / ${fmtUsd(a.realized_short_usd)}</td></tr>`).join("");
    const none = d.approaches.length ? "" : "<p class=\"msg\">No approach stored yet.</p>";
    return `<table><thead><tr><th>side</th><th>approaches</th><th>through</th>` +
      `<th>rejected</th><th>pending</th><th>% through</th><th>median realized: through</th>` +
      `<th>rejected</th></tr></thead><tbody>${sums}</tbody></table>` +
      `<table><thead><tr><th>time (UTC)</th><th>side</th><th>level</th><th>notional</th>` +
      `<th>outcome</th><th>move 1 h</th><th>realized L / S</th></tr></thead>` +
      `<tbody>${rows}</tbody></table>${none}`;
  }
  async function loadLevels() {
    const el = $("levels");
    if (!state.levelWatch) {
      el.innerHTML = `<p class="msg">${esc(NO_LEVELS)}</p>`;
      el.dataset.state = "missing";
      return;
    }
    const q = { limit: 200 };
    if ($("venue").value && $("venue").value !== "aggregate") q.venue = $("venue").value;
    if ($("symbol").value) q.symbol = $("symbol").value;
    try {
      el.innerHTML = levelsHtml(await api("levels/approaches", q));
      el.dataset.state = "loaded";
    } catch (e) {
      el.innerHTML = `<p class="msg">${esc(e.message)}</p>`;
      el.dataset.state = e.status === 404 ? "missing" : "error";
    }
  }

  // ---------- market scan (/api/v1/scan: every symbol and venue of the source) ----------
  const SCAN_SORTS = { imbalance: "largest imbalance", "nearest-cluster": "nearest big cluster",
    ceiling: "nearest squeeze ceiling", floor: "nearest flush floor", symbol: "symbol" };
  function scanLevel(x) {
    return x ? `${fmtPrice(x.price_usd)} <small>${fmtPct(x.distance_pct, 1)}</small>` : "–";
  }
  function scanCluster(x) {
    return x ? `${fmtPrice(x.price_usd)} <small>${fmtPct(x.distance_pct, 1)} · ` +
      `${fmtUsd(x.notional_usd)}</small>` : "–";
  }
  function scanPair(r, pct) {
    const s = r[`shorts_${pct}pct_usd`], l = r[`longs_${pct}pct_usd`];
    return `${fmtUsd(s)} / ${fmtUsd(l)} <small>${fmtRatio(r[`imbalance_${pct}pct`], s, l)}</small>`;
  }
  function scanHtml(d) {
    const tilt = (r) => (r.log_imbalance_20pct === null ? "" : r.log_imbalance_20pct > 0 ? "up" : "down");
    const rows = d.rows.map((r, i) =>
      `<tr data-symbol="${esc(r.symbol)}" data-venue="${esc(r.venue)}" data-testid="scan-row">` +
      `<td>${i + 1}</td><td>${esc(r.symbol)}</td><td>${esc(r.venue)}</td>` +
      `<td>${fmtPrice(r.price_usd)}</td><td>${scanPair(r, 10)}</td>` +
      `<td class="${tilt(r)}">${scanPair(r, 20)}</td>` +
      `<td>${scanCluster(r.nearest_long_cluster)}</td><td>${scanCluster(r.nearest_short_cluster)}</td>` +
      `<td>${scanLevel(r.squeeze_ceiling)}</td><td>${scanLevel(r.flush_floor)}</td>` +
      `<td title="${esc(r.tiers ? `${r.tiers.venue} ${r.tiers.symbol} ${r.tiers.version}` : "")}">` +
      `${esc(r.rules)}</td></tr>`).join("");
    const gen = d.generated ? " · <b>generated bars, not market data</b>" : "";
    const notes = (d.notes || []).map((n) => `<p class="note">${esc(n)}</p>`).join("");
    return `<p class="note" data-testid="scan-head">${d.n_rows} of ${d.n_series} series · ` +
      `${d.symbols.length} symbols × ${d.venues.length} venues · sorted by ` +
      `${esc(SCAN_SORTS[d.sort_by] || d.sort_by)} · window ${esc(d.lookback || "all bars")} · ` +
      `${d.seconds.toFixed(2)} s${gen}</p><table><thead><tr><th>#</th><th>symbol</th>` +
      `<th>venue</th><th>price</th><th>shorts / longs ±10 %</th><th>shorts / longs ±20 %</th>` +
      `<th>nearest long cluster</th><th>nearest short cluster</th><th>squeeze ceiling</th>` +
      `<th>flush floor</th><th>tiers</th></tr></thead><tbody>${rows}</tbody></table>${notes}`;
  }
  function markScanPick() {
    for (const tr of $("scan").querySelectorAll("tbody tr")) {
      tr.classList.toggle("picked", tr.dataset.symbol === $("symbol").value &&
        tr.dataset.venue === $("venue").value);
    }
  }
  async function loadScan() {
    const el = $("scan"), seq = (state.scanSeq = (state.scanSeq || 0) + 1);
    const q = { sort: $("scan-sort").value };
    const top = parseInt($("scan-top").value, 10);
    if (Number.isFinite(top) && top >= 1) q.top = String(top);
    if ($("scan-lookback").value) q.lookback = $("scan-lookback").value;
    el.dataset.state = "loading";
    for (let attempt = 0; ; attempt++) {
      try {
        const d = await api("scan", q);
        if (seq !== state.scanSeq) return;
        el.innerHTML = scanHtml(d);
        markScanPick();
        Object.assign(el.dataset, { state: "loaded", sort: d.sort_by, rows: String(d.rows.length) });
        return;
      } catch (e) {
        if (seq !== state.scanSeq) return;
        if (e.status === 503 && attempt < 30) {  // still computing: it goes on, ask again
          el.innerHTML = `<p class="msg">scanning… (${esc(e.message)})</p>`;
          await new Promise((ok) => setTimeout(ok, 1500));
          continue;
        }
        el.innerHTML = `<p class="msg">${esc(e.message)}</p>`;
        el.dataset.state = "error";
        return;
      }
    }
  }
  function pickScanRow(ev) {
    const tr = ev.target.closest("tbody tr[data-symbol]");
    if (!tr) return;
    $("symbol").value = tr.dataset.symbol;
    fillVenues(tr.dataset.venue);
    markScanPick();
    loadCharts();
    loadLevels();
  }

  // ---------- start ----------
  function fillSelect(sel, values, chosen) {
    sel.innerHTML = values.map((v) => `<option value="${esc(v)}">${esc(v)}</option>`).join("");
    if (values.includes(chosen)) sel.value = chosen;
  }
  function fillVenues(chosen) {  // the venues holding the symbol picked, then aggregate
    const sym = $("symbol").value, held = state.venuesBySymbol[sym];
    const venues = held ? held.concat(["aggregate"]) : state.venues;
    const keep = chosen || $("venue").value;
    fillSelect($("venue"), venues, venues.includes(keep) ? keep
      : venues.includes("aggregate") ? "aggregate" : null);
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
      state.reloadTimer = setTimeout(() => { loadCharts(); loadScan(); }, 1000);
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
    state.venues = h.venues || [];
    state.venuesBySymbol = h.venues_by_symbol || {};
    fillSelect($("symbol"), h.symbols || [], null);
    fillVenues("aggregate");
    if (h.lookbacks && h.lookbacks.length) fillSelect($("lookback"), h.lookbacks, "7d");
    $("symbol-label").hidden = (h.symbols || []).length < 2;
    state.span = `${h.source} · data ${utc(h.data_from_ms)} → ${utc(h.data_to_ms)} UTC`;
    $("symbol").addEventListener("change", () => { fillVenues(); markScanPick(); });
    $("venue").addEventListener("change", markScanPick);
    for (const id of ["scan-sort", "scan-lookback", "scan-top"]) {
      $(id).addEventListener("change", loadScan);
    }
    $("scan").addEventListener("click", pickScanRow);
    for (const id of ["venue", "symbol", "lookback", "convention", "at"]) {
      $(id).addEventListener("change", loadCharts);
    }
    const iso = (ms) => new Date(ms).toISOString().slice(0, 16);
    Object.assign($("at"), { min: iso(h.data_from_ms), max: iso(h.data_to_ms) });
    $("at-latest").addEventListener("click", () => { $("at").value = ""; loadCharts(); });
    state.levelWatch = Boolean(h.level_watch);
    for (const id of ["venue", "symbol"]) $(id).addEventListener("change", loadLevels);
    $("shock").addEventListener("input", showShock);
    $("cascade-run").addEventListener("click", runCascade);
    await Promise.all([loadCharts(), loadScorecard(), loadLevels(), loadScan()]);
    openStream();
  }
  window.addEventListener("DOMContentLoaded", init);
})();
