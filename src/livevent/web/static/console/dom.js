// Small DOM helpers: build elements, show times in an event's zone, say what went wrong.

/** h("p", { class: "muted" }, "text", child) */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === false || value == null) continue;
    if (key === "class") element.className = value;
    else if (key === "text") element.textContent = value;
    else if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (value === true) element.setAttribute(key, "");
    else element.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

export const $ = (id) => document.getElementById(id);

/** "Tue 1 Dec 2026, 10:00 (Europe/Madrid)" */
export function when(iso, timeZone = "UTC") {
  if (!iso) return "-";
  const text = new Date(iso).toLocaleString(undefined, {
    timeZone,
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
  return `${text} (${timeZone})`;
}

/** An instant as the wall-clock value of a datetime-local input, in a time zone. */
export function localInput(iso, timeZone = "UTC") {
  if (!iso) return "";
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    })
      .formatToParts(new Date(iso))
      .map((part) => [part.type, part.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

/** Announce a result to everyone, screen readers included. */
let sayTimer = null;
export function say(text, kind = "info") {
  const box = $("message");
  box.textContent = text;
  box.dataset.kind = kind;
  clearTimeout(sayTimer);
  // Good news fades; an error stays until the next message.
  if (kind !== "error") sayTimer = setTimeout(() => (box.textContent = ""), 8000);
}

/** Show a problem's messages beside the inputs it names (`fields`), and the rest on top. */
export function showProblem(form, problem) {
  clearProblems(form);
  const fields = problem?.fields || [];
  const detail = problem?.detail || "That did not work.";
  const parts = detail.split("; ");
  let placed = 0;
  for (const field of fields) {
    const [name, index, sub] = field.split(".");
    const key = name === "channels" && index !== undefined ? `channels.${index}.${sub || "language"}` : name;
    const error = form.querySelector(`[data-error-for="${key}"]`) || form.querySelector(`[data-error-for="${name}"]`);
    if (!error) continue;
    const said = parts.filter((p) => p.startsWith(`${field}:`)).map((p) => p.slice(field.length + 1).trim());
    error.textContent = said.join("; ") || detail;
    const input = document.getElementById(error.dataset.input || "");
    input?.setAttribute("aria-invalid", "true");
    placed += 1;
  }
  const summary = form.querySelector(".form-error");
  if (summary) summary.textContent = placed ? "Please correct the fields marked below." : detail;
  form.querySelector("[aria-invalid=true]")?.focus();
}

export function clearProblems(form) {
  for (const error of form.querySelectorAll("[data-error-for]")) error.textContent = "";
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  const summary = form.querySelector(".form-error");
  if (summary) summary.textContent = "";
}

/** A labelled input with a place for its error: real <label for>, aria-describedby. */
export function field(id, label, input, { hint, error = id } = {}) {
  input.id = id;
  const errorId = `${id}-error`;
  const described = [errorId];
  const hintNode = hint ? h("small", { id: `${id}-hint`, class: "muted" }, hint) : null;
  if (hintNode) described.push(hintNode.id);
  input.setAttribute("aria-describedby", described.join(" "));
  // Fixed, no longer wrong: the field's error goes the moment it is edited.
  const clear = () => {
    if (input.getAttribute("aria-invalid") !== "true") return;
    input.removeAttribute("aria-invalid");
    const error = document.getElementById(errorId);
    if (error) error.textContent = "";
  };
  input.addEventListener("input", clear);
  input.addEventListener("change", clear);
  return h(
    "div",
    { class: "form-row" },
    h("label", { for: id }, label),
    input,
    hintNode,
    h("span", { id: errorId, class: "field-error", "data-error-for": error, "data-input": id }),
  );
}

/** A one-time link to hand over: what happened, the link (selected on focus) and a copy
 * button, in `box`; focus lands on the link. */
export function showLink(box, { id, label, url, message, expiresAt }) {
  const link = h("input", { id, value: url, readonly: true, class: "link" });
  const copy = h("button", { type: "button", class: "secondary" }, "Copy the link");
  copy.addEventListener("click", async () => {
    link.select();
    try {
      await navigator.clipboard.writeText(url);
      say("Link copied.", "ok");
    } catch {
      say("Select the link and copy it yourself.", "info");
    }
  });
  box.replaceChildren(
    h("p", {}, `${message} It works until ${new Date(expiresAt).toLocaleString()}.`),
    h("label", { for: id }, label),
    link,
    copy,
  );
  box.hidden = false;
  link.focus();
}
