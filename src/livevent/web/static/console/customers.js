// Customers, for admins: who events belong to, and the limits each runs under.
import { api } from "/static/console/api.js";
import { clearProblems, field, h, say, showLink, showProblem } from "/static/console/dom.js";

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
  const managers = h("tbody");
  const { managerForm, welcome, customerChoice } = newManagerForm(() => renderManagers(managers, welcome));
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
    managerForm,
    welcome,
    h("h3", { id: "managers" }, "Managers"),
    h(
      "div",
      { class: "table-scroll" },
      h(
        "table",
        { "aria-labelledby": "managers" },
        h("thead", {}, h("tr", {}, ["Name", "Email", "Customer", ""].map((t) => h("th", { scope: "col" }, t)))),
        managers,
      ),
    ),
  );
  await renderManagers(managers, welcome);
  const render = async () => {
    const answer = await api("/api/customers");
    if (!answer.ok) {
      say(answer.detail, "error");
      return;
    }
    customerChoice.replaceChildren(...answer.data.items.map((c) => h("option", { value: c.id }, `${c.name} (${c.id})`)));
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

/** A new manager for a customer: the console gets a one-time link where they choose their password. */
function newManagerForm(onAdded) {
  const customerChoice = h("select", {});
  const email = h("input", { type: "email", autocomplete: "off", maxlength: "254" });
  const name = h("input", { autocomplete: "off", maxlength: "200" });
  const welcome = h("div", { class: "invitation", hidden: true, role: "status", tabindex: "-1" });
  const managerForm = h(
    "form",
    { class: "panel", novalidate: true, "aria-labelledby": "new-manager" },
    h("h3", { id: "new-manager" }, "Add a manager"),
    h("p", { class: "form-error", role: "alert" }),
    h(
      "div",
      { class: "grid" },
      field("manager-customer", "Customer", customerChoice, { error: "customer_id" }),
      field("manager-email", "Their email", email, { error: "email" }),
      field("manager-name", "Their name", name, { error: "name" }),
    ),
    h("button", { type: "submit" }, "Add the manager"),
  );
  managerForm.addEventListener("submit", async (submitEvent) => {
    submitEvent.preventDefault();
    clearProblems(managerForm);
    const body = { email: email.value.trim(), name: name.value.trim(), customer_id: Number(customerChoice.value) };
    const answer = await api("/api/users", { method: "POST", body });
    if (!answer.ok) {
      showProblem(managerForm, answer.problem);
      return;
    }
    showWelcome(welcome, answer.data);
    email.value = "";
    name.value = "";
    await onAdded();
  });
  return { managerForm, welcome, customerChoice };
}

/** A welcome link on screen, with a copy button; focus lands on it. */
function showWelcome(welcome, data) {
  showLink(welcome, {
    id: "welcome-link",
    label: "Welcome link",
    url: data.link,
    message: data.message,
    expiresAt: data.expires_at,
  });
}

/** The managers, each with a new welcome link for one who lost theirs (the old one dies). */
async function renderManagers(tbody, welcome) {
  const answer = await api("/api/users");
  if (!answer.ok) return;
  const managers = answer.data.items.filter((u) => u.role === "manager");
  tbody.replaceChildren(
    ...managers.map((m) => {
      const renew = h("button", { type: "button", class: "secondary" }, "New welcome link");
      renew.setAttribute("aria-label", `New welcome link for ${m.name}`);
      renew.addEventListener("click", async () => {
        const made = await api(`/api/users/${m.id}/welcome`, { method: "POST" });
        if (!made.ok) {
          say(made.detail, "error");
          return;
        }
        showWelcome(welcome, made.data);
        say(`A new welcome link for ${m.name}: the one made before no longer works.`, "ok");
      });
      return h(
        "tr",
        {},
        h("td", {}, m.name),
        h("td", {}, m.email),
        h("td", { class: "num" }, String(m.customer_id ?? "")),
        h("td", {}, renew),
      );
    }),
  );
}
