// A live event as it runs: each channel's state, speaker, listeners, drops and lag, with
// small plots of the last minutes drawn from the stats the runtime publishes every second.
import { api } from "/static/console/api.js";
import { languageName } from "/static/console/editor.js";
import { h } from "/static/console/dom.js";

const KEEP = 300; // samples: ten minutes at one every 2 s
const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes = {}) {
  const element = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

/** A small line plot of one or more series over the same samples. */
function plot(title, series, unit) {
  const width = 320;
  const height = 90;
  const values = series.flatMap((s) => s.points).filter((v) => v != null);
  const top = Math.max(1, ...values) * 1.15;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "plot" });
  const label = `${title}: ${series.map((s) => `${s.name} ${s.points.at(-1) ?? "-"}${unit}`).join(", ")}`;
  chart.setAttribute("aria-label", label);
  chart.append(svg("line", { x1: 0, y1: height - 1, x2: width, y2: height - 1, class: "axis" }));
  series.forEach((s, index) => {
    const step = width / Math.max(1, KEEP - 1);
    const offset = KEEP - s.points.length;
    const points = s.points
      .map((v, i) => (v == null ? null : `${((offset + i) * step).toFixed(1)},${(height - 2 - (v / top) * (height - 6)).toFixed(1)}`))
      .filter(Boolean)
      .join(" ");
    chart.append(svg("polyline", { points, class: `series s${index % 4}`, fill: "none" }));
  });
  const legend = h("p", { class: "legend" }, series.map((s, i) => h("span", { class: `key s${i % 4}` }, `${s.name}: ${s.points.at(-1) ?? "-"}${unit}`)));
  return h("figure", { class: "plot-box" }, h("figcaption", {}, `${title} (last ${Math.round((KEEP * 2) / 60)} min, top ${top.toFixed(1)}${unit})`), chart, legend);
}

const STATES = {
  live: "On air",
  waiting: "Waiting",
  paused: "Paused (nobody listens)",
  unavailable: "Unavailable",
  finishing: "Finishing its last sentences",
};

/** Before going live: who is on the stage, and that nobody else hears them yet. */
function rehearsalSummary(stats, channels) {
  if (!stats.rehearsal) {
    return "Nobody rehearses yet. Speakers and interpreters who open their links now rehearse: they hear each other, listeners wait for you to go live.";
  }
  const on = Object.values(channels).filter((c) => Number(c.speaker)).length;
  return `Rehearsal: ${on} channel${on === 1 ? "" : "s"} with a speaker. Listeners hear nothing yet and nothing is recorded; go live when you are ready.`;
}

/** The speaker's microphone, as their page hears it: a meter, and a word when it clips. */
function inputMeter(channel, c) {
  const level = Number(c.input_level ?? -1);
  if (level < 0) return null;
  const peak = Number(c.input_peak ?? 0);
  const name = `Microphone level, ${channel.label || languageName(channel.language) || channel.language}`;
  const meter = h("meter", { class: "input-meter", min: "0", max: "1", low: "0.05", high: "0.6", optimum: "0.2", value: String(Math.min(1, level * 4)), "aria-label": name });
  return h("span", { class: "input-level" }, " ", meter, peak >= 0.99 ? h("small", { class: "warning" }, " clipping") : level < 0.003 ? h("small", { class: "warning" }, " silent") : null);
}

/** Where the machine channels' speech runs (speech workers), and a warning before it
 * runs out: an event that gets no slot has no machine channels until one frees. */
function speechLine(speech, live) {
  if (!speech) return [];
  const room = `${speech.free} of ${speech.slots} speech slot${speech.slots === 1 ? "" : "s"} free on ${speech.workers} worker${speech.workers === 1 ? "" : "s"}`;
  if (speech.problem) {
    const when = live ? "Machine channels are unavailable" : "Going live now, machine channels will be unavailable";
    return [h("strong", { class: "warning" }, `${when}: ${speech.problem}.`), ` (${room})`];
  }
  if (speech.worker) return [`Machine channels run on speech worker ${speech.worker} (${room}).`];
  return [`Speech workers: ${room}.`];
}

/** The recogniser falling behind: told here, not only in the server log. */
function loadLine(pipeline) {
  if (!pipeline) return [];
  if (pipeline.overloaded) {
    return [h("strong", { class: "warning", id: "live-overload" }, `The machine is overloaded: each decode takes ${(pipeline.stt_ms / 1000).toFixed(1)} s, so machine channels speak whole sentences (consecutive) until it catches up. Captions and speech come later.`)];
  }
  if (pipeline.degraded) {
    return [h("strong", { class: "warning", id: "live-overload" }, `The machine is behind: it recognises every ${Number(pipeline.chunk_s).toFixed(1)} s of speech instead of 0.75 s, so captions come later.`)];
  }
  return [];
}

const PUSH_STATES = { connecting: "connecting", pushing: "on air", reconnecting: "cannot reach the platform, trying again", stopped: "stopped" };

/** Each stream pushed to a platform: on air, or away and being tried again (in red). */
function outputsLine(outputs) {
  if (!outputs?.length) return [];
  return outputs.map((o) =>
    h(
      "li",
      { class: o.state === "reconnecting" ? "warning" : "" },
      `${o.channel} → ${o.target}: ${PUSH_STATES[o.state] || o.state}${o.problem ? ` (${o.problem})` : ""}`,
    ),
  );
}

export function liveView(box, event) {
  const notes = notesBox(event);
  const table = h("tbody", { id: "live-channels" });
  const plots = h("div", { class: "plots" });
  const summary = h("p", { id: "live-summary", "aria-live": "polite" });
  const speech = h("p", { id: "live-speech", "aria-live": "polite" });
  const outputs = h("ul", { id: "live-outputs", class: "outputs", "aria-live": "polite" });
  box.append(
    summary,
    speech,
    outputs,
    h(
      "div",
      { class: "table-scroll" },
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, ["Channel", "Kind", "State", "Speaker", "Listeners", "Drops", "Behind the floor"].map((t) => h("th", { scope: "col" }, t)))),
        table,
      ),
    ),
    plots,
    notes,
  );
  const history = { listeners: [], lag: {} };
  // Speakers are known by their token's subject ("user:12"): the event's people name them.
  const names = {};
  api(`/api/events/${event.id}/people`).then((answer) => {
    for (const user of answer.data?.items || []) names[`user:${user.id}`] = user.name;
  });
  const nameOf = (who) => names[who] || who;
  const round = async () => {
    const answer = await api(`/live/${event.id}/stats`);
    if (!answer.ok) {
      summary.textContent = answer.detail;
      return;
    }
    const stats = answer.data;
    const channels = stats.channels || {};
    const total = Object.values(stats.listeners || {}).reduce((a, b) => a + b, 0);
    const shown = stats.ending ? "Ending (channels finish their last sentences)" : stats.status === "LIVE" ? "Live" : stats.status;
    // Speakers' and interpreters' own feeds are not audience: counted apart.
    const staff = Object.values(channels).reduce((sum, c) => sum + Number(c.staff || 0), 0);
    const staffNote = staff ? ` (and ${staff} staff feed${staff === 1 ? "" : "s"})` : "";
    summary.textContent = `${shown}: ${total} listener${total === 1 ? "" : "s"}${staffNote} on ${Object.keys(stats.instances || {}).length || 1} server(s).`;
    if (stats.status !== "LIVE" && !stats.ending) summary.textContent = rehearsalSummary(stats, channels);
    speech.replaceChildren(...speechLine(stats.speech, stats.status === "LIVE"), ...loadLine(stats.pipeline));
    outputs.replaceChildren(...outputsLine(stats.outputs));
    history.listeners = [...history.listeners, total].slice(-KEEP);
    table.replaceChildren(
      ...event.channels.map((channel) => {
        const c = channels[channel.language] || {};
        const relayed = c.evs_from && c.evs_from !== event.source_language ? ` behind ${c.evs_from}` : "";
        const lag = c.evs_s != null && c.evs_s >= 0 ? `${Number(c.evs_s).toFixed(1)} s${relayed}${c.backlog_s > 0.5 ? ` (+${Number(c.backlog_s).toFixed(1)} s queued)` : ""}` : "-";
        if (channel.kind === "machine") {
          history.lag[channel.language] = [...(history.lag[channel.language] || []), c.evs_s != null ? Number(Number(c.evs_s).toFixed(2)) : null].slice(-KEEP);
        }
        const partners = c.standby_who ? c.standby_who.split(", ").map(nameOf).join(", ") : `${c.standby}`;
        const standby = Number(c.standby) ? ` (standing by: ${partners})` : "";
        const present = c.who ? nameOf(c.who) : "present";
        const speaker =
          (channel.kind === "machine" ? "machine" : Number(c.machine) ? "machine (standing in)" : Number(c.speaker) ? present : "nobody") + standby;
        return h(
          "tr",
          { "data-channel": channel.language },
          h("td", {}, channel.label || languageName(channel.language) || channel.language),
          h("td", {}, channel.kind),
          h("td", {}, c.muted && c.state === "live" ? "On air, muted" : STATES[c.state] || c.state || "-", c.warning ? h("small", { class: "warning" }, ` (${c.warning})`) : null),
          h("td", {}, speaker, inputMeter(channel, c)),
          h("td", { class: "num" }, String(stats.listeners?.[channel.language] ?? 0)),
          h("td", { class: "num" }, String(c.drops ?? 0)),
          h("td", { class: "num" }, lag),
        );
      }),
    );
    const lagSeries = Object.entries(history.lag).map(([name, points]) => ({ name, points }));
    plots.replaceChildren(
      plot("Listeners", [{ name: "all channels", points: history.listeners }], ""),
      lagSeries.length ? plot("Machine channels behind the floor", lagSeries, " s") : "",
    );
    window.livevent = { ...(window.livevent || {}), live: { total, samples: history.listeners.length } };
  };
  round();
  const timer = setInterval(round, 2000);
  return () => {
    clearInterval(timer);
    notes.stop();
  };
}

const NOTE_KINDS = { slow_down: "asks the floor to slow down", audio_unusable: "audio unusable" };

/** The booths' notes (chat, signals) and a note from the organizer to one booth or all. */
function notesBox(event) {
  const list = h("ol", { id: "live-notes", class: "notes", "aria-live": "polite" });
  const booths = event.channels.filter((c) => c.kind !== "machine");
  const title = (tag) => {
    const channel = event.channels.find((c) => c.language === tag);
    return channel?.label || languageName(tag) || tag;
  };
  const target = h("select", { id: "note-channel" }, [h("option", { value: "" }, "Every booth"), ...booths.map((c) => h("option", { value: c.language }, title(c.language)))]);
  const text = h("input", { id: "note-text", maxlength: "500", required: true, autocomplete: "off" });
  const form = h(
    "form",
    { class: "controls" },
    h("label", { for: "note-channel" }, "To"),
    target,
    h("label", { for: "note-text" }, "Note"),
    text,
    h("button", { type: "submit", class: "secondary" }, "Send to the booth"),
  );
  const refresh = async () => {
    const answer = await api(`/live/${event.id}/notes`);
    if (!answer.ok) return;
    list.replaceChildren(
      ...answer.data.notes.slice(-12).map((n) => {
        const when = new Date(n.at * 1000).toLocaleTimeString();
        const what = n.kind === "chat" ? n.text : NOTE_KINDS[n.kind];
        const who = n.sender === "organizer" ? `you to ${n.channel === "*" ? "every booth" : title(n.channel)}` : `${n.sender === "speaker" ? "the floor speaker" : "the interpreter"} of ${title(n.channel)}`;
        return h("li", { class: n.kind === "chat" ? "" : "signal" }, `${when} · ${who}: ${what}`);
      }),
    );
  };
  form.addEventListener("submit", async (submitEvent) => {
    submitEvent.preventDefault();
    const body = { text: text.value.trim() };
    if (target.value) body.channel = target.value;
    const answer = await api(`/live/${event.id}/notes`, { method: "POST", body });
    if (answer.ok) text.value = "";
    refresh();
  });
  refresh();
  const timer = setInterval(refresh, 2000);
  // A message to every listener: a banner on their pages.
  const announcement = h("input", { id: "announcement", maxlength: "500", required: true, autocomplete: "off" });
  const sent = h("span", { class: "muted", "aria-live": "polite" });
  const announceForm = h(
    "form",
    { class: "controls" },
    h("label", { for: "announcement" }, "Message to all listeners"),
    announcement,
    h("button", { type: "submit", class: "secondary" }, "Show to listeners"),
    sent,
  );
  announceForm.addEventListener("submit", async (submitEvent) => {
    submitEvent.preventDefault();
    const answer = await api(`/live/${event.id}/announce`, { method: "POST", body: { text: announcement.value.trim() } });
    sent.textContent = answer.ok ? "Shown to every listener." : answer.detail;
    if (answer.ok) announcement.value = "";
  });
  const box = h("section", { "aria-label": "Booth notes" }, h("h4", {}, "Booth notes"), list, form, announceForm);
  box.stop = () => clearInterval(timer);
  return box;
}
