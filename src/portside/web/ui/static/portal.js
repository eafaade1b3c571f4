// Portside portal: copy buttons, confirmations, the CLI secret, the vulnerability report and scan progress.
// API calls go with the session cookie and the page's CSRF token (X-Harbor-CSRF-Token).
"use strict";
(function () {
  const csrfToken = () => document.querySelector('meta[name="csrf-token"]').content;

  function api(method, url, body) {
    const headers = { "Accept": "application/json", "X-Harbor-CSRF-Token": csrfToken() };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(url, { method, headers, credentials: "same-origin",
                        body: body === undefined ? undefined : JSON.stringify(body) });
  }

  function text(tag, value, className) {
    const node = document.createElement(tag);
    node.textContent = value == null ? "" : String(value);
    if (className) node.className = className;
    return node;
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-copy]");
    if (!button) return;
    try {
      await navigator.clipboard.writeText(button.dataset.copy);
      button.textContent = "Copied";
    } catch (error) {
      button.textContent = "Select & copy";
    }
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  });

  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });

  function setupCliSecret() {
    const button = document.getElementById("cli-secret");
    if (!button) return;
    const result = document.getElementById("cli-secret-result");
    button.addEventListener("click", async () => {
      button.disabled = true;
      result.replaceChildren(text("p", "Generating…", "muted"));
      try {
        const response = await api("PUT", `/api/v2.0/users/${button.dataset.userId}/cli_secret`, { secret: "" });
        const body = await response.json();
        if (!response.ok) throw new Error((body.errors && body.errors[0].message) || response.statusText);
        const code = text("code", body.secret);
        code.id = "cli-secret-value";
        const copy = text("button", "Copy");
        copy.type = "button";
        copy.className = "subtle small";
        copy.dataset.copy = body.secret;
        const note = text("p", "Your new CLI secret (shown only now): ");
        note.append(code, " ", copy);
        result.replaceChildren(note);
      } catch (error) {
        result.replaceChildren(text("p", `Could not generate a CLI secret: ${error.message}`, "notice error"));
      } finally {
        button.disabled = false;
      }
    });
  }

  // --- the vulnerability report: a table sorted by clicking (or Enter/Space on) a column's
  // button, filtered by text and severity; the severity chart is rendered by the server.
  const SEVERITY_RANK = { Critical: 5, High: 4, Medium: 3, Low: 2, Negligible: 1, Unknown: 0, None: -1 };
  const FILTER_SEVERITIES = ["Critical", "High", "Medium", "Low", "Unknown"];
  const COLUMNS = [
    { key: "id", title: "Vulnerability" },
    { key: "severity", title: "Severity" },
    { key: "package", title: "Package" },
    { key: "version", title: "Installed" },
    { key: "fix_version", title: "Fixed in" },
    { key: "description", title: "Description" },
  ];
  const DESCRIPTION_LIMIT = 240;

  function advisoryUrl(item) {
    const vendor = item.vendor_attributes || {};
    const osvId = vendor.advisory_id || item.id;
    if (osvId && /^[A-Za-z0-9._:-]+$/.test(osvId)) return `https://osv.dev/vulnerability/${encodeURIComponent(osvId)}`;
    const links = (item.links || []).filter((link) => /^https?:\/\//.test(link));
    return links.length ? links[0] : null;
  }

  function compare(key, a, b) {
    if (key === "severity") return (SEVERITY_RANK[a.severity] ?? 0) - (SEVERITY_RANK[b.severity] ?? 0);
    return String(a[key] || "").localeCompare(String(b[key] || ""), undefined, { numeric: true, sensitivity: "base" });
  }

  function reportRow(item) {
    const row = document.createElement("tr");
    row.dataset.severity = item.severity || "Unknown";
    const id = document.createElement("td");
    const url = advisoryUrl(item);
    if (url) {
      const link = text("a", item.id);
      link.href = url;
      link.rel = "noopener nofollow noreferrer";
      link.title = "The advisory";
      id.append(link);
    } else {
      id.textContent = item.id;
    }
    const severity = document.createElement("td");
    const swatch = document.createElement("i");
    swatch.className = `swatch sev-${String(item.severity || "unknown").toLowerCase()}`;
    swatch.setAttribute("aria-hidden", "true");
    severity.append(swatch, String(item.severity || "Unknown"));
    const full = String(item.description || "");
    const description = text("td", full.length > DESCRIPTION_LIMIT ? `${full.slice(0, DESCRIPTION_LIMIT)}…` : full,
                             "description");
    if (full.length > DESCRIPTION_LIMIT) description.title = full;
    row.append(id, severity, text("td", item.package), text("td", item.version), text("td", item.fix_version || "—"),
               description);
    return row;
  }

  function renderReport(container, report) {
    const items = (report.vulnerabilities || []).map((item) => ({ item, row: reportRow(item),
      haystack: [item.id, item.package, item.version, item.fix_version, item.description,
                 ...((item.vendor_attributes || {}).aliases || [])].join(" ").toLowerCase() }));
    const intro = text("p", `${items.length} vulnerabilities` +
                            (report.scanner ? ` · ${report.scanner.name} ${report.scanner.version || ""}` : "") +
                            (report.generated_at ? ` · ${report.generated_at}` : ""), "muted small");
    if (!items.length) {
      container.replaceChildren(intro, text("p", "No known vulnerabilities."));
      return;
    }
    const filters = document.createElement("div");
    filters.className = "report-filters";
    filters.setAttribute("role", "search");
    const search = document.createElement("input");
    search.type = "search";
    search.id = "report-filter";
    search.placeholder = "id, package, text…";
    const searchLabel = text("label", "Filter");
    searchLabel.htmlFor = search.id;
    const severity = document.createElement("select");
    severity.id = "report-severity";
    severity.append(text("option", "All severities"));
    severity.options[0].value = "";
    for (const name of FILTER_SEVERITIES) {
      const option = text("option", name);
      option.value = name;
      severity.append(option);
    }
    const severityLabel = text("label", "Severity");
    severityLabel.htmlFor = severity.id;
    const searchBox = document.createElement("div");
    searchBox.append(searchLabel, search);
    const severityBox = document.createElement("div");
    severityBox.append(severityLabel, severity);
    const shown = text("p", "", "muted small");
    shown.id = "report-shown";
    shown.setAttribute("aria-live", "polite");
    filters.append(searchBox, severityBox, shown);

    const table = document.createElement("table");
    table.className = "list compact report";
    table.id = "report-table";
    const caption = text("caption", "Vulnerabilities found in this artifact; choose a column heading to sort",
                         "visually-hidden");
    table.append(caption);
    const head = document.createElement("tr");
    const body = table.createTBody();
    const state = { key: null, descending: false };
    const headers = COLUMNS.map((column) => {
      const th = document.createElement("th");
      th.scope = "col";
      th.dataset.key = column.key;
      const button = text("button", column.title);
      button.type = "button";
      const arrow = text("span", "");
      arrow.setAttribute("aria-hidden", "true");
      button.append(" ", arrow);
      button.addEventListener("click", () => {
        state.descending = state.key === column.key ? !state.descending : column.key === "severity";
        state.key = column.key;
        sortRows();
      });
      th.append(button);
      head.append(th);
      return { th, arrow, key: column.key };
    });
    table.createTHead().append(head);

    function sortRows() {
      const sign = state.descending ? -1 : 1;
      const order = items.map((entry, index) => ({ entry, index }));
      // Stable: equal values keep the report's order (most severe first, then by package).
      order.sort((a, b) => sign * compare(state.key, a.entry.item, b.entry.item) || a.index - b.index);
      body.replaceChildren(...order.map(({ entry }) => entry.row));
      for (const header of headers) {
        const active = header.key === state.key;
        header.th.setAttribute("aria-sort", active ? (state.descending ? "descending" : "ascending") : "none");
        header.arrow.textContent = active ? (state.descending ? "▼" : "▲") : "";
      }
    }

    function applyFilters() {
      const words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      const wanted = severity.value;
      let count = 0;
      for (const entry of items) {
        const visible = (!wanted || entry.item.severity === wanted) && words.every((w) => entry.haystack.includes(w));
        entry.row.hidden = !visible;
        count += visible ? 1 : 0;
      }
      shown.textContent = count === items.length ? `Showing all ${items.length}` : `Showing ${count} of ${items.length}`;
    }

    search.addEventListener("input", applyFilters);
    severity.addEventListener("change", applyFilters);
    body.replaceChildren(...items.map((entry) => entry.row));
    for (const header of headers) header.th.setAttribute("aria-sort", "none");
    applyFilters();
    container.replaceChildren(intro, filters, table);
  }

  async function loadReport() {
    const container = document.getElementById("vulnerabilities");
    if (!container || !container.dataset.reportUrl) return;
    try {
      const response = await api("GET", container.dataset.reportUrl);
      if (!response.ok) throw new Error(response.statusText);
      const reports = await response.json();
      const report = Object.values(reports)[0];
      if (report) renderReport(container, report);
      else container.replaceChildren(text("p", "No finished report yet.", "muted"));
    } catch (error) {
      container.replaceChildren(text("p", "The vulnerability report could not be loaded.", "notice error"));
    }
  }

  // While a scan is pending or running, ask the API how it is doing (bounded: every 2 s, then
  // every 5 s, for at most 10 minutes); once it has finished, reload to show the result.
  const POLL_LIMIT_MS = 10 * 60 * 1000;

  function watchScan() {
    const status = document.getElementById("scan-status");
    if (!status || !status.dataset.overviewUrl) return;
    const label = status.querySelector("[data-status]");
    const started = Date.now();
    async function poll() {
      const elapsed = Date.now() - started;
      if (elapsed > POLL_LIMIT_MS) {
        label.textContent = `${label.textContent} (still not finished: reload the page later)`;
        return;
      }
      try {
        const response = await api("GET", status.dataset.overviewUrl);
        if (response.ok) {
          const overview = await response.json();
          if (overview.scan_status !== "Pending" && overview.scan_status !== "Running") {
            window.location.reload();
            return;
          }
          label.textContent = overview.scan_status;
          label.className = `status status-${overview.scan_status.toLowerCase()}`;
        }
      } catch (error) {
        // A dropped request: try again at the next tick.
      }
      setTimeout(poll, elapsed < 60 * 1000 ? 2000 : 5000);
    }
    setTimeout(poll, 1000);
  }

  document.addEventListener("DOMContentLoaded", () => { setupCliSecret(); loadReport(); watchScan(); });
})();
