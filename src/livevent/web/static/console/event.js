// One event: its status moves, details, live view, people, links, files and history.
import { statusBadge } from "/static/common.js";
import { api, raw } from "/static/console/api.js";
import { h, say, when } from "/static/console/dom.js";
import { editorView } from "/static/console/editor.js";
import { filesView } from "/static/console/files.js";
import { outputsView } from "/static/console/outputs.js";
import { linksView } from "/static/console/links.js";
import { liveView } from "/static/console/live.js";
import { peopleView } from "/static/console/people.js";

// What each status may move to, as buttons: [action, label, needs a reason].
const MOVES = {
  DRAFT: [["schedule", "Schedule"], ["delete", "Delete draft"], ["cancel", "Cancel…"]],
  SCHEDULED: [["ready", "Mark ready"], ["golive", "Go live"], ["cancel", "Cancel…"]],
  READY: [["golive", "Go live"], ["cancel", "Cancel…"]],
  LIVE: [["end", "End the event"], ["cancel", "Cancel…"]],
  ENDED: [],
  CANCELLED: [],
};

function section(id, title, ...children) {
  return h("section", { class: "panel", "aria-labelledby": `${id}-title`, id }, h("h3", { id: `${id}-title` }, title), ...children);
}

/** Draws the event; returns a function that stops its timers. */
export async function eventView(root, eventId) {
  const answer = await api(`/api/events/${eventId}`);
  if (!answer.ok) {
    root.replaceChildren(h("h2", { id: "view-title", tabindex: "-1" }, "Event not available"), h("p", {}, answer.detail));
    return () => {};
  }
  const event = answer.data;
  const stops = [];
  const badge = h("span");
  statusBadge(badge, event.status);
  const title = h("h2", { id: "view-title", tabindex: "-1" }, event.name);
  const header = h(
    "div",
    { class: "event-head" },
    title,
    badge,
    h("p", { class: "muted" }, `Event ${event.id} · ${when(event.starts_at, event.timezone)} · version ${event.version}`),
  );
  const actions = actionsView(event);
  const parts = [h("p", {}, h("a", { href: "#/" }, "← All events")), header, actions];
  if (["SCHEDULED", "READY", "LIVE"].includes(event.status)) {
    const live = event.status === "LIVE" ? section("live", "Live now") : section("live", "Sound check");
    parts.push(live);
    stops.push(liveView(live, event));
  }
  if (!["ENDED", "CANCELLED"].includes(event.status)) {
    const details = h("section", { class: "panel", id: "details" });
    parts.push(details);
    editorView(details, event, () => window.dispatchEvent(new CustomEvent("console:reload", { detail: event.id })));
  }
  const people = section("people", "Speakers and interpreters");
  const links = section("links", "Links and QR codes");
  const files = section("files", "Recordings and transcripts");
  const platforms = section("outputs", "Streaming platforms");
  const history = section("history", "History");
  const over = ["ENDED", "CANCELLED"].includes(event.status);
  // Afterwards, what was recorded matters most; before, who speaks and where to listen.
  parts.push(...(over ? [files, people, links, platforms, history] : [people, links, platforms, files, history]));
  root.replaceChildren(...parts);
  peopleView(people, event);
  linksView(links, event);
  outputsView(platforms, event);
  historyView(history, event);
  if (event.status === "ENDED" && (await ending(event))) stops.push(followEnding(event, badge, files));
  else filesView(files, event);
  return () => stops.forEach((stop) => stop());
}

/** Whether the runtime still finishes the event: ended in the store, its channels say
 * their last sentences, its recordings and transcript close. */
async function ending(event) {
  const answer = await api(`/live/${event.id}/stats`);
  return answer.ok && answer.data.ending === true;
}

/** Say the event is ending, and show its files once the runtime is done with them. */
function followEnding(event, badge, files) {
  let timer = null;
  badge.textContent = "Ending: channels finishing";
  badge.className = "badge live";
  files.append(h("p", { class: "notice", id: "ending-note", role: "status" }, "Channels are finishing their last sentences: the recordings and the transcript appear here when they are done."));
  const check = async () => {
    if (await ending(event)) timer = setTimeout(check, 1000);
    else window.dispatchEvent(new CustomEvent("console:reload", { detail: event.id }));
  };
  timer = setTimeout(check, 1000);
  return () => clearTimeout(timer);
}

function actionsView(event) {
  const box = h("div", { class: "controls actions", role: "group", "aria-label": "Status" });
  const reasonForm = h("form", { class: "cancel-form", hidden: true });
  const reason = h("input", { id: "cancel-reason", maxlength: "500", required: true });
  reasonForm.append(
    h("label", { for: "cancel-reason" }, "Why is it cancelled? (listeners and the audit trail see this)"),
    reason,
    h("div", { class: "controls" }, h("button", { type: "submit", class: "danger" }, "Cancel the event"), h("button", { type: "button", class: "secondary", onclick: () => (reasonForm.hidden = true) }, "Keep it")),
  );
  reasonForm.addEventListener("submit", async (submitEvent) => {
    submitEvent.preventDefault();
    if (!reason.value.trim()) {
      say("Say why the event is cancelled.", "error");
      reason.focus();
      return;
    }
    await move(event, "cancel", reason.value.trim());
  });
  for (const [action, label] of MOVES[event.status]) {
    const button = h("button", { type: "button", class: action === "cancel" || action === "delete" ? "secondary" : "" }, label);
    button.addEventListener("click", async () => {
      if (action === "cancel") {
        reasonForm.hidden = false;
        reason.focus();
        return;
      }
      if (action === "end" && !window.confirm("End the event for everyone listening?")) return;
      if (action === "golive" && !confirmEarly(event)) return;
      if (action === "delete" && !window.confirm("Delete this draft?")) return;
      button.disabled = true;
      await move(event, action);
      button.disabled = false;
    });
    box.append(button);
  }
  // Next session, next year's edition: the same channels, glossary and settings.
  const copy = h("button", { type: "button", class: "secondary" }, "Duplicate");
  copy.addEventListener("click", async () => {
    copy.disabled = true;
    const answer = await api(`/api/events/${event.id}/duplicate`, { method: "POST", body: {} });
    copy.disabled = false;
    if (!answer.ok) {
      say(answer.detail, "error");
      return;
    }
    say(`Created draft ${answer.data.id}, a copy of this event: set its name and start.`, "ok");
    window.location.hash = `#/events/${answer.data.id}`;
  });
  box.append(copy);
  return h("div", {}, box, reasonForm);
}

/** Going live far from the planned start is asked twice: listeners get it at once. */
function confirmEarly(event) {
  const minutes = Math.round((new Date(event.starts_at).getTime() - Date.now()) / 60000);
  if (Math.abs(minutes) <= 30) return true;
  const far = Math.abs(minutes) >= 120 ? `${Math.round(Math.abs(minutes) / 60)} hours` : `${Math.abs(minutes)} minutes`;
  const side = minutes > 0 ? `starts in ${far}` : `was planned ${far} ago`;
  return window.confirm(`This event ${side} (${when(event.starts_at, event.timezone)}). Go live now? Listeners hear everything from now on.`);
}

async function move(event, action, reason) {
  let answer;
  if (action === "golive") {
    answer = await api(`/live/${event.id}/start`, { method: "POST" });
  } else if (action === "delete") {
    const response = await raw(`/api/events/${event.id}`, { method: "DELETE" });
    if (response.ok) {
      say(`Draft ${event.id} deleted.`, "ok");
      window.location.hash = "#/";
      return;
    }
    answer = { ok: false, detail: (await response.json().catch(() => ({}))).detail };
  } else {
    answer = await api(`/api/events/${event.id}/${action}`, { method: "POST", body: reason ? { reason } : {}, version: event.version });
  }
  if (!answer.ok) {
    const stale = answer.problem?.type === "urn:livevent:problem:version-conflict";
    say(stale ? "Someone else changed this event first: it was reloaded, look again before you act." : answer.detail, "error");
    if (!stale) return;
  } else {
    say({ schedule: "Scheduled.", ready: "Marked ready.", golive: "The event is live: listeners hear it, and it is recorded.", end: "The event has ended.", cancel: "The event is cancelled." }[action], "ok");
  }
  window.dispatchEvent(new CustomEvent("console:reload", { detail: event.id }));
}

/** Who did it, in words: a person's name comes from the server; the rest are machines. */
function actorWords(actor) {
  if (actor === "runtime") return "the live server";
  if (actor.startsWith("cli:")) return `the command line (${actor.slice(4)})`;
  if (actor.startsWith("service")) return "the server";
  return actor;
}

async function historyView(box, event) {
  const answer = await api(`/api/events/${event.id}/history`);
  if (!answer.ok) {
    box.append(h("p", {}, answer.detail));
    return;
  }
  const rows = answer.data.items.map((item) =>
    h(
      "tr",
      {},
      h("td", {}, new Date(item.at).toLocaleString()),
      h("td", {}, item.from_status ? `${item.from_status} → ${item.to_status}` : item.to_status),
      h("td", {}, answer.data.names?.[item.actor] || actorWords(item.actor)),
      h("td", {}, item.change || item.reason || ""),
    ),
  );
  box.append(
    h(
      "div",
      { class: "table-scroll" },
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, ["When", "Status", "Who", "What"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows.reverse()),
      ),
    ),
  );
}
