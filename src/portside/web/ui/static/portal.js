// Portside portal: copy buttons, confirmations, the CLI secret and the vulnerability report.
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

  const SEVERITIES = ["Critical", "High", "Medium", "Low", "Unknown", "None"];

  function renderReport(container, report) {
    const vulnerabilities = report.vulnerabilities || [];
    const counts = {};
    for (const item of vulnerabilities) counts[item.severity] = (counts[item.severity] || 0) + 1;
    const parts = [text("p", `Severity: ${report.severity || "None"} · ${vulnerabilities.length} vulnerabilities` +
                             (report.scanner ? ` · ${report.scanner.name} ${report.scanner.version || ""}` : ""))];
    if (vulnerabilities.length) {
      const bar = document.createElement("div");
      bar.className = "severity";
      bar.setAttribute("role", "img");
      bar.setAttribute("aria-label", SEVERITIES.filter((s) => counts[s]).map((s) => `${counts[s]} ${s}`).join(", "));
      const legend = document.createElement("ul");
      legend.className = "legend";
      for (const severity of SEVERITIES) {
        if (!counts[severity]) continue;
        const part = document.createElement("span");
        part.className = `sev-${severity.toLowerCase()}`;
        part.style.width = `${(100 * counts[severity]) / vulnerabilities.length}%`;
        bar.append(part);
        const entry = document.createElement("li");
        const swatch = document.createElement("i");
        swatch.className = `sev-${severity.toLowerCase()}`;
        entry.append(swatch, `${severity}: ${counts[severity]}`);
        legend.append(entry);
      }
      parts.push(bar, legend);
      const table = document.createElement("table");
      table.className = "list compact";
      const head = document.createElement("tr");
      for (const title of ["CVE", "Severity", "Package", "Version", "Fixed in"]) {
        const th = text("th", title);
        th.scope = "col";
        head.append(th);
      }
      table.createTHead().append(head);
      const body = table.createTBody();
      for (const item of vulnerabilities) {
        const row = body.insertRow();
        const id = document.createElement("td");
        const links = item.links || [];
        if (links.length && /^https?:\/\//.test(links[0])) {
          const link = text("a", item.id);
          link.href = links[0];
          link.rel = "noopener nofollow";
          id.append(link);
        } else {
          id.textContent = item.id;
        }
        row.append(id, text("td", item.severity), text("td", item.package), text("td", item.version),
                   text("td", item.fix_version || "—"));
      }
      parts.push(table);
    }
    container.replaceChildren(...parts);
  }

  async function loadReport() {
    const container = document.getElementById("vulnerabilities");
    if (!container || !container.dataset.reportUrl) return;
    try {
      const response = await api("GET", container.dataset.reportUrl);
      if (!response.ok) return;
      const reports = await response.json();
      const report = Object.values(reports)[0];
      if (report) renderReport(container, report);
    } catch (error) {
      container.replaceChildren(text("p", "The vulnerability report could not be loaded.", "muted"));
    }
  }

  document.addEventListener("DOMContentLoaded", () => { setupCliSecret(); loadReport(); });
})();
