// What stays after an event: each channel's recorded parts, and the transcript as files.
import { api, download } from "/static/console/api.js";
import { archiveView } from "/static/console/archive.js";
import { h, say } from "/static/console/dom.js";

function size(bytes) {
  return bytes > 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.ceil(bytes / 1e3)} kB`;
}

function minutes(seconds) {
  if (seconds == null) return "-";
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

async function save(button, path, filename) {
  button.disabled = true;
  try {
    await download(path, filename);
    say(`Downloading ${filename}.`, "ok");
  } catch (error) {
    say(error.message, "error");
  } finally {
    button.disabled = false;
  }
}

export async function filesView(box, event) {
  const recordings = h("div", { "aria-live": "polite" });
  if (event.status === "ENDED" && event.broadcast !== false) await archiveView(box, event);
  box.append(h("h4", {}, "Recordings (Ogg Opus, one per channel and part)"), recordings, transcriptForm(event));
  const answer = await api(`/api/events/${event.id}/recordings`);
  if (!answer.ok) {
    recordings.append(h("p", {}, answer.detail));
    return;
  }
  if (!answer.data.items.length) {
    recordings.append(h("p", { class: "muted" }, "Nothing recorded yet: channels are recorded while the event is live."));
    return;
  }
  const rows = answer.data.items.map((part) => {
    const filename = `event-${event.id}-${part.channel}-${part.part}`;
    const button = h("button", { type: "button", class: "secondary", "aria-label": `Download ${part.channel}, part from ${new Date(part.started_at).toLocaleTimeString()}` }, "Download");
    button.addEventListener("click", () => save(button, part.url, filename));
    return h(
      "tr",
      {},
      h("td", {}, part.channel),
      h("td", {}, new Date(part.started_at).toLocaleString()),
      h("td", { class: "num" }, minutes(part.seconds)),
      h("td", { class: "num" }, size(part.bytes)),
      h("td", {}, button),
    );
  });
  recordings.append(
    h(
      "div",
      { class: "table-scroll" },
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, ["Channel", "Began", "Length", "Size", ""].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows),
      ),
    ),
  );
}

function transcriptForm(event) {
  const format = h(
    "select",
    { id: "transcript-format" },
    [["srt", "Subtitles (SRT)"], ["vtt", "Web subtitles (VTT)"], ["txt", "Plain text"], ["json", "JSON"]].map(([value, text]) => h("option", { value }, text)),
  );
  const language = h("select", { id: "transcript-language" });
  const button = h("button", { type: "submit", disabled: true }, "Download the transcript");
  const note = h("p", { class: "muted", "aria-live": "polite" }, "Looking for the transcript…");
  const form = h(
    "form",
    { class: "controls transcript", "aria-label": "Transcript" },
    h("div", { class: "form-row" }, h("label", { for: "transcript-format" }, "Transcript format"), format),
    h("div", { class: "form-row" }, h("label", { for: "transcript-language" }, "Language"), language),
    button,
    note,
  );
  offerLanguages(event, language, button, note);
  form.addEventListener("submit", (submitEvent) => {
    submitEvent.preventDefault();
    const params = new URLSearchParams({ format: format.value, language: language.value });
    save(button, `/api/events/${event.id}/transcript?${params}`, `event-${event.id}-${language.value}.${format.value}`);
  });
  return form;
}

// Right after an event ends, its last sentences (an interpreter's among them: its
// recogniser finishes after the floor's) are still on their way to the store.
const LOOK_AGAIN_MS = 5000;
const LATE_SEGMENTS_MS = 120_000;

/** Whether the event ended moments ago (its end is its last change). */
function justEnded(event) {
  return event.status === "ENDED" && Date.now() - new Date(event.updated_at).getTime() < LATE_SEGMENTS_MS;
}

/** Only the languages the transcript has text in: the floor's, the interpreters', the
 * translations. Just after the end, look again for a minute and offer each language as it
 * arrives (the choice made stays); with none yet, look for a minute anyway. */
async function offerLanguages(event, select, button, note, tries = 12) {
  const answer = await api(`/api/events/${event.id}/transcript`);
  if (!select.isConnected) return;
  if (!answer.ok) {
    note.textContent = answer.detail;
    return;
  }
  const found = new Set();
  for (const segment of answer.data.items) {
    found.add(segment.language);
    for (const language of Object.keys(segment.translations || {})) found.add(language);
  }
  const order = [event.source_language, ...event.channels.map((c) => c.language)];
  const languages = [...found].sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
  const offered = [...select.options].map((option) => option.value);
  if (languages.join() !== offered.join()) {
    const chosen = select.value;
    select.replaceChildren(...languages.map((l) => h("option", { value: l }, l)));
    if (languages.includes(chosen)) select.value = chosen;
    const arrived = languages.filter((l) => !offered.includes(l));
    note.textContent = offered.length && arrived.length ? `Now in the transcript too: ${arrived.join(", ")}.` : "";
  }
  button.disabled = languages.length === 0;
  if (!languages.length) note.textContent = "No transcript: nothing was said while the event was live.";
  if (tries > 1 && (justEnded(event) || !languages.length)) {
    setTimeout(() => offerLanguages(event, select, button, note, tries - 1), LOOK_AGAIN_MS);
  }
}
