// locust-rs web UI, charts: SVG line charts over time drawn by hand (no library, nothing
// from the network), with what a reader reaches for: a tooltip that follows the mouse
// and shows the same moment on every chart, drag to zoom every chart to a time span
// (Reset zoom, or a double click, goes back), and Save PNG (the SVG painted on a canvas
// in the browser). The page's script calls LocustCharts.draw(id, times, spec) on every
// poll; this file keeps each chart's data to redraw on hover, zoom and theme changes.
// Every text comes from data and reaches the SVG through textContent.
"use strict";

window.LocustCharts = (function () {
  const SVG = "http://www.w3.org/2000/svg";
  const W = 900, H = 280, LEFT = 70, RIGHT = 20, TOP = 56, BOTTOM = 46;
  const PLOT_W = W - LEFT - RIGHT, PLOT_H = H - TOP - BOTTOM;
  const FONT = '-apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif';

  // Shared by every chart: the zoomed span and the moment under the mouse.
  const view = { zoom: null, hover: null, drag: null };
  const charts = new Map(); // id -> {node, times, spec}

  /** The chart colours of the page's theme (the PNG carries them too). */
  function theme() {
    const dark = document.documentElement.dataset.theme === "dark";
    return dark
      ? { bg: "#1e1f22", text: "#e6e6e6", muted: "#a8a8a8", grid: "#3a3b40", axis: "#b0b0b0", ref: "#e6e6e6", plan: "#9a9a9a", tipBg: "#2b2d31", tipLine: "#777", band: "rgba(120,160,255,0.10)" }
      : { bg: "#ffffff", text: "#222222", muted: "#555555", grid: "#e5e5e5", axis: "#333333", ref: "#000000", plan: "#8a8a8a", tipBg: "#ffffff", tipLine: "#999", band: "rgba(46,125,50,0.07)" };
  }

  function svg(parent, tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
    if (text != null) node.textContent = String(text);
    parent.append(node);
    return node;
  }

  /** The smallest "nice" number (1, 2, 2.5, 5 x 10^k) at or above x. */
  function niceCeiling(x) {
    if (!(Number.isFinite(x) && x > 0)) return 1;
    const unit = Math.pow(10, Math.floor(Math.log10(x)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * unit >= x * (1 - 1e-9)) return m * unit;
    return 10 * unit;
  }

  function clock(seconds) {
    const d = new Date(seconds * 1000);
    return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
  }

  function timeTicks(from, to) {
    const span = Math.max(to - from, 1);
    const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400];
    const step = steps.find((s) => span / s <= 7) || Math.ceil(span / 7 / 86400) * 86400;
    const ticks = [];
    for (let t = Math.ceil(from / step) * step; t <= to + 1e-9 && ticks.length < 20; t += step) ticks.push(t);
    return ticks;
  }

  const finite = (v) => v != null && Number.isFinite(Number(v));

  /** The time span the chart shows: the zoom, else the page's shared span, else its data and its plan. */
  function span(chart) {
    if (view.zoom) return view.zoom;
    const { times, spec } = chart;
    if (spec.range && spec.range[1] > spec.range[0]) return spec.range;
    let x0 = times.length ? times[0] : Date.now() / 1000 - 60;
    let x1 = times.length > 1 && times[times.length - 1] > x0 ? times[times.length - 1] : x0 + 60;
    if (spec.plan && spec.plan.points.length) {
      x0 = Math.min(x0, spec.plan.points[0][0]);
      x1 = Math.max(x1, spec.plan.points[spec.plan.points.length - 1][0]);
    }
    return [x0, x1];
  }

  /**
   * Draws a chart into the <svg id=id>: title, a legend with the latest value of each
   * line, y axis with units, x axis in local clock time, an optional dashed reference
   * and a planned line (dashed, grey, under the measured lines), with stage bounds.
   * `spec`: {title, yLabel, format, yMax?, range?: [from, to] (shared by the charts, so a
   *          moment sits at the same x on each), reference?: {value, label},
   *          plan?: {label, points: [[epoch, value]], bounds: [epoch]},
   *          series: [{name, color, values}]}.
   */
  function draw(id, times, spec) {
    const node = document.getElementById(id);
    if (!node) return;
    const chart = { node, times, spec };
    charts.set(id, chart);
    wire(node);
    render(chart);
  }

  function render(chart) {
    const { node, times, spec } = chart;
    const c = theme();
    node.replaceChildren();
    node.setAttribute("viewBox", `0 0 ${W} ${H}`);
    node.setAttribute("data-points", String(times.length));
    node.setAttribute("font-family", FONT);
    svg(node, "rect", { x: 0, y: 0, width: W, height: H, fill: c.bg });
    svg(node, "text", { x: LEFT, y: 20, "font-size": 15, "font-weight": "bold", fill: c.text }, spec.title);
    let lx = LEFT;
    for (const s of spec.series) {
      const latest = [...s.values].reverse().find(finite);
      const label = s.name + ": " + (latest == null ? "\u2014" : spec.format(Number(latest)));
      const g = svg(node, "g", { class: "legend" });
      svg(g, "rect", { x: lx, y: 30, width: 14, height: 4, fill: s.color });
      svg(g, "text", { x: lx + 18, y: 36, "font-size": 12, fill: c.text }, label);
      lx += 34 + 6.5 * label.length;
    }
    for (const extra of [spec.plan, spec.reference]) {
      if (!extra) continue;
      const g = svg(node, "g", { class: "legend" });
      const stroke = extra === spec.plan ? c.plan : c.ref;
      svg(g, "line", { x1: lx, y1: 32, x2: lx + 14, y2: 32, stroke, "stroke-width": 2, "stroke-dasharray": "4,3" });
      svg(g, "text", { x: lx + 18, y: 36, "font-size": 12, fill: c.text }, extra.label);
      lx += 34 + 6.5 * extra.label.length;
    }
    const [x0, x1] = span(chart);
    chart.x0 = x0;
    chart.x1 = x1;
    let top = spec.reference ? spec.reference.value : 0;
    for (const s of spec.series) s.values.forEach((v, i) => {
      if (finite(v) && times[i] >= x0 && times[i] <= x1) top = Math.max(top, Number(v));
    });
    if (spec.plan) for (const [, v] of spec.plan.points) top = Math.max(top, v);
    const yTop = spec.yMax || niceCeiling(top);
    const px = (t) => LEFT + ((t - x0) / (x1 - x0)) * PLOT_W;
    const py = (v) => TOP + PLOT_H - (Math.min(Math.max(v, 0), yTop) / yTop) * PLOT_H;
    chart.px = px;
    chart.py = py;
    for (let i = 0; i <= 5; i++) {
      const v = (yTop * i) / 5;
      const y = py(v).toFixed(1);
      svg(node, "line", { x1: LEFT, y1: y, x2: LEFT + PLOT_W, y2: y, stroke: c.grid });
      svg(node, "text", { x: LEFT - 6, y: Number(y) + 4, "font-size": 11, "text-anchor": "end", fill: c.muted }, spec.format(v));
    }
    svg(node, "line", { x1: LEFT, y1: TOP, x2: LEFT, y2: TOP + PLOT_H, stroke: c.axis });
    svg(node, "line", { x1: LEFT, y1: TOP + PLOT_H, x2: LEFT + PLOT_W, y2: TOP + PLOT_H, stroke: c.axis });
    for (const t of timeTicks(x0, x1)) {
      // A label centred on the right edge would be cut in half: left out.
      if (px(t) > W - RIGHT - 12) continue;
      svg(node, "text", { x: px(t).toFixed(1), y: TOP + PLOT_H + 16, "font-size": 11, "text-anchor": "middle", fill: c.muted }, clock(t));
    }
    const axisLabel = view.zoom ? "time (local clock), zoomed: drag again, or double-click to reset" : "time (local clock); drag to zoom";
    svg(node, "text", { x: LEFT + PLOT_W / 2, y: TOP + PLOT_H + 36, "font-size": 12, "text-anchor": "middle", fill: c.text }, axisLabel);
    const my = TOP + PLOT_H / 2;
    svg(node, "text", { x: 14, y: my, "font-size": 12, "text-anchor": "middle", fill: c.text, transform: `rotate(-90 14 ${my})` }, spec.yLabel);
    // Everything data-drawn is clipped to the plot, so a zoom cannot draw over the axes.
    const clipId = node.id + "-clip";
    const defs = svg(node, "defs", {});
    const clip = svg(defs, "clipPath", { id: clipId });
    svg(clip, "rect", { x: LEFT, y: TOP - 4, width: PLOT_W, height: PLOT_H + 8 });
    const plot = svg(node, "g", { "clip-path": `url(#${clipId})` });
    if (spec.plan) drawPlan(plot, spec.plan, px, py, c);
    const hasData = spec.series.some((s) => s.values.some((v) => v != null));
    if (!hasData && !spec.plan) {
      const msg = times.length ? "no data yet" : "no data yet: start a test";
      svg(node, "text", { x: LEFT + PLOT_W / 2, y: my, "font-size": 13, "text-anchor": "middle", fill: c.muted }, msg);
    }
    if (spec.reference) {
      const y = py(spec.reference.value).toFixed(1);
      svg(plot, "line", { x1: LEFT, y1: y, x2: LEFT + PLOT_W, y2: y, stroke: c.ref, "stroke-dasharray": "5,4" });
    }
    for (const s of spec.series) drawLine(plot, s, times, px, py);
    drawHover(chart, c);
    drawDrag(chart, c);
    const box = node.closest(".chart-box");
    if (box) box.querySelector(".reset-zoom").hidden = !view.zoom;
  }

  /** The planned load: dashed under the measured lines; stage bounds as thin lines. */
  function drawPlan(plot, plan, px, py, c) {
    const g = svg(plot, "g", { class: "plan" });
    (plan.bounds || []).forEach((t, i) => {
      const x = px(t).toFixed(1);
      if (i % 2 === 0 && i + 1 < plan.bounds.length) {
        const x2 = px(plan.bounds[i + 1]);
        svg(g, "rect", { x, y: TOP, width: Math.max(0, x2 - x).toFixed(1), height: PLOT_H, fill: c.band });
      }
      svg(g, "line", { x1: x, y1: TOP, x2: x, y2: TOP + PLOT_H, stroke: c.grid, "stroke-dasharray": "2,3" });
    });
    const points = plan.points.map(([t, v]) => px(t).toFixed(1) + "," + py(v).toFixed(1)).join(" ");
    svg(g, "polyline", { class: "planned", points, fill: "none", stroke: c.plan, "stroke-width": 2.5, "stroke-dasharray": "6,4" });
  }

  function drawLine(plot, s, times, px, py) {
    // A gap (null) splits a line; a lone point is drawn as a dot.
    let segment = [];
    const flush = () => {
      if (segment.length === 1) {
        const [x, y] = segment[0];
        svg(plot, "circle", { cx: x, cy: y, r: 2.5, fill: s.color });
      } else if (segment.length > 1) {
        const points = segment.map(([x, y]) => x + "," + y).join(" ");
        svg(plot, "polyline", { class: "series", points, fill: "none", stroke: s.color, "stroke-width": 2 });
      }
      segment = [];
    };
    s.values.forEach((v, i) => {
      if (!finite(v)) return flush();
      segment.push([px(times[i]).toFixed(1), py(Number(v)).toFixed(1)]);
    });
    flush();
  }

  /** The index of the point nearest `t`, or -1. */
  function nearest(times, t) {
    let best = -1, gap = Infinity;
    for (let i = 0; i < times.length; i++) {
      const d = Math.abs(times[i] - t);
      if (d < gap) [best, gap] = [i, d];
    }
    return best;
  }

  /** The planned value at `t` (straight lines between the plan's points). */
  function planAt(plan, t) {
    const p = plan.points;
    if (!p.length || t < p[0][0] || t > p[p.length - 1][0]) return null;
    for (let i = 1; i < p.length; i++) {
      if (t <= p[i][0]) {
        const [ta, va] = p[i - 1], [tb, vb] = p[i];
        return tb > ta ? va + ((t - ta) / (tb - ta)) * (vb - va) : vb;
      }
    }
    return p[p.length - 1][1];
  }

  /** The tooltip at the shared hover moment: a line, a dot per series, the values. */
  function drawHover(chart, c) {
    if (view.hover == null || view.drag) return;
    const { node, times, spec, px, py } = chart;
    // The nearest measured moment; farther than a poll away (over the planned part of
    // a shape, still to come) the moment under the mouse, with no measured values.
    let i = nearest(times, view.hover);
    if (i >= 0 && Math.abs(times[i] - view.hover) > 2.5) i = -1;
    const t = i >= 0 ? times[i] : view.hover;
    if (t < chart.x0 || t > chart.x1) return;
    const x = px(t);
    const g = svg(node, "g", { class: "tooltip", "pointer-events": "none" });
    svg(g, "line", { x1: x.toFixed(1), y1: TOP, x2: x.toFixed(1), y2: TOP + PLOT_H, stroke: c.tipLine, "stroke-dasharray": "3,3" });
    const lines = [clock(t)];
    const colors = [c.text];
    for (const s of spec.series) {
      const v = i >= 0 ? s.values[i] : null;
      lines.push(s.name + ": " + (finite(v) ? spec.format(Number(v)) : "\u2014"));
      colors.push(s.color);
      if (finite(v)) svg(g, "circle", { cx: x.toFixed(1), cy: py(Number(v)).toFixed(1), r: 4, fill: s.color, stroke: c.bg, "stroke-width": 1.5 });
    }
    if (spec.plan) {
      const planned = planAt(spec.plan, t);
      lines.push(spec.plan.label + ": " + (planned == null ? "\u2014" : spec.format(planned)));
      colors.push(c.plan);
    }
    const width = 16 + 6.6 * Math.max(...lines.map((l) => l.length));
    const height = 10 + 16 * lines.length;
    const bx = x + 12 + width > W - RIGHT ? x - 12 - width : x + 12;
    const tip = svg(g, "g", { class: "tooltip-box" });
    svg(tip, "rect", { x: bx.toFixed(1), y: TOP + 4, width: width.toFixed(1), height, rx: 4, fill: c.tipBg, stroke: c.tipLine, opacity: 0.95 });
    lines.forEach((line, k) => {
      svg(tip, "text", { x: (bx + 8).toFixed(1), y: TOP + 20 + 16 * k, "font-size": 12, fill: k === 0 ? c.text : colors[k], "font-weight": k === 0 ? "bold" : "normal" }, line);
    });
  }

  function drawDrag(chart, c) {
    if (!view.drag || view.drag.id !== chart.node.id) return;
    const [a, b] = [view.drag.from, view.drag.to].map(chart.px);
    svg(chart.node, "rect", { class: "zoom-box", x: Math.min(a, b).toFixed(1), y: TOP, width: Math.abs(b - a).toFixed(1), height: PLOT_H, fill: c.band, stroke: c.tipLine, "stroke-dasharray": "3,2" });
  }

  function redrawAll() {
    for (const chart of charts.values()) render(chart);
  }

  /** Only the tooltip and the zoom box, on every chart: cheap enough for each move. */
  function overlayAll() {
    const c = theme();
    for (const chart of charts.values()) {
      for (const old of chart.node.querySelectorAll(".tooltip, .zoom-box")) old.remove();
      drawHover(chart, c);
      drawDrag(chart, c);
    }
  }

  /** The time under a mouse event, or null outside the plot. */
  function timeAt(chart, event) {
    const rect = chart.node.getBoundingClientRect();
    if (!rect.width || chart.x0 == null) return null;
    const x = ((event.clientX - rect.left) / rect.width) * W;
    if (x < LEFT || x > LEFT + PLOT_W) return null;
    return chart.x0 + ((x - LEFT) / PLOT_W) * (chart.x1 - chart.x0);
  }

  /** Mouse handling, once per chart: hover, drag to zoom, double-click to reset. */
  function wire(node) {
    if (node.dataset.wired) return;
    node.dataset.wired = "1";
    const chart = () => charts.get(node.id);
    node.addEventListener("mousemove", (event) => {
      const t = timeAt(chart(), event);
      if (view.drag && view.drag.id === node.id) {
        if (t != null) view.drag.to = t;
      } else {
        view.hover = t;
      }
      overlayAll();
    });
    node.addEventListener("mouseleave", () => {
      view.hover = null;
      if (view.drag) view.drag = null;
      overlayAll();
    });
    node.addEventListener("mousedown", (event) => {
      const t = timeAt(chart(), event);
      if (t == null || event.button !== 0) return;
      event.preventDefault();
      view.drag = { id: node.id, from: t, to: t };
    });
    node.addEventListener("mouseup", () => {
      const drag = view.drag;
      view.drag = null;
      if (drag && drag.id === node.id) {
        const c = chart();
        const [a, b] = [Math.min(drag.from, drag.to), Math.max(drag.from, drag.to)];
        // A click is not a zoom: at least 1 % of the span.
        if (b - a > (c.x1 - c.x0) / 100) view.zoom = [a, b];
      }
      redrawAll();
    });
    node.addEventListener("dblclick", reset);
  }

  function reset() {
    view.zoom = null;
    view.drag = null;
    redrawAll();
  }

  /** The chart as a PNG data URL: its SVG painted on a canvas at twice the size. */
  function png(id) {
    const node = document.getElementById(id);
    const text = new XMLSerializer().serializeToString(node);
    const url = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(text);
    return new Promise((resolve, reject) => {
      const image = new Image();
      image.onload = () => {
        const canvas = document.createElement("canvas");
        canvas.width = W * 2;
        canvas.height = H * 2;
        const context = canvas.getContext("2d");
        context.scale(2, 2);
        context.drawImage(image, 0, 0, W, H);
        resolve(canvas.toDataURL("image/png"));
      };
      image.onerror = () => reject(new Error("the chart could not be painted"));
      image.src = url;
    });
  }

  async function save(id) {
    const link = document.createElement("a");
    link.href = await png(id);
    link.download = id.replace(/^chart-/, "locust-") + ".png";
    document.body.append(link);
    link.click();
    link.remove();
  }

  /** Wraps each chart in a box with its Reset zoom and Save PNG buttons. */
  function decorate(node) {
    const box = document.createElement("figure");
    box.className = "chart-box";
    node.replaceWith(box);
    const bar = document.createElement("div");
    bar.className = "chart-tools";
    const resetButton = document.createElement("button");
    resetButton.type = "button";
    resetButton.className = "reset-zoom";
    resetButton.textContent = "Reset zoom";
    resetButton.hidden = true;
    resetButton.addEventListener("click", reset);
    const saveButton = document.createElement("button");
    saveButton.type = "button";
    saveButton.className = "save-png";
    saveButton.textContent = "Save PNG";
    saveButton.addEventListener("click", () => save(node.id));
    bar.append(resetButton, saveButton);
    box.append(bar, node);
  }

  function init() {
    for (const node of document.querySelectorAll("svg.chart")) decorate(node);
  }

  return { draw, redrawAll, reset, png, init, view, planAt };
})();
