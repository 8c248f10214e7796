// Customers, for admins: who events belong to, and the limits each runs under.
import { api } from "/static/console/api.js";
import { clearProblems, field, h, say, showProblem } from "/static/console/dom.js";

export async function customersView(root) {
  const body = h("tbody");
  const name = h("input", { maxlength: "100", autocomplete: "off" });
  const live = h("input", { type: "number", min: "1", max: "10000", value: "5" });
  const listeners = h("input", { type: "number", min: "1", value: "1000" });
  const form = h(
    "form",
    { class: "panel", novalidate: true, "aria-labelledby": "new-customer" },
    h("h3", { id: "new-customer" }, "New customer"),
    h("p", { class: "form-error", role: "alert" }),
    h(
      "div",
      { class: "grid" },
      field("customer-name", "Name", name),
      field("customer-live", "Live events at once", live, { error: "max_live_events" }),
      field("customer-listeners", "Listeners per event", listeners, { error: "max_listeners_per_event" }),
    ),
    h("button", { type: "submit" }, "Create the customer"),
  );
  root.replaceChildren(
    h("h2", { id: "view-title", tabindex: "-1" }, "Customers"),
    h(
      "div",
      { class: "table-scroll" },
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, ["ID", "Name", "Live events at once", "Listeners per event", ""].map((t) => h("th", { scope: "col" }, t)))),
        body,
      ),
    ),
    form,
  );
  const render = async () => {
    const answer = await api("/api/customers");
    if (!answer.ok) {
      say(answer.detail, "error");
      return;
    }
    body.replaceChildren(
      ...answer.data.items.map((c) =>
        h(
          "tr",
          {},
          h("td", { class: "num" }, String(c.id)),
          h("td", {}, c.name),
          h("td", { class: "num" }, String(c.max_live_events)),
          h("td", { class: "num" }, String(c.max_listeners_per_event)),
          h("td", {}, h("a", { href: `#/?customer=${c.id}` }, "events")),
        ),
      ),
    );
  };
  form.addEventListener("submit", async (submitEvent) => {
    submitEvent.preventDefault();
    clearProblems(form);
    const answer = await api("/api/customers", {
      method: "POST",
      body: { name: name.value.trim(), max_live_events: Number(live.value), max_listeners_per_event: Number(listeners.value) },
    });
    if (!answer.ok) {
      showProblem(form, answer.problem);
      return;
    }
    say(`Customer ${answer.data.name} created (${answer.data.id}).`, "ok");
    name.value = "";
    await render();
  });
  await render();
}
