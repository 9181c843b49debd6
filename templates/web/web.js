// locust-rs web UI: the start form, the state, the polling, the tabs and the theme. Plain
// JavaScript, no build step, no library, nothing from the network (charts.js, tables.js
// and panels.js, which draw the charts and fill the tables, are this page's own). It
// reads window.templateArgs (written by the server into index.html), then polls the
// REST API every 2 s (stats/requests, exceptions, logs, tasks, and /test: the running
// test's numbers, planned load and stage). Every value from the server
// reaches the DOM through textContent or setAttribute, never as markup, so a host or
// request name with HTML in it shows as text. Request URLs are built from
// location.origin, which never carries the user:password@ of the address bar: Chromium
// refuses a fetch to a URL with credentials, and the browser sends the basic auth it
// was given for the page anyway.
"use strict";

(function () {
  const args = window.templateArgs || {};
  const root = location.origin + String(window.basePath || "").replace(/\/+$/, "");
  const POLL_MS = 2000;
  const MAX_POINTS = 20000;
  // The report's palette (src/report/svg.rs), in legend order.
  const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
  const ACTIVE = ["spawning", "running"];
  const TABS = ["stats", "charts", "failures", "exceptions", "ratio", "logs", "download"];
  const profiles = args.profiles && typeof args.profiles === "object" ? args.profiles : {};

  const ui = {
    state: args.state || "ready",
    history: Array.isArray(args.history) ? args.history.slice(-MAX_POINTS) : [],
    test: args.last_test || null,
    showForm: false,
    editing: false,
    userCount: Number(args.user_count) || 0,
    timer: null,
    polling: false,
    pollAgain: false,
  };

  const $ = (id) => document.getElementById(id);

  const { el } = window.LocustPanels;
  const { short, ms, pct, int } = window.LocustPanels.format;
  const panels = window.LocustPanels;

  async function getJson(path) {
    const response = await fetch(root + path, { cache: "no-store" });
    if (!response.ok) throw new Error(path + ": HTTP " + response.status);
    return response.json();
  }

  async function post(path, form) {
    const init = { method: "POST" };
    if (form) init.body = form; // URLSearchParams: sent as application/x-www-form-urlencoded
    const response = await fetch(root + path, init);
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

  // ---- theme ---------------------------------------------------------------------------

  const THEME_KEY = "locust-rs.theme";

  function storedTheme() {
    try {
      return localStorage.getItem(THEME_KEY);
    } catch (_) {
      return null;
    }
  }

  function applyTheme(theme) {
    document.documentElement.dataset.theme = theme;
    $("theme-button").textContent = theme === "dark" ? "Light mode" : "Dark mode";
    window.LocustCharts.redrawAll();
  }

  function initTheme() {
    applyTheme(document.documentElement.dataset.theme === "dark" ? "dark" : "light");
    $("theme-button").addEventListener("click", () => {
      const next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
      try {
        localStorage.setItem(THEME_KEY, next);
      } catch (_) {
        // Not remembered in a private window; the switch still applies.
      }
      applyTheme(next);
    });
    // The system's setting is followed until the toggle has been used.
    if (window.matchMedia) {
      matchMedia("(prefers-color-scheme: dark)").addEventListener("change", (event) => {
        if (!storedTheme()) applyTheme(event.matches ? "dark" : "light");
      });
    }
  }

  // ---- the start form ------------------------------------------------------------------

  /** The form's values: the last test's when there was one, else the command line's. */
  function fillForm(from) {
    const last = from || {};
    $("user_count").value = last.users != null ? last.users : args.num_users == null ? 1 : args.num_users;
    $("spawn_rate").value = last.spawn_rate != null ? last.spawn_rate : args.spawn_rate == null ? 1 : args.spawn_rate;
    $("host").value = last.host || args.host || "";
    $("run_time").value = from ? last.run_time || "" : args.run_time || "";
    const select = $("profile");
    const profile = from ? last.profile : args.profile;
    if (profile && profiles[profile]) select.value = profile;
    else if (!args.profile) select.value = "";
    if (Array.isArray(last.user_classes) && last.user_classes.length) {
      for (const box of classBoxes()) box.checked = last.user_classes.includes(box.value);
    }
    describeProfile(false);
  }

  function initForm() {
    const names = Array.isArray(args.available_profiles) ? args.available_profiles : [];
    const select = $("profile");
    // Started with --profile, an empty choice would mean that same profile: not offered.
    if (!args.profile) select.append(el("option", { value: "" }, "(none)"));
    for (const name of names) select.append(el("option", { value: name }, name));
    select.hidden = $("profile-label").hidden = names.length === 0;
    const list = $("user-class-list");
    const classes = Array.isArray(args.available_user_classes) ? args.available_user_classes : [];
    for (const name of classes) {
      const box = el("input", { type: "checkbox", name: "user_classes", value: name });
      box.checked = true;
      list.append(el("label", {}, box, name));
    }
    $("user-classes").hidden = classes.length === 0;
    fillForm(ui.test);
    // Locust's key: the full-history CSV exists only with --csv-full-history.
    if (args.stats_history_enabled === false) $("dl-history").parentElement.hidden = true;
    $("toggle-classes").addEventListener("click", () => {
      const boxes = classBoxes();
      const all = boxes.every((b) => b.checked);
      for (const b of boxes) b.checked = !all;
    });
    select.addEventListener("change", () => describeProfile(true));
    $("swarm-form").addEventListener("submit", onStart);
    $("cancel-new-button").addEventListener("click", () => {
      ui.showForm = false;
      render();
    });
  }

  /**
   * Says what the chosen profile does; `fill`: its users, spawn rate and run time go in
   * the fields. A profile whose stages, arrival rate or phases drive the load locks the
   * numbers (they would be unused).
   */
  function describeProfile(fill) {
    const name = $("profile").value;
    const p = profiles[name];
    const note = $("profile-note");
    const locked = !!p && ["stages", "arrival", "phases"].includes(p.kind);
    for (const id of ["user_count", "spawn_rate"]) {
      $(id).readOnly = locked;
      $(id).classList.toggle("locked", locked);
    }
    if (!p) {
      note.hidden = true;
      return;
    }
    if (fill && p.kind !== "error") {
      $("user_count").value = p.users;
      $("spawn_rate").value = p.spawn_rate;
      $("run_time").value = p.run_time || "";
    }
    const what = {
      stages: "Its stages set the users (the numbers above are not used); the run ends after the last stage.",
      arrival: "Its arrival rate starts iterations (the numbers above are not used); the run ends with the schedule.",
      phases: "Runs its phases in turn, each with its own profile: " + (p.phases || []).join(", ") + ".",
      users: "",
      error: "This profile cannot run: " + p.error,
    }[p.kind];
    const description = p.description ? String(p.description).replace(/([^.!?])$/, "$1.") : "";
    note.textContent = [description, what].filter(Boolean).join(" ");
    note.hidden = !note.textContent;
    previewPlan(p.plan);
  }

  /** A small drawing of a profile's planned load under its description. */
  function previewPlan(plan) {
    const node = $("profile-preview");
    const points = plan && Array.isArray(plan.points) ? plan.points : [];
    node.replaceChildren();
    // An <svg> has no `hidden` property (HTML elements have): the attribute itself.
    const none = points.length < 2 || plan.kind === "ramp";
    node.toggleAttribute("hidden", none);
    if (none) return;
    const [w, h, pad] = [320, 64, 4];
    const end = points[points.length - 1][0] || 1;
    const top = Math.max(...points.map((p) => p[1]), 1);
    const x = (t) => (pad + (t / end) * (w - 2 * pad)).toFixed(1);
    const y = (v) => (h - pad - (v / top) * (h - 2 * pad)).toFixed(1);
    const add = (tag, attrs) => {
      const child = document.createElementNS("http://www.w3.org/2000/svg", tag);
      for (const [key, value] of Object.entries(attrs)) child.setAttribute(key, String(value));
      node.append(child);
    };
    node.setAttribute("viewBox", `0 0 ${w} ${h}`);
    for (const s of plan.stages || []) add("line", { x1: x(s.end), y1: pad, x2: x(s.end), y2: h - pad, class: "bound" });
    add("polyline", { points: points.map(([t, v]) => x(t) + "," + y(v)).join(" "), class: "planned" });
    const label = plan.unit === "users" ? "users" : "iterations/s";
    const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
    title.textContent = "Planned " + label + ": up to " + top + " over " + end + " s";
    node.append(title);
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
      ui.test = null;
      ui.showForm = false;
      ui.state = "spawning";
      showHost(answer.host == null ? $("host").value.trim() : answer.host);
      window.LocustCharts.reset();
      renderCharts();
      render();
      pollNow();
    } catch (error) {
      showMessage("form-message", "Could not start the test: " + error.message);
    } finally {
      $("start-button").disabled = false;
    }
  }

  // ---- edit, stop, reset, tabs ---------------------------------------------------------

  function initActions() {
    $("new-test-button").addEventListener("click", () => {
      fillForm(ui.test);
      ui.showForm = true;
      render();
    });
    $("edit-button").addEventListener("click", () => {
      // The running test's numbers (the server's, so a reload keeps them), not the form's.
      const test = ui.test || {};
      $("edit_user_count").value = test.users != null ? test.users : ui.userCount;
      $("edit_spawn_rate").value = test.spawn_rate != null ? test.spawn_rate : $("spawn_rate").value;
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
      tab.addEventListener("click", () => selectTab(tab.dataset.tab, true));
    }
    window.addEventListener("hashchange", () => selectTab(tabFromHash(), false));
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

  const tabFromHash = () => {
    const name = decodeURIComponent(location.hash.replace(/^#/, ""));
    return TABS.includes(name) ? name : "stats";
  };

  /** Shows a tab; `remember`: the address bar says which (#charts), so a reload keeps it. */
  function selectTab(name, remember) {
    for (const tab of document.querySelectorAll(".tabs button")) {
      tab.classList.toggle("active", tab.dataset.tab === name);
      tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
    }
    for (const panel of document.querySelectorAll(".tab")) panel.hidden = panel.id !== "tab-" + name;
    if (remember && location.hash !== "#" + name) history.replaceState(null, "", "#" + name);
    if (name === "logs") panels.logsOpened();
    if (name === "charts") renderCharts();
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
    const editable = !ui.test || ui.test.editable !== false;
    $("edit-button").hidden = !active || ui.editing || !editable;
    $("stop-button").hidden = !active;
    $("reset-button").hidden = ready;
    renderShape();
  }

  /** The header's stage or phase in progress. */
  function renderShape() {
    const test = ui.test;
    const stage = test && test.stage;
    const phase = test && test.phase;
    const parts = [];
    if (phase) parts.push("phase " + phase.index + "/" + phase.count + ": " + phase.name);
    if (stage) parts.push("stage " + stage.index + "/" + stage.count + ": " + stage.label);
    else if (test && test.plan && ACTIVE.includes(ui.state)) parts.push("after the last stage");
    $("shape-label").textContent = phase ? "Phase" + (stage ? " / stage" : "") : "Stage";
    $("stage-value").textContent = parts.join(" \u00B7 ");
    $("stage-value").title = parts.join("\n");
    $("shape-figure").hidden = parts.length === 0 || !ACTIVE.includes(ui.state);
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
      const [stats, exceptions, logs, test, tasks] = await Promise.all([
        getJson("/stats/requests"),
        getJson("/exceptions").catch(() => null),
        getJson("/logs").catch(() => null),
        getJson("/test").catch(() => null),
        getJson("/tasks").catch(() => null),
      ]);
      if (test) ui.test = test.test;
      onStats(stats);
      if (exceptions) panels.exceptions(exceptions.exceptions || []);
      if (logs) panels.logs(logs);
      if (tasks) panels.ratios(tasks);
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
    panels.stats(s.stats || []);
    panels.errors(s.errors || []);
    panels.cacheAndInstances(s.cache || {}, s.instances || []);
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

  // ---- charts --------------------------------------------------------------------------

  /** The planned load of the current test, in epoch seconds, for `unit`'s chart. */
  function plannedFor(unit) {
    const test = ui.test;
    const plan = test && test.plan;
    if (!plan || plan.unit !== unit || test.started == null) return null;
    const start = Number(test.started);
    const bounds = [];
    for (const s of plan.stages || []) {
      if (!bounds.length) bounds.push(start + s.start);
      bounds.push(start + s.end);
    }
    return {
      label: unit === "users" ? "Planned users" : "Planned iterations/s",
      points: plan.points.map(([t, v]) => [start + t, v]),
      bounds,
    };
  }

  /** One time span for every chart: the measured points and the planned load. */
  function sharedRange(times, plans) {
    let from = times.length ? times[0] : Infinity;
    let to = times.length ? times[times.length - 1] : -Infinity;
    for (const plan of plans) {
      if (!plan || !plan.points.length) continue;
      from = Math.min(from, plan.points[0][0]);
      to = Math.max(to, plan.points[plan.points.length - 1][0]);
    }
    if (!Number.isFinite(from)) return null;
    return [from, to > from ? to : from + 60];
  }

  function renderCharts() {
    const h = ui.history;
    const times = h.map((p) => Number(p.time));
    const line = (name, color, f) => ({ name, color, values: h.map(f) });
    const plans = { users: plannedFor("users"), rate: plannedFor("iterations/s") };
    const range = sharedRange(times, [plans.users, plans.rate]);
    const draw = (id, spec) => window.LocustCharts.draw(id, times, { range, ...spec });
    draw("chart-rps", {
      title: "Total Requests per Second",
      yLabel: "requests / s",
      format: short,
      plan: plans.rate,
      series: [line("RPS", PALETTE[2], (p) => p.current_rps), line("Failures/s", PALETTE[1], (p) => p.current_fail_per_sec)],
    });
    draw("chart-response-times", {
      title: "Response Times (ms)",
      yLabel: "response time (ms)",
      format: ms,
      series: [
        line("50th percentile", PALETTE[0], (p) => p.p50),
        line("95th percentile", PALETTE[3], (p) => p.p95),
        line("Average (whole run)", PALETTE[4], (p) => p.total_avg),
      ],
    });
    draw("chart-users", {
      title: "Number of Users",
      yLabel: "users",
      format: short,
      plan: plans.users,
      series: [line("Users", PALETTE[0], (p) => p.user_count)],
    });
    draw("chart-cache", {
      title: "Cache hit ratio",
      yLabel: "hit ratio",
      format: pct,
      yMax: 1,
      series: [line("hit ratio", PALETTE[2], (p) => p.cache_hit_ratio)],
    });
    draw("chart-cache-latency", {
      title: "Cache hit vs miss response time",
      yLabel: "response time (ms)",
      format: ms,
      series: [line("hit", PALETTE[2], (p) => p.cache_hit_ms), line("miss", PALETTE[1], (p) => p.cache_miss_ms)],
    });
    const ids = [...new Set(h.flatMap((p) => Object.keys(p.shares || {})))].sort();
    draw("chart-instances", {
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
  window.LocustCharts.init();
  panels.init();
  initTheme();
  initForm();
  initActions();
  selectTab(tabFromHash(), false);
  renderCharts();
  render();
  poll();
})();
