// The manager's page: events at a glance, with live listeners and how far behind machine channels are.
import { statusBadge } from "/static/common.js";

const $ = (id) => document.getElementById(id);
const STORAGE = "livevent:manager";
let session = JSON.parse(sessionStorage.getItem(STORAGE) || "null");
let timer = null;

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { ...(options.headers || {}), ...(session ? { Authorization: `Bearer ${session.access}` } : {}) },
  });
  if (response.status === 401 && session?.refresh && !options.retried) {
    if (await refresh()) return api(path, { ...options, retried: true });
  }
  return response;
}

async function refresh() {
  const response = await fetch("/api/auth/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: session.refresh }),
  });
  if (!response.ok) return false;
  const pair = await response.json();
  session = { access: pair.access_token, refresh: pair.refresh_token };
  sessionStorage.setItem(STORAGE, JSON.stringify(session));
  return true;
}

async function signIn(event) {
  event.preventDefault();
  $("message").textContent = "";
  const token = $("token").value.trim();
  if (token) {
    session = { access: token, refresh: null };
  } else {
    const response = await fetch("/api/auth/token", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: $("email").value, password: $("password").value }),
    });
    const body = await response.json();
    if (!response.ok) {
      $("message").textContent = body.detail || "Cannot sign in.";
      return;
    }
    session = { access: body.access_token, refresh: body.refresh_token };
  }
  $("password").value = "";
  sessionStorage.setItem(STORAGE, JSON.stringify(session));
  show();
}

function cell(text, className) {
  const td = document.createElement("td");
  if (text instanceof Node) td.append(text);
  else td.textContent = text;
  if (className) td.className = className;
  return td;
}

function link(href, text) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  return a;
}

async function render() {
  const response = await api("/api/events?limit=100");
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    $("message").textContent = problem.detail || `The event list failed (${response.status}).`;
    if (response.status === 401 || response.status === 403) signOut();
    return;
  }
  const page = await response.json();
  const rows = [];
  for (const item of page.items) {
    if (item.status === "ENDED" || item.status === "CANCELLED") continue;
    const tr = document.createElement("tr");
    const badge = document.createElement("span");
    statusBadge(badge, item.status);
    let listeners = item.channels.map((c) => `${c.language}: -`).join(", ");
    let latency = "-";
    if (item.status === "LIVE") {
      const stats = await (await api(`/live/${item.id}/stats`)).json();
      listeners = item.channels
        .map((c) => `${c.language}: ${stats.listeners?.[c.language] ?? 0}`)
        .join(", ");
      // How far behind the floor each machine channel speaks (ear-voice span, p50
      // over the last minute), and what waits to be spoken: the booth's own numbers.
      const machine = Object.entries(stats.channels || {}).filter(([, c]) => c.evs_s != null);
      if (machine.length) {
        latency = machine
          .map(([language, c]) => {
            const backlog = c.backlog_s > 0.5 ? ` +${c.backlog_s.toFixed(1)} s queued` : "";
            const degraded = c.degraded ? " (degraded)" : "";
            return `${language}: ${c.evs_s.toFixed(1)} s${backlog}${degraded}`;
          })
          .join(", ");
      }
    }
    const links = document.createElement("span");
    links.append(link(`/listen/${item.id}`, "listen"));
    for (const channel of item.channels) {
      if (channel.kind === "machine") continue;
      links.append(" · ", link(`/speak/${item.id}/${channel.number}`, `speak ${channel.language}`));
    }
    tr.append(
      cell(String(item.id), "num"),
      cell(item.name),
      cell(badge),
      cell(new Date(item.starts_at).toLocaleString()),
      cell(listeners),
      cell(latency, "num"),
      cell(links),
    );
    rows.push(tr);
  }
  $("events").replaceChildren(...rows);
  window.livevent = { rows: rows.length };
}

async function show() {
  const me = await api("/api/auth/me");
  if (!me.ok) {
    $("message").textContent = "That token was refused.";
    signOut();
    return;
  }
  const claims = await me.json();
  $("who").textContent = `${claims.role}${claims.customer ? ` · customer ${claims.customer}` : ""}`;
  $("sign-in").hidden = true;
  $("board").hidden = false;
  await render();
  clearInterval(timer);
  timer = setInterval(render, 2000);
}

function signOut() {
  session = null;
  sessionStorage.removeItem(STORAGE);
  clearInterval(timer);
  $("sign-in").hidden = false;
  $("board").hidden = true;
  $("who").textContent = "";
}

$("sign-in").addEventListener("submit", signIn);
$("sign-out").addEventListener("click", signOut);
if (session) show();
