// The organizer's console: sign in, then events (list, new, one event) by the URL's #path.
import { api, session, signIn } from "/static/console/api.js";
import { $, h, say } from "/static/console/dom.js";
import { editorView } from "/static/console/editor.js";
import { customersView } from "/static/console/customers.js";
import { eventView } from "/static/console/event.js";
import { listView } from "/static/console/list.js";

let stop = () => {};

async function route() {
  stop();
  stop = () => {};
  const view = $("view");
  const [path, query] = (window.location.hash.replace(/^#/, "") || "/").split("?");
  const match = path.match(/^\/events\/([1-9][0-9]{0,15})$/);
  if (path === "/new") {
    view.replaceChildren(h("h2", { id: "view-title", tabindex: "-1" }, "New event"));
    const box = h("div");
    view.append(box);
    editorView(box, null, (event) => (window.location.hash = `#/events/${event.id}`));
    document.title = "New event · livevent";
  } else if (match) {
    stop = await eventView(view, Number(match[1]));
    document.title = `${$("view-title")?.textContent || "Event"} · livevent`;
  } else if (path === "/customers" && session.admin) {
    await customersView(view);
    document.title = "Customers · livevent";
  } else {
    const timer = listView(view, new URLSearchParams(query || ""));
    stop = () => clearInterval(timer);
    document.title = "Events · livevent";
  }
  // Keyboard and screen-reader users land on the new view's heading.
  $("view-title")?.focus();
}

async function show() {
  const me = await api("/api/auth/me");
  if (!me.ok) {
    say("That token was refused.", "error");
    signOut();
    return;
  }
  session.claims = me.data;
  if (!["admin", "manager"].includes(me.data.role)) {
    say("The console is for managers and admins.", "error");
    signOut();
    return;
  }
  $("who").textContent = `${me.data.role}${me.data.customer ? ` · customer ${me.data.customer}` : ""}`;
  $("customers-link").hidden = !session.admin;
  $("sign-in").hidden = true;
  $("app").hidden = false;
  await route();
}

function signOut() {
  stop();
  session.save(null);
  session.claims = null;
  $("sign-in").hidden = false;
  $("app").hidden = true;
  $("who").textContent = "";
}

$("sign-in").addEventListener("submit", async (event) => {
  event.preventDefault();
  say("");
  const token = $("token").value.trim();
  if (token) {
    session.save({ access: token, refresh: null });
  } else {
    const problem = await signIn($("email").value, $("password").value);
    if (problem) {
      say(problem, "error");
      return;
    }
  }
  $("password").value = "";
  $("token").value = "";
  await show();
});
$("sign-out").addEventListener("click", signOut);
window.addEventListener("hashchange", () => session.claims && route());
window.addEventListener("console:reload", () => route());
if (session.tokens) show();
