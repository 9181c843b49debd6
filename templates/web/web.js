// locust-rs web UI: the start form, live tables and SVG charts. Plain JavaScript, no build
// step, no library, nothing from the network. It reads window.templateArgs (written by the
// server into index.html), then polls the REST API every 2 s (stats/requests, exceptions,
// logs). Every value from the server reaches the DOM through textContent or setAttribute,
// never as markup, so a host or request name with HTML in it shows as text.
"use strict";

(function () {
  const args = window.templateArgs || {};
  const base = String(window.basePath || "").replace(/\/+$/, "");
  const POLL_MS = 2000;
  const MAX_POINTS = 20000;
  // The report's palette (src/report/svg.rs), in legend order.
  const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
  const ACTIVE = ["spawning", "running"];

  const ui = {
    state: args.state || "ready",
    history: Array.isArray(args.history) ? args.history.slice(-MAX_POINTS) : [],
    showForm: false,
    editing: false,
    userCount: Number(args.user_count) || 0,
    spawnRate: args.spawn_rate == null ? 1 : args.spawn_rate,
    timer: null,
    polling: false,
    pollAgain: false,
  };

  const $ = (id) => document.getElementById(id);

  // ---- small helpers -------------------------------------------------------------------

  /** An HTML element with attributes and text children (strings become text nodes). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    for (const child of children) {
      node.append(child instanceof Node ? child : document.createTextNode(child == null ? "" : String(child)));
    }
    return node;
  }

  /** Numbers the way the report writes them: fewer decimals as values grow. */
  function short(v) {
    if (v == null || !Number.isFinite(Number(v))) return "\u2014";
    v = Number(v);
    if (Math.abs(v) >= 100 || Number.isInteger(v)) return String(Math.round(v));
    if (Math.abs(v) >= 10) return v.toFixed(1);
    return String(Number(v.toFixed(2)));
  }
  const ms = (v) => (v == null ? "\u2014" : short(v) + " ms");
  const pct = (v) => (v == null ? "\u2014" : short(Number(v) * 100) + "%");
  const int = (v) => (v == null ? "\u2014" : String(Math.round(Number(v))));

  async function getJson(path) {
    const response = await fetch(base + path, { cache: "no-store" });
    if (!response.ok) throw new Error(path + ": HTTP " + response.status);
    return response.json();
  }

  async function post(path, form) {
    const init = { method: "POST" };
    if (form) init.body = form; // URLSearchParams: sent as application/x-www-form-urlencoded
    const response = await fetch(base + path, init);
    const body = await response.text();
    if (!response.ok) throw new Error(body || path + ": HTTP " + response.status);
    try {
      return JSON.parse(body);
    } catch (_) {
      return { success: true, message: body };
    }
  }

  function notice(text) {
    const box = $("connection");
    box.textContent = text || "";
    box.hidden = !text;
  }

  function showHost(host) {
    $("host-value").textContent = String(host);
    $("host-value").title = String(host); // the whole host on hover when it is cut
  }

  function showMessage(id, text) {
    const box = $(id);
    box.textContent = text || "";
    box.hidden = !text;
  }

  // ---- the start form ------------------------------------------------------------------

  function initForm() {
    $("user_count").value = args.num_users == null ? 1 : args.num_users;
    $("spawn_rate").value = ui.spawnRate;
    $("host").value = args.host || "";
    $("run_time").value = args.run_time || "";
    const profiles = Array.isArray(args.available_profiles) ? args.available_profiles : [];
    const select = $("profile");
    select.append(el("option", { value: "" }, "(none)"));
    for (const name of profiles) select.append(el("option", { value: name }, name));
    select.value = args.profile && profiles.includes(args.profile) ? args.profile : "";
    select.hidden = $("profile-label").hidden = profiles.length === 0;
    const list = $("user-class-list");
    const classes = Array.isArray(args.available_user_classes) ? args.available_user_classes : [];
    for (const name of classes) {
      const box = el("input", { type: "checkbox", name: "user_classes", value: name });
      box.checked = true;
      list.append(el("label", {}, box, name));
    }
    $("user-classes").hidden = classes.length === 0;
    // Locust's key: the full-history CSV exists only with --csv-full-history.
    if (args.stats_history_enabled === false) $("dl-history").parentElement.hidden = true;
    $("toggle-classes").addEventListener("click", () => {
      const boxes = classBoxes();
      const all = boxes.every((b) => b.checked);
      for (const b of boxes) b.checked = !all;
    });
    $("swarm-form").addEventListener("submit", onStart);
    $("cancel-new-button").addEventListener("click", () => {
      ui.showForm = false;
      render();
    });
  }

  const classBoxes = () => Array.from(document.querySelectorAll('#user-class-list input[type="checkbox"]'));

  async function onStart(event) {
    event.preventDefault();
    const form = new URLSearchParams();
    form.append("user_count", $("user_count").value.trim());
    form.append("spawn_rate", $("spawn_rate").value.trim());
    form.append("host", $("host").value.trim());
    form.append("run_time", $("run_time").value.trim());
    if (!$("profile").hidden && $("profile").value) form.append("profile", $("profile").value);
    const boxes = classBoxes();
    const picked = boxes.filter((b) => b.checked).map((b) => b.value);
    if (boxes.length > 0 && picked.length === 0) {
      showMessage("form-message", "Select at least one user class.");
      return;
    }
    // Every class checked: send none, which runs every class.
    if (picked.length < boxes.length) for (const name of picked) form.append("user_classes", name);
    $("start-button").disabled = true;
    try {
      const answer = await post("/swarm", form);
      if (!answer.success) {
        showMessage("form-message", answer.message || "The server refused the test.");
        return;
      }
      showMessage("form-message", "");
      ui.history = [];
      ui.showForm = false;
      ui.state = "spawning";
      ui.spawnRate = $("spawn_rate").value.trim();
      showHost(answer.host == null ? $("host").value.trim() : answer.host);
      renderCharts();
      render();
      pollNow();
    } catch (error) {
      showMessage("form-message", "Could not start the test: " + error.message);
    } finally {
      $("start-button").disabled = false;
    }
  }

  // ---- edit, stop, reset ---------------------------------------------------------------

  function initActions() {
    $("new-test-button").addEventListener("click", () => {
      ui.showForm = true;
      render();
    });
    $("edit-button").addEventListener("click", () => {
      $("edit_user_count").value = ui.userCount;
      $("edit_spawn_rate").value = ui.spawnRate;
      showMessage("edit-message", "");
      ui.editing = true;
      render();
    });
    $("edit-cancel").addEventListener("click", () => {
      ui.editing = false;
      render();
    });
    $("edit-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = new URLSearchParams();
      form.append("user_count", $("edit_user_count").value.trim());
      form.append("spawn_rate", $("edit_spawn_rate").value.trim());
      try {
        const answer = await post("/swarm", form);
        if (!answer.success) return showMessage("edit-message", answer.message || "The server refused the change.");
        ui.spawnRate = $("edit_spawn_rate").value.trim();
        ui.editing = false;
        render();
        pollNow();
      } catch (error) {
        showMessage("edit-message", "Could not change the test: " + error.message);
      }
    });
    $("stop-button").addEventListener("click", () => action("/stop", "stop the test"));
    $("reset-button").addEventListener("click", () => action("/stats/reset", "reset the statistics"));
    for (const tab of document.querySelectorAll(".tabs button")) {
      tab.addEventListener("click", () => selectTab(tab.dataset.tab));
    }
  }

  async function action(path, what) {
    try {
      await post(path);
      notice("");
    } catch (error) {
      notice("Could not " + what + ": " + error.message);
    }
    pollNow();
  }

  function selectTab(name) {
    for (const tab of document.querySelectorAll(".tabs button")) tab.classList.toggle("active", tab.dataset.tab === name);
    for (const panel of document.querySelectorAll(".tab")) panel.hidden = panel.id !== "tab-" + name;
  }

  /** Shows what fits the state: the form before a test, the dashboard once one ran. */
  function render() {
    const active = ACTIVE.includes(ui.state);
    const ready = ui.state === "ready";
    if (active) ui.showForm = false;
    if (!active) ui.editing = false;
    const status = $("status");
    status.textContent = ui.state.toUpperCase();
    status.dataset.state = ui.state;
    document.body.dataset.state = ui.state;
    $("start-panel").hidden = !(ready || ui.showForm);
    $("start-title").textContent = ready ? "Start new load test" : "Start a new load test";
    $("cancel-new-button").hidden = ready;
    $("dashboard").hidden = ready;
    $("edit-panel").hidden = !ui.editing;
    $("new-test-button").hidden = !(ui.state === "stopped" && !ui.showForm);
    $("edit-button").hidden = !active || ui.editing;
    $("stop-button").hidden = !active;
    $("reset-button").hidden = ready;
  }

  // ---- polling -------------------------------------------------------------------------

  async function poll() {
    if (ui.polling) {
      ui.pollAgain = true;
      return;
    }
    ui.polling = true;
    clearTimeout(ui.timer);
    try {
      const [stats, exceptions, logs] = await Promise.all([
        getJson("/stats/requests"),
        getJson("/exceptions").catch(() => null),
        getJson("/logs").catch(() => null),
      ]);
      onStats(stats);
      if (exceptions) renderExceptions(exceptions.exceptions || []);
      if (logs) renderLogs(logs);
      if (!$("connection").textContent.startsWith("Could not")) notice("");
    } catch (error) {
      notice("Lost contact with the server (" + error.message + "); retrying every 2 s.");
    } finally {
      ui.polling = false;
      if (ui.pollAgain) {
        ui.pollAgain = false;
        ui.timer = setTimeout(poll, 0);
      } else {
        ui.timer = setTimeout(poll, POLL_MS);
      }
    }
  }

  const pollNow = () => poll();

  function onStats(s) {
    ui.state = s.state || ui.state;
    ui.userCount = Number(s.user_count) || 0;
    $("user-count-value").textContent = int(s.user_count);
    $("rps-value").textContent = short(s.current_rps);
    $("fail-value").textContent = pct(s.fail_ratio || 0);
    renderStats(s.stats || []);
    renderErrors(s.errors || []);
    renderCacheAndInstances(s.cache || {}, s.instances || []);
    if (ACTIVE.includes(ui.state)) {
      ui.history.push(pointFrom(s));
      if (ui.history.length > MAX_POINTS) ui.history.shift();
    }
    renderCharts();
    render();
  }

  /** One chart point from /stats/requests, shaped like the server's history points. */
  function pointFrom(s) {
    const rows = s.stats || [];
    const total = rows.length ? rows[rows.length - 1] : {};
    const current = s.current_response_time_percentiles || {};
    const cache = s.cache || {};
    const shares = {};
    for (const i of s.instances || []) shares[i.id] = i.share;
    return {
      time: Date.now() / 1000,
      user_count: s.user_count,
      current_rps: s.current_rps,
      current_fail_per_sec: s.current_fail_per_sec,
      p50: current["response_time_percentile_0.5"] ?? null,
      p95: current["response_time_percentile_0.95"] ?? null,
      total_avg: total.num_requests ? total.avg_response_time ?? null : null,
      cache_hit_ratio: cache.hit_ratio ?? null,
      cache_hit_ms: cache.hit_ms ?? null,
      cache_miss_ms: cache.miss_ms ?? null,
      shares,
    };
  }

  // ---- tables --------------------------------------------------------------------------

  /** A table row; each cell is [value, class], value a string or a node. */
  function row(cells, className) {
    const tr = el("tr", className ? { class: className } : {});
    for (const [value, kind] of cells) tr.append(el("td", kind ? { class: kind } : {}, value));
    return tr;
  }

  function renderStats(stats) {
    const rows = stats.map((e, i) =>
      row(
        [
          [e.method || "", "text method"],
          [e.name, "text"],
          [int(e.num_requests)],
          [int(e.num_failures)],
          [short(e.median_response_time)],
          [short(e["response_time_percentile_0.95"])],
          [short(e["response_time_percentile_0.99"])],
          [short(e.avg_response_time)],
          [short(e.min_response_time)],
          [short(e.max_response_time)],
          [int(e.avg_content_length)],
          [short(e.current_rps)],
          [short(e.current_fail_per_sec)],
        ],
        i === stats.length - 1 && e.name === "Aggregated" ? "total" : ""
      )
    );
    $("stats-table").tBodies[0].replaceChildren(...rows);
  }

  function renderErrors(errors) {
    const rows = errors.map((e) => row([[int(e.occurrences)], [e.method, "text method"], [e.name, "text"], [el("pre", {}, e.error), "text"]]));
    $("errors-table").tBodies[0].replaceChildren(...rows);
    $("errors-table").hidden = errors.length === 0;
    $("errors-empty").hidden = errors.length > 0;
    $("failures-count").textContent = errors.length ? String(errors.length) : "";
  }

  function renderExceptions(exceptions) {
    const rows = exceptions.map((e) =>
      row([[int(e.count)], [el("pre", {}, e.msg), "text"], [el("pre", {}, e.traceback), "text"], [e.nodes, "text"]])
    );
    $("exceptions-table").tBodies[0].replaceChildren(...rows);
    $("exceptions-table").hidden = exceptions.length === 0;
    $("exceptions-empty").hidden = exceptions.length > 0;
    $("exceptions-count").textContent = exceptions.length ? String(exceptions.length) : "";
  }

  function renderLogs(logs) {
    const box = $("logs");
    const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
    const lines = Array.isArray(logs.master) ? logs.master.slice() : [];
    for (const [worker, workerLines] of Object.entries(logs.workers || {})) {
      for (const line of workerLines || []) lines.push("[" + worker + "] " + line);
    }
    box.textContent = lines.length ? lines.join("\n") : "(no log lines yet)";
    if (atBottom) box.scrollTop = box.scrollHeight;
  }

  function renderCacheAndInstances(cache, instances) {
    $("cache-ratio-value").textContent = pct(cache.hit_ratio);
    $("cache-hit-value").textContent = ms(cache.hit_ms);
    $("cache-miss-value").textContent = ms(cache.miss_ms);
    $("cache-speedup-value").textContent = cache.speedup == null ? "\u2014" : short(cache.speedup) + "x";
    const rows = instances.map((i) => row([[i.id, "text"], [int(i.count)], [pct(i.share)]]));
    $("instances-table").tBodies[0].replaceChildren(...rows);
    $("instances-table").hidden = instances.length === 0;
  }

  // ---- charts (SVG, drawn here) --------------------------------------------------------

  const SVG = "http://www.w3.org/2000/svg";
  const W = 900, H = 280, LEFT = 70, RIGHT = 20, TOP = 56, BOTTOM = 46;

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

  /**
   * A line chart over time into `node` (an <svg>): title, legend with the latest value of
   * each line, y axis with units, x axis in local clock time, an optional dashed reference.
   * `spec`: {title, yLabel, format, yMax?, reference?: {value, label}, series: [{name, color, values}]}.
   */
  function lineChart(node, times, spec) {
    node.replaceChildren();
    node.setAttribute("viewBox", `0 0 ${W} ${H}`);
    node.setAttribute("data-points", String(times.length));
    svg(node, "rect", { x: 0, y: 0, width: W, height: H, fill: "#fff" });
    svg(node, "text", { x: LEFT, y: 20, "font-size": 15, "font-weight": "bold", fill: "#222" }, spec.title);
    let lx = LEFT;
    for (const s of spec.series) {
      const latest = [...s.values].reverse().find((v) => v != null && Number.isFinite(Number(v)));
      const label = s.name + ": " + (latest == null ? "\u2014" : spec.format(Number(latest)));
      const g = svg(node, "g", { class: "legend" });
      svg(g, "rect", { x: lx, y: 30, width: 14, height: 4, fill: s.color });
      svg(g, "text", { x: lx + 18, y: 36, "font-size": 12, fill: "#333" }, label);
      lx += 34 + 6.5 * label.length;
    }
    if (spec.reference) {
      const g = svg(node, "g", { class: "legend" });
      svg(g, "line", { x1: lx, y1: 32, x2: lx + 14, y2: 32, stroke: "#000", "stroke-dasharray": "4,3" });
      svg(g, "text", { x: lx + 18, y: 36, "font-size": 12, fill: "#333" }, spec.reference.label);
    }
    const plotW = W - LEFT - RIGHT;
    const plotH = H - TOP - BOTTOM;
    const x0 = times.length ? times[0] : Date.now() / 1000 - 60;
    const x1 = times.length > 1 && times[times.length - 1] > x0 ? times[times.length - 1] : x0 + 60;
    let top = spec.reference ? spec.reference.value : 0;
    for (const s of spec.series) for (const v of s.values) if (v != null && Number.isFinite(Number(v))) top = Math.max(top, Number(v));
    const yTop = spec.yMax || niceCeiling(top);
    const px = (t) => LEFT + ((t - x0) / (x1 - x0)) * plotW;
    const py = (v) => TOP + plotH - (Math.min(Math.max(v, 0), yTop) / yTop) * plotH;
    for (let i = 0; i <= 5; i++) {
      const v = (yTop * i) / 5;
      const y = py(v).toFixed(1);
      svg(node, "line", { x1: LEFT, y1: y, x2: LEFT + plotW, y2: y, stroke: "#e5e5e5" });
      svg(node, "text", { x: LEFT - 6, y: Number(y) + 4, "font-size": 11, "text-anchor": "end", fill: "#555" }, spec.format(v));
    }
    svg(node, "line", { x1: LEFT, y1: TOP, x2: LEFT, y2: TOP + plotH, stroke: "#333" });
    svg(node, "line", { x1: LEFT, y1: TOP + plotH, x2: LEFT + plotW, y2: TOP + plotH, stroke: "#333" });
    for (const t of timeTicks(x0, x1)) {
      svg(node, "text", { x: px(t).toFixed(1), y: TOP + plotH + 16, "font-size": 11, "text-anchor": "middle", fill: "#555" }, clock(t));
    }
    svg(node, "text", { x: LEFT + plotW / 2, y: TOP + plotH + 36, "font-size": 12, "text-anchor": "middle", fill: "#333" }, "time (local clock)");
    const my = TOP + plotH / 2;
    svg(node, "text", { x: 14, y: my, "font-size": 12, "text-anchor": "middle", fill: "#333", transform: `rotate(-90 14 ${my})` }, spec.yLabel);
    const hasData = spec.series.some((s) => s.values.some((v) => v != null));
    if (!hasData) {
      const msg = times.length ? "no data yet" : "no data yet: start a test";
      svg(node, "text", { x: LEFT + plotW / 2, y: my, "font-size": 13, "text-anchor": "middle", fill: "#888" }, msg);
    }
    if (spec.reference) {
      const y = py(spec.reference.value).toFixed(1);
      svg(node, "line", { x1: LEFT, y1: y, x2: LEFT + plotW, y2: y, stroke: "#000", "stroke-dasharray": "5,4" });
    }
    for (const s of spec.series) {
      // A gap (null) splits a line; a lone point is drawn as a dot.
      let segment = [];
      const flush = () => {
        if (segment.length === 1) {
          const [x, y] = segment[0];
          svg(node, "circle", { cx: x, cy: y, r: 2.5, fill: s.color });
        } else if (segment.length > 1) {
          const points = segment.map(([x, y]) => x + "," + y).join(" ");
          svg(node, "polyline", { class: "series", points, fill: "none", stroke: s.color, "stroke-width": 2 });
        }
        segment = [];
      };
      s.values.forEach((v, i) => {
        if (v == null || !Number.isFinite(Number(v))) return flush();
        segment.push([px(times[i]).toFixed(1), py(Number(v)).toFixed(1)]);
      });
      flush();
    }
  }

  function renderCharts() {
    const h = ui.history;
    const times = h.map((p) => Number(p.time));
    const line = (name, color, f) => ({ name, color, values: h.map(f) });
    lineChart($("chart-rps"), times, {
      title: "Total Requests per Second",
      yLabel: "requests / s",
      format: short,
      series: [line("RPS", PALETTE[2], (p) => p.current_rps), line("Failures/s", PALETTE[1], (p) => p.current_fail_per_sec)],
    });
    lineChart($("chart-response-times"), times, {
      title: "Response Times (ms)",
      yLabel: "response time (ms)",
      format: ms,
      series: [
        line("50th percentile", PALETTE[0], (p) => p.p50),
        line("95th percentile", PALETTE[3], (p) => p.p95),
        line("Average (whole run)", PALETTE[4], (p) => p.total_avg),
      ],
    });
    lineChart($("chart-users"), times, {
      title: "Number of Users",
      yLabel: "users",
      format: short,
      series: [line("Users", PALETTE[0], (p) => p.user_count)],
    });
    lineChart($("chart-cache"), times, {
      title: "Cache hit ratio",
      yLabel: "hit ratio",
      format: pct,
      yMax: 1,
      series: [line("hit ratio", PALETTE[2], (p) => p.cache_hit_ratio)],
    });
    lineChart($("chart-cache-latency"), times, {
      title: "Cache hit vs miss response time",
      yLabel: "response time (ms)",
      format: ms,
      series: [line("hit", PALETTE[2], (p) => p.cache_hit_ms), line("miss", PALETTE[1], (p) => p.cache_miss_ms)],
    });
    const ids = [...new Set(h.flatMap((p) => Object.keys(p.shares || {})))].sort();
    lineChart($("chart-instances"), times, {
      title: "Distribution per instance (share of responses)",
      yLabel: "share of responses",
      format: pct,
      reference: ids.length > 1 ? { value: 1 / ids.length, label: "even share " + pct(1 / ids.length) } : null,
      series: ids.map((id, i) => line(id, PALETTE[i % PALETTE.length], (p) => (p.shares || {})[id] ?? null)),
    });
  }

  // ---- start ---------------------------------------------------------------------------

  showHost(args.host || "");
  $("user-count-value").textContent = int(ui.userCount);
  initForm();
  initActions();
  renderCharts();
  render();
  poll();
})();
