// locust-rs web UI, tables: a table drawn from column definitions, sortable by any
// column (click a header: ascending, again: descending; a pinned row such as
// Aggregated stays last) with a column chooser; the sort and the hidden columns are
// remembered in localStorage. Cells reach the DOM through textContent (or a node the
// caller built the same way), never as markup.
"use strict";

window.LocustTables = (function () {
  function remember(key, fallback) {
    try {
      const text = localStorage.getItem(key);
      return text == null ? fallback : JSON.parse(text);
    } catch (_) {
      return fallback;
    }
  }

  function store(key, value) {
    try {
      localStorage.setItem(key, JSON.stringify(value));
    } catch (_) {
      // Private windows may refuse storage: the table still works, it just forgets.
    }
  }

  /** Numbers before text, text by locale; null and "" last. */
  function compare(a, b) {
    const emptyA = a == null || a === "", emptyB = b == null || b === "";
    if (emptyA || emptyB) return emptyA === emptyB ? 0 : emptyA ? 1 : -1;
    if (typeof a === "number" && typeof b === "number") return a - b;
    return String(a).localeCompare(String(b), undefined, { numeric: true });
  }

  /**
   * options: {table, key (for localStorage), columns: [{key, title, text?, value(row),
   * cell?(row)}], pinned?(row, index, rows), chooser? (element for the column chooser),
   * rowClass?(row, index, rows)}.
   */
  function create(options) {
    const { table, columns } = options;
    const state = {
      sort: remember(options.key + ".sort", null),
      hidden: new Set(remember(options.key + ".hidden", [])),
      rows: [],
    };
    const visible = () => columns.filter((c) => !state.hidden.has(c.key));

    function header() {
      const tr = document.createElement("tr");
      for (const column of visible()) {
        const th = document.createElement("th");
        th.className = (column.text ? "text " : "") + "sortable";
        th.dataset.key = column.key;
        th.tabIndex = 0;
        th.title = "Sort by " + column.title;
        const sorted = state.sort && state.sort.key === column.key;
        th.setAttribute("aria-sort", sorted ? (state.sort.desc ? "descending" : "ascending") : "none");
        th.textContent = column.title + (sorted ? (state.sort.desc ? " \u25BC" : " \u25B2") : "");
        const toggle = () => {
          state.sort = { key: column.key, desc: sorted ? !state.sort.desc : false };
          store(options.key + ".sort", state.sort);
          draw();
        };
        th.addEventListener("click", toggle);
        th.addEventListener("keydown", (e) => {
          if (e.key === "Enter" || e.key === " ") {
            e.preventDefault();
            toggle();
          }
        });
        tr.append(th);
      }
      table.tHead.replaceChildren(tr);
    }

    function ordered() {
      const rows = state.rows.map((row, index) => ({ row, index }));
      const pinned = options.pinned ? rows.filter((r) => options.pinned(r.row, r.index, state.rows)) : [];
      const free = rows.filter((r) => !pinned.includes(r));
      const column = state.sort && columns.find((c) => c.key === state.sort.key);
      if (column) {
        free.sort((a, b) => {
          const order = compare(column.value(a.row), column.value(b.row));
          return (state.sort.desc ? -order : order) || a.index - b.index;
        });
      }
      return free.concat(pinned);
    }

    function draw() {
      header();
      const body = ordered().map(({ row, index }) => {
        const tr = document.createElement("tr");
        const cls = options.rowClass ? options.rowClass(row, index, state.rows) : "";
        if (cls) tr.className = cls;
        for (const column of visible()) {
          const td = document.createElement("td");
          if (column.text) td.className = column.className || "text";
          const content = column.cell ? column.cell(row) : column.value(row);
          td.append(content instanceof Node ? content : document.createTextNode(content == null ? "" : String(content)));
          tr.append(td);
        }
        return tr;
      });
      table.tBodies[0].replaceChildren(...body);
    }

    function chooser(container) {
      const details = document.createElement("details");
      details.className = "column-chooser";
      const summary = document.createElement("summary");
      summary.textContent = "Columns";
      details.append(summary);
      const list = document.createElement("div");
      list.className = "column-list";
      for (const column of columns) {
        const box = document.createElement("input");
        box.type = "checkbox";
        box.value = column.key;
        box.checked = !state.hidden.has(column.key);
        box.addEventListener("change", () => {
          if (box.checked) state.hidden.delete(column.key);
          else state.hidden.add(column.key);
          // At least one column stays.
          if (visible().length === 0) {
            state.hidden.delete(column.key);
            box.checked = true;
          }
          store(options.key + ".hidden", [...state.hidden]);
          draw();
        });
        const label = document.createElement("label");
        label.append(box, document.createTextNode(column.title));
        list.append(label);
      }
      details.append(list);
      container.replaceChildren(details);
    }

    if (options.chooser) chooser(options.chooser);
    draw();
    return {
      render(rows) {
        state.rows = rows;
        draw();
      },
    };
  }

  return { create, compare };
})();
