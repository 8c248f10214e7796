// The events list: filters, and each event's status and listeners at a glance.
import { statusBadge } from "/static/common.js";
import { api, session } from "/static/console/api.js";
import { h, say, when } from "/static/console/dom.js";

const STATUSES = ["DRAFT", "SCHEDULED", "READY", "LIVE", "ENDED", "CANCELLED"];
const ACTIVE = "DRAFT,SCHEDULED,READY,LIVE";

export function listView(root, preset = new URLSearchParams()) {
  const status = h(
    "select",
    { id: "filter-status" },
    h("option", { value: ACTIVE }, "Not over yet"),
    h("option", { value: "" }, "All"),
    STATUSES.map((s) => h("option", { value: s }, s[0] + s.slice(1).toLowerCase())),
  );
  const from = h("input", { id: "filter-from", type: "date" });
  const to = h("input", { id: "filter-to", type: "date" });
  const customer = h("select", { id: "filter-customer" }, h("option", { value: "" }, "Every customer"));
  const filters = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter events" },
    h("div", { class: "form-row" }, h("label", { for: "filter-status" }, "Status"), status),
    h("div", { class: "form-row" }, h("label", { for: "filter-from" }, "Starting from"), from),
    h("div", { class: "form-row" }, h("label", { for: "filter-to" }, "Starting before"), to),
    session.admin
      ? h("div", { class: "form-row" }, h("label", { for: "filter-customer" }, "Customer"), customer)
      : null,
    h("button", { type: "submit", class: "secondary" }, "Filter"),
  );
  const body = h("tbody", { id: "events" });
  const count = h("p", { class: "muted", id: "events-count", "aria-live": "polite" });
  const table = h(
    "table",
    {},
    h("caption", { class: "visually-hidden" }, "Events"),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["ID", "Event", "Status", "Starts", "Channels: listeners", "Links"].map((t) =>
          h("th", { scope: "col" }, t),
        ),
      ),
    ),
    body,
  );
  root.replaceChildren(
    h(
      "div",
      { class: "controls" },
      h("h2", { id: "view-title", tabindex: "-1" }, "Events"),
      h("a", { href: "#/new", class: "button" }, "New event"),
    ),
    filters,
    count,
    h("div", { class: "table-scroll" }, table),
  );
  if (session.admin) loadCustomers(customer, preset.get("customer")).then(() => preset.get("customer") && render());
  if (preset.get("customer")) status.value = "";

  const query = () => {
    const params = new URLSearchParams({ limit: "200" });
    if (status.value) params.set("status", status.value);
    if (from.value) params.set("from", `${from.value}T00:00:00Z`);
    if (to.value) params.set("to", `${to.value}T00:00:00Z`);
    if (customer.value) params.set("customer", customer.value);
    return params;
  };
  const render = () => renderRows(body, count, query());
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    render();
  });
  render();
  return setInterval(render, 5000);
}

async function loadCustomers(select, chosen) {
  const answer = await api("/api/customers");
  if (!answer.ok) return;
  for (const customer of answer.data.items) {
    select.append(h("option", { value: customer.id, selected: String(customer.id) === chosen }, `${customer.name} (${customer.id})`));
  }
}

async function listeners(event) {
  if (event.status !== "LIVE") return event.channels.map((c) => `${c.language}: -`).join(", ");
  const stats = await api(`/live/${event.id}/stats`);
  const counts = stats.ok ? stats.data.listeners || {} : {};
  return event.channels.map((c) => `${c.language}: ${counts[c.language] ?? 0}`).join(", ");
}

async function renderRows(body, count, params) {
  const answer = await api(`/api/events?${params}`);
  if (!answer.ok) {
    say(answer.detail, "error");
    return;
  }
  const rows = [];
  for (const event of answer.data.items) {
    const badge = h("span");
    statusBadge(badge, event.status);
    rows.push(
      h(
        "tr",
        { "data-event": event.id },
        h("td", { class: "num" }, String(event.id)),
        h("td", {}, h("a", { href: `#/events/${event.id}` }, event.name)),
        h("td", {}, badge),
        h("td", {}, when(event.starts_at, event.timezone)),
        h("td", {}, await listeners(event)),
        h("td", {}, h("a", { href: `/listen/${event.id}` }, "listen")),
      ),
    );
  }
  // The list refreshes itself: touch the page only when something changed, and keep
  // the keyboard's place when it does.
  const signature = rows.map((row) => row.textContent).join("\n");
  if (signature === body.dataset.signature) return;
  const focused = document.activeElement?.closest?.("#events") ? document.activeElement.getAttribute("href") : null;
  body.dataset.signature = signature;
  body.replaceChildren(...rows);
  if (focused) body.querySelector(`a[href="${CSS.escape(focused)}"]`)?.focus();
  const { total } = answer.data;
  count.textContent = `${total} event${total === 1 ? "" : "s"}${total > rows.length ? `, ${rows.length} shown` : ""}.`;
  window.livevent = { ...(window.livevent || {}), rows: rows.length };
}

