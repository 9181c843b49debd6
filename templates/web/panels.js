// locust-rs web UI, panels: the number formats, and the tables and lists the page fills
// from the REST API: statistics and failures (sortable, tables.js), exceptions, logs
// (with the marker of errors logged since the Logs tab was last open), the current
// ratio (/tasks), the cache and per-instance figures. Every value reaches the DOM as
// text (textContent, text nodes), never as markup.
"use strict";

window.LocustPanels = (function () {
  const $ = (id) => document.getElementById(id);

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
  const num = (v) => (v == null || !Number.isFinite(Number(v)) ? null : Number(v));

  function clockTime(seconds) {
    if (seconds == null) return "\u2014";
    const d = new Date(Number(seconds) * 1000);
    return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
  }

  // ---- tables and lists ----------------------------------------------------------------

  const col = (key, title, value, cell, text) => ({ key, title, value, cell, text });
  const tables = {};

  function initTables() {
    const T = window.LocustTables;
    tables.stats = T.create({
      table: $("stats-table"),
      key: "locust-rs.stats",
      chooser: $("stats-columns"),
      columns: [
        { ...col("method", "Type", (e) => e.method || "", null, true), className: "text method" },
        col("name", "Name", (e) => e.name, null, true),
        col("num_requests", "# Requests", (e) => num(e.num_requests), (e) => int(e.num_requests)),
        col("num_failures", "# Fails", (e) => num(e.num_failures), (e) => int(e.num_failures)),
        col("median", "Median (ms)", (e) => num(e.median_response_time), (e) => short(e.median_response_time)),
        col("p95", "95%ile (ms)", (e) => num(e["response_time_percentile_0.95"]), (e) => short(e["response_time_percentile_0.95"])),
        col("p99", "99%ile (ms)", (e) => num(e["response_time_percentile_0.99"]), (e) => short(e["response_time_percentile_0.99"])),
        col("avg", "Average (ms)", (e) => num(e.avg_response_time), (e) => short(e.avg_response_time)),
        col("min", "Min (ms)", (e) => num(e.min_response_time), (e) => short(e.min_response_time)),
        col("max", "Max (ms)", (e) => num(e.max_response_time), (e) => short(e.max_response_time)),
        col("size", "Average size (bytes)", (e) => num(e.avg_content_length), (e) => int(e.avg_content_length)),
        col("rps", "Current RPS", (e) => num(e.current_rps), (e) => short(e.current_rps)),
        col("fails_s", "Current Failures/s", (e) => num(e.current_fail_per_sec), (e) => short(e.current_fail_per_sec)),
      ],
      // Aggregated (the server's last row) stays last whatever the order.
      pinned: (e, i, rows) => i === rows.length - 1 && e.name === "Aggregated",
      rowClass: (e, i, rows) => (i === rows.length - 1 && e.name === "Aggregated" ? "total" : ""),
    });
    tables.errors = T.create({
      table: $("errors-table"),
      key: "locust-rs.errors",
      columns: [
        col("occurrences", "# Failures", (e) => num(e.occurrences), (e) => int(e.occurrences)),
        { ...col("method", "Method", (e) => e.method || "", null, true), className: "text method" },
        col("name", "Name", (e) => e.name, null, true),
        col("error", "Message", (e) => e.error, (e) => el("pre", {}, e.error), true),
        { ...col("first_seen", "First seen", (e) => num(e.first_seen), (e) => clockTime(e.first_seen), true), className: "text time" },
        { ...col("last_seen", "Last seen", (e) => num(e.last_seen), (e) => clockTime(e.last_seen), true), className: "text time" },
      ],
    });
  }

  function renderErrors(errors) {
    tables.errors.render(errors);
    $("errors-table").hidden = errors.length === 0;
    $("errors-empty").hidden = errors.length > 0;
    $("failures-count").textContent = errors.length ? String(errors.length) : "";
  }

  function row(cells) {
    const tr = el("tr", {});
    for (const [value, kind] of cells) tr.append(el("td", kind ? { class: kind } : {}, value));
    return tr;
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

  // Error log lines already seen on the Logs tab, and the number of error lines now.
  const marker = { seen: null, lines: 0 };

  /** The Logs tab was opened: its error lines are seen. */
  function logsOpened() {
    marker.seen = marker.lines;
    $("logs-count").textContent = "";
  }

  /** Locust's log format: "[time] host/LEVEL/logger: message". */
  const isError = (line) => /\/(ERROR|CRITICAL)\//.test(line);

  function renderLogs(logs) {
    const box = $("logs");
    const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
    const lines = Array.isArray(logs.master) ? logs.master.slice() : [];
    for (const [worker, workerLines] of Object.entries(logs.workers || {})) {
      for (const line of workerLines || []) lines.push("[" + worker + "] " + line);
    }
    box.replaceChildren(
      ...(lines.length ? lines : ["(no log lines yet)"]).map((line) =>
        el("span", isError(line) ? { class: "log-error" } : {}, line + "\n")
      )
    );
    if (atBottom) box.scrollTop = box.scrollHeight;
    // The marker counts the error lines logged since the Logs tab was last open (the
    // server keeps the last 500 lines, so the count of those is what can be compared).
    marker.lines = lines.filter(isError).length;
    if (marker.seen == null || marker.seen > marker.lines) marker.seen = 0;
    const onLogs = !$("tab-logs").hidden && !$("dashboard").hidden;
    if (onLogs) marker.seen = marker.lines;
    const fresh = marker.lines - marker.seen;
    $("logs-count").textContent = fresh > 0 ? String(fresh) : "";
  }

  /** The Current ratio tab: each class's share, and its tasks' shares, from /tasks. */
  function renderRatios(tasks) {
    const tree = (classes) => {
      const names = Object.keys(classes || {});
      if (!names.length) return el("p", { class: "empty" }, "No user classes.");
      const list = el("ul", { class: "ratio-list" });
      for (const name of names) {
        const cls = classes[name] || {};
        const item = el("li", {}, el("strong", {}, pct(cls.ratio)), " " + name);
        const inner = el("ul", {});
        for (const [task, value] of Object.entries(cls.tasks || {})) {
          inner.append(el("li", {}, el("span", { class: "ratio-value" }, pct(value && value.ratio)), " " + task));
        }
        item.append(inner);
        list.append(item);
      }
      return list;
    };
    $("ratio-per-class").replaceChildren(tree(tasks.per_class));
    $("ratio-total").replaceChildren(tree(tasks.total));
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

  return {
    el,
    format: { short, ms, pct, int },
    init: initTables,
    stats: (rows) => tables.stats.render(rows),
    errors: renderErrors,
    exceptions: renderExceptions,
    logs: renderLogs,
    logsOpened,
    ratios: renderRatios,
    cacheAndInstances: renderCacheAndInstances,
  };
})();
