// Small charts drawn as inline SVG (no library, no download): column charts
// and an hour x weekday heatmap, for the reports page. Each returns a
// <figure class="chart"> holding its caption and an <svg> with a viewBox, so
// it scales to its box on screen and prints sharp.
"use strict";
window.MCCharts = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const svgEl = (name, attrs, text) => {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const fig = (id, title, svg, note) => {
    const f = document.createElement("figure");
    f.className = "chart"; f.id = id;
    const cap = document.createElement("figcaption"); cap.textContent = title;
    f.append(cap, svg);
    if (note) { const p = document.createElement("p"); p.className = "chart-note"; p.textContent = note; f.append(p); }
    return f;
  };
  // a "nice" step for an axis reaching `top`: 1, 2 or 5 times a power of ten
  function niceStep(top, ticks) {
    if (!(top > 0)) return 1;
    const raw = top / ticks, p = Math.pow(10, Math.floor(Math.log10(raw)));
    const m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }
  const W = 520, H = 260, L = 52, R = 12, T = 14, B = 52;

  // opts: {id, title, labels[], values[] (null: no bar), xLabel, yLabel, fmt(v) -> text, kind (a CSS class), empty}
  function bars(opts) {
    const { labels, values } = opts;
    const fmt = opts.fmt || ((v) => String(v));
    const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": opts.title, class: "chart-svg" });
    const nums = values.filter((v) => v !== null && v !== undefined && isFinite(v));
    const max = Math.max(0, ...nums);
    const step = niceStep(max, 4);
    const top = Math.max(step, Math.ceil(max / step) * step);
    const pw = W - L - R, ph = H - T - B;
    const y = (v) => T + ph - (v / top) * ph;
    const axis = svgEl("g", { class: "axis" });
    for (let v = 0; v <= top + 1e-9; v += step) {
      axis.append(svgEl("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }));
      const tick = step >= 1 ? String(Math.round(v)) : fmt(+v.toFixed(6)); // whole steps: whole numbers
      axis.append(svgEl("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, tick));
    }
    axis.append(svgEl("line", { x1: L, x2: W - R, y1: T + ph, y2: T + ph, class: "base" }));
    svg.append(axis);
    const n = Math.max(1, labels.length), slot = pw / n, bw = Math.max(2, Math.min(44, slot * 0.7));
    const every = Math.ceil(n / 16); // at most 16 labels under the axis
    labels.forEach((lab, i) => {
      const cx = L + slot * i + slot / 2, v = values[i];
      if (v !== null && v !== undefined && isFinite(v)) {
        const r = svgEl("rect", { x: cx - bw / 2, y: y(v), width: bw, height: Math.max(0, T + ph - y(v)),
          class: "bar" + (opts.kind ? " " + opts.kind : ""), "data-label": lab, "data-value": v });
        r.append(svgEl("title", {}, `${lab}: ${fmt(v)}`));
        svg.append(r);
        if (n <= 12 && v > 0) svg.append(svgEl("text", { x: cx, y: y(v) - 3, "text-anchor": "middle", class: "val" }, fmt(v)));
      }
      if (i % every === 0) svg.append(svgEl("text", { x: cx, y: T + ph + 15, "text-anchor": "middle", class: "xlab" }, lab));
    });
    svg.append(svgEl("text", { x: L + pw / 2, y: H - 8, "text-anchor": "middle", class: "axis-label x" }, opts.xLabel));
    svg.append(svgEl("text", { x: 12, y: T + ph / 2, "text-anchor": "middle", class: "axis-label y",
      transform: `rotate(-90 12 ${T + ph / 2})` }, opts.yLabel));
    return fig(opts.id, opts.title, svg, max > 0 ? "" : opts.empty);
  }

  // opts: {id, title, rows[] (labels), cols[] (labels), value(r, c) -> number, xLabel, yLabel, legend(max) -> text}
  function heatmap(opts) {
    const { rows, cols } = opts;
    const lw = 44, top = 10, bottom = 50, cw = (W - lw - R) / Math.max(1, cols.length);
    const ch = Math.min(26, (H - top - bottom) / Math.max(1, rows.length));
    const h = top + ch * rows.length + bottom;
    const svg = svgEl("svg", { viewBox: `0 0 ${W} ${h}`, role: "img", "aria-label": opts.title, class: "chart-svg" });
    let max = 0;
    rows.forEach((_, r) => cols.forEach((__, c) => { max = Math.max(max, opts.value(r, c) || 0); }));
    rows.forEach((lab, r) => {
      svg.append(svgEl("text", { x: lw - 6, y: top + ch * r + ch / 2 + 4, "text-anchor": "end", class: "ylab" }, lab));
      cols.forEach((col, c) => {
        const v = opts.value(r, c) || 0, k = max ? v / max : 0;
        // white to the chart blue, by the share of the busiest cell
        const rgb = [255 - Math.round(k * (255 - 31)), 255 - Math.round(k * (255 - 111)), 255 - Math.round(k * (255 - 178))];
        const cell = svgEl("rect", { x: lw + cw * c + 1, y: top + ch * r + 1, width: cw - 2, height: ch - 2,
          class: "cell", "data-row": lab, "data-col": col, "data-value": v, fill: `rgb(${rgb.join(",")})` });
        cell.append(svgEl("title", {}, `${lab} ${col}: ${v}`));
        svg.append(cell);
      });
    });
    const every = Math.ceil(cols.length / 16);
    cols.forEach((col, c) => {
      if (c % every === 0) svg.append(svgEl("text", { x: lw + cw * c + cw / 2, y: top + ch * rows.length + 15, "text-anchor": "middle", class: "xlab" }, col));
    });
    svg.append(svgEl("text", { x: lw + (W - lw - R) / 2, y: h - 22, "text-anchor": "middle", class: "axis-label x" }, opts.xLabel));
    svg.append(svgEl("text", { x: lw + (W - lw - R) / 2, y: h - 6, "text-anchor": "middle", class: "legend" }, opts.legend(max)));
    return fig(opts.id, opts.title, svg, max ? "" : opts.empty);
  }

  return { bars, heatmap, niceStep };
})();
