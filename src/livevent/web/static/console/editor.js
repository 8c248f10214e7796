// Create or edit an event: its fields, channels and glossary. An edit names the version it
// was made on; when someone else changed the event first, it offers to reload, never overwrites.
import { api, session } from "/static/console/api.js";
import { clearProblems, field, h, localInput, say, showProblem } from "/static/console/dom.js";
import { glossaryTable, parseGlossary } from "/static/console/glossary.js";

// Offered as you type (any other BCP-47 tag is accepted too); each shown by its names.
const LANGUAGES = [
  "en-US", "en-GB", "es-ES", "es-419", "es-MX", "fr-FR", "fr-CA", "de-DE", "it-IT", "pt-PT", "pt-BR",
  "ca-ES", "gl-ES", "eu-ES", "nl-NL", "pl-PL", "ro-RO", "ru-RU", "uk-UA", "cs-CZ", "sk-SK", "hu-HU",
  "bg-BG", "hr-HR", "sl-SI", "el-GR", "tr-TR", "sv-SE", "da-DK", "nb-NO", "fi-FI", "et-EE", "lv-LV",
  "lt-LT", "ar", "he-IL", "fa-IR", "hi-IN", "zh-CN", "zh-TW", "ja-JP", "ko-KR", "id-ID", "vi-VN", "th-TH", "sw",
];

/** "Català (Catalan, Spain)": the language in its own name, then in the console's. */
export function languageName(tag) {
  try {
    const english = new Intl.DisplayNames(["en"], { type: "language", languageDisplay: "standard" }).of(tag);
    const base = tag.split("-")[0];
    const own = new Intl.DisplayNames([base], { type: "language", languageDisplay: "standard" }).of(base);
    const englishBase = new Intl.DisplayNames(["en"], { type: "language" }).of(base);
    const ownName = own ? own.charAt(0).toLocaleUpperCase(base) + own.slice(1) : "";
    return ownName && ownName.toLowerCase() !== englishBase.toLowerCase() ? `${ownName} · ${english}` : english;
  } catch {
    return "";
  }
}

const fold = (text) => text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();

let byName = null; // folded name (in English or in itself) -> the first tag offered for it

function namesOfLanguages() {
  const map = new Map();
  const english = new Intl.DisplayNames(["en"], { type: "language" });
  for (const tag of LANGUAGES) {
    const base = tag.split("-")[0];
    try {
      for (const name of [english.of(base), new Intl.DisplayNames([base], { type: "language" }).of(base)]) {
        if (name && !map.has(fold(name))) map.set(fold(name), tag);
      }
    } catch {
      // A tag this browser cannot name: matched by its code only.
    }
  }
  return map;
}

/** The tag a typed language stands for: a name ("Deutsch", "français", "Catalan")
 * becomes the first tag offered for it (de-DE, fr-FR, ca-ES); a tag stays as typed. */
export function tagOf(typed) {
  const text = typed.trim();
  if (!text) return "";
  byName ??= namesOfLanguages();
  return byName.get(fold(text)) || text;
}

/** A language input's companion: the name of what was typed, or why it is not one. */
function nameBeside(input) {
  const note = h("small", { class: "language-name", "aria-live": "polite" });
  const show = () => {
    const typed = input.value.trim();
    const tag = tagOf(typed);
    const name = tag ? languageName(tag) : "";
    note.textContent = !typed ? "" : !name ? "not a language we know: type its name or a tag such as ca-ES" : tag !== typed ? `${name} (${tag})` : name;
  };
  input.addEventListener("input", show);
  show();
  return note;
}
const KINDS = { human: "Interpreter", machine: "Machine" };

function zones() {
  const list = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return h("datalist", { id: "zones" }, ["UTC", ...list].map((z) => h("option", { value: z })));
}

function channelRow(channel, index, sourceInput, interpreters) {
  const floor = channel.kind === "floor";
  const prefix = `channel-${index}`;
  const language = h("input", {
    value: floor ? sourceInput.value : channel.language || "",
    list: "languages",
    required: true,
    disabled: floor,
    autocomplete: "off",
  });
  if (floor) {
    sourceInput.addEventListener("input", () => {
      language.value = sourceInput.value;
      language.dispatchEvent(new Event("input"));
    });
  }
  const kind = floor
    ? h("input", { value: "Floor (the original)", disabled: true })
    : h(
        "select",
        {},
        Object.entries(KINDS).map(([value, text]) =>
          h("option", { value, selected: channel.kind === value }, text),
        ),
      );
  const label = h("input", { value: channel.label || "", maxlength: "80" });
  const voice = h("input", {
    value: channel.voice || "",
    maxlength: "80",
    placeholder: "the best there is",
  });
  const voiceRow = field(`${prefix}-voice`, "Voice", voice, {
    hint: "engine[:voice], e.g. pico or espeak:es; none: captions only",
    error: `channels.${index}.voice`,
  });
  // What the organizer should know of the machine voice for this language (a voice
  // hard to follow, or none): the server measured its voices, and says.
  const voiceNote = h("p", { class: "voice-note", role: "status", "aria-live": "polite" });
  voiceRow.append(voiceNote);
  const checkVoice = async () => {
    voiceNote.textContent = "";
    const tag = language.value.trim();
    if (floor || kind.value !== "machine" || !tag || voice.value.trim() === "none") return;
    const answer = await api(`/live/voices/${encodeURIComponent(tag)}`);
    if (answer.ok && answer.data.warning && language.value.trim() === tag) {
      voiceNote.textContent = `Warning: ${answer.data.warning}. Listeners will be told.`;
    }
  };
  const showVoice = () => {
    voiceRow.hidden = floor || kind.value !== "machine";
    checkVoice();
  };
  // An interpreter's channel may have the machine stand in while nobody is on air; a
  // machine channel may translate an interpreter (a relay) instead of the floor.
  const fallback = h("input", { type: "checkbox", id: `${prefix}-fallback`, checked: channel.fallback === "machine" });
  const fallbackRow = h("div", { class: "form-row check" }, fallback, h("label", { for: `${prefix}-fallback` }, "While no interpreter is on air, the machine interprets"));
  const relay = h("select", { id: `${prefix}-source` });
  const relayRow = field(`${prefix}-source`, "Translates", relay, {
    hint: "an interpreter's channel (a relay), or the floor",
    error: `channels.${index}.source`,
  });
  const fillRelay = () => {
    const chosen = relay.value || channel.source || "";
    // The stored relay stays a choice even before its interpreter's row is drawn.
    const known = channel.source ? [channel.source] : [];
    const choices = [...new Set([...interpreters(), ...known])].filter((tag) => tag && tag !== language.value.trim());
    relay.replaceChildren(
      h("option", { value: "" }, "The floor (the original)"),
      ...choices.map((tag) => h("option", { value: tag, selected: tag === chosen }, `The interpreter of ${languageName(tag) || tag} (relay)`)),
    );
  };
  relay.addEventListener("focus", fillRelay);
  fillRelay();
  const showOptions = () => {
    fallbackRow.hidden = floor || kind.value !== "human";
    relayRow.hidden = floor || kind.value !== "machine";
  };
  kind.addEventListener?.("change", showOptions);
  showOptions();
  kind.addEventListener?.("change", showVoice);
  language.addEventListener("change", checkVoice);
  voice.addEventListener("change", checkVoice);
  showVoice();
  const remove = floor
    ? null
    : h("button", { type: "button", class: "secondary", "aria-label": `Remove channel ${channel.language || index + 1}` }, "Remove");
  const row = h(
    "fieldset",
    { class: "channel-row", "data-index": index },
    h("legend", {}, floor ? "Floor channel" : `Channel ${channel.number || "(new)"}`),
    field(`${prefix}-language`, "Language", language, { error: `channels.${index}.language` }),
    nameBeside(language),
    field(`${prefix}-kind`, "Kind", kind, { error: `channels.${index}.kind` }),
    field(`${prefix}-label`, "Label listeners see", label, { error: `channels.${index}.label` }),
    voiceRow,
    fallbackRow,
    relayRow,
    remove,
  );
  row.spec = () => {
    const spec = { ...channel, language: tagOf(language.value), label: label.value.trim() || null };
    if (!floor) spec.kind = kind.value;
    spec.voice = spec.kind === "machine" && voice.value.trim() ? voice.value.trim() : null;
    spec.fallback = spec.kind === "human" && fallback.checked ? "machine" : null;
    spec.source = spec.kind === "machine" && relay.value ? relay.value : null;
    if (spec.number == null) delete spec.number;
    return spec;
  };
  remove?.addEventListener("click", () => {
    const next = row.nextElementSibling?.querySelector("input") || row.previousElementSibling?.querySelector("input");
    row.remove();
    next?.focus();
  });
  return row;
}

/** The form; `event` is null for a new one. `onSaved(event)` after a save. */
export function editorView(root, event, onSaved) {
  const isNew = event == null;
  let version = event?.version ?? null;
  const zone = event?.timezone || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const name = h("input", { value: event?.name || "", required: true, maxlength: "200", autocomplete: "off" });
  const starts = h("input", { type: "datetime-local", required: true, value: localInput(event?.starts_at, zone) });
  const ends = h("input", { type: "datetime-local", value: localInput(event?.ends_at, zone) });
  const timezone = h("input", { value: zone, list: "zones", required: true, autocomplete: "off" });
  const source = h("input", { value: event?.source_language || "en-US", list: "languages", required: true, autocomplete: "off" });
  const isPublic = h("input", { type: "checkbox", checked: event ? event.public : true });
  const broadcast = h("input", { type: "checkbox", id: "event-broadcast", checked: event ? event.broadcast !== false : true });
  const cap = h("input", { type: "number", min: "1", max: "1000000", value: event?.max_listeners ?? "" });
  const glossary = h("input", { type: "file", accept: ".csv,text/csv" });
  const glossaryInfo = h("small", { class: "muted", "aria-live": "polite" });
  const customer = h("select", {});
  const channels = h("div", { class: "channel-rows" });
  const channelLanguages = () =>
    [...channels.querySelectorAll("input[id$='-language']:not([disabled])")].map((input) => input.value.trim()).filter(Boolean);
  const terms = glossaryTable(event?.glossary || [], channelLanguages, h);
  const addInterpreter = h("button", { type: "button", class: "secondary", id: "add-interpreter" }, "Add an interpreter channel");
  const addChannel = h("button", { type: "button", class: "secondary", id: "add-machine" }, "Add a machine channel");
  const submit = h("button", { type: "submit" }, isNew ? "Create the event" : "Save changes");
  const stale = h("div", { class: "stale", role: "alert", hidden: true });
  let rows = 0;
  const interpreters = () =>
    [...channels.children].map((row) => row.spec()).filter((spec) => spec.kind === "human").map((spec) => spec.language);
  const add = (channel) => channels.append(channelRow(channel, rows++, source, interpreters));
  for (const channel of event?.channels || [{ kind: "floor" }]) add(channel);
  for (const [button, kind] of [[addInterpreter, "human"], [addChannel, "machine"]]) {
    button.addEventListener("click", () => {
      add({ kind, language: "" });
      channels.lastElementChild.querySelector("input").focus();
    });
  }

  const form = h(
    "form",
    { class: "editor", novalidate: true, "aria-labelledby": "editor-title" },
    h("h3", { id: "editor-title" }, "Details and channels"),
    h("p", { class: "form-error", role: "alert" }),
    stale,
    field("event-name", "Name", name, { error: "name" }),
    isNew && session.admin ? field("event-customer", "Customer", customer, { error: "customer_id" }) : null,
    h(
      "div",
      { class: "grid" },
      field("event-starts", "Starts", starts, { error: "starts_at" }),
      field("event-ends", "Ends (planned)", ends, { error: "ends_at" }),
      field("event-timezone", "Time zone", timezone, { error: "timezone", hint: "the times above are in this zone" }),
    ),
    h(
      "div",
      { class: "grid" },
      h("div", {}, field("event-source", "Language spoken on the floor", source, { error: "source_language", hint: "type its name or code, e.g. Català or ca-ES" }), nameBeside(source)),
      field("event-cap", "Listener cap", cap, { error: "max_listeners", hint: "empty: the customer's limit" }),
      h("div", { class: "form-row check" }, isPublic, h("label", { for: "event-public" }, "Public: listeners need no token")),
      h("div", { class: "form-row check" }, broadcast, h("label", { for: "event-broadcast" }, "Broadcast: also send every channel out as HLS (audiences of any size, through a CDN)")),
    ),
    h("h4", {}, "Glossary"),
    h("p", { class: "muted" }, "Names and terms the machine channels must say this way (the booths see them too)."),
    terms,
    field("event-glossary", "Or read a CSV file (term, then one column per language)", glossary, { error: "glossary" }),
    glossaryInfo,
    h("h4", {}, "Channels"),
    channels,
    h("div", { class: "controls" }, addInterpreter, addChannel, submit),
    zones(),
    h("datalist", { id: "languages" }, LANGUAGES.map((l) => h("option", { value: l, label: languageName(l) }))),
  );
  isPublic.id = "event-public";
  glossary.addEventListener("change", async () => {
    const file = glossary.files[0];
    if (!file) return;
    try {
      const entries = parseGlossary(await file.text());
      terms.replace(entries);
      glossaryInfo.textContent = `${entries.length} terms read from ${file.name}: check them above; they are saved with the event.`;
    } catch (error) {
      glossaryInfo.textContent = error.message;
    }
  });
  channels.addEventListener("change", () => terms.refresh());
  if (isNew && session.admin) {
    api("/api/customers").then((answer) => {
      for (const c of answer.data?.items || []) customer.append(h("option", { value: c.id }, `${c.name} (${c.id})`));
    });
  }

  form.addEventListener("submit", async (submitEvent) => {
    submitEvent.preventDefault();
    clearProblems(form);
    stale.hidden = true;
    const specs = [...channels.children].map((row) => row.spec());
    // Every blank at once (the server would name one, or say "not a valid datetime").
    const blanks = [
      ["name", !name.value.trim(), "give the event a name"],
      ["starts_at", !starts.value, "pick the day and the time it starts"],
      ["timezone", !timezone.value.trim(), "name its time zone, e.g. Europe/Madrid"],
      ["source_language", !source.value.trim(), "name the language spoken on the floor"],
      ...specs.map((spec, index) => [`channels.${index}.language`, !spec.language, "name the channel's language"]),
    ].filter(([, blank]) => blank);
    if (blanks.length) {
      showProblem(form, { detail: blanks.map(([key, , what]) => `${key}: ${what}`).join("; "), fields: blanks.map(([key]) => key) });
      return;
    }
    const body = {
      name: name.value.trim(),
      starts_at: starts.value || null,
      ends_at: ends.value || null,
      timezone: timezone.value.trim(),
      source_language: tagOf(source.value),
      public: isPublic.checked,
      broadcast: broadcast.checked,
      max_listeners: cap.value ? Number(cap.value) : null,
      channels: specs,
    };
    if (isNew || terms.changed()) body.glossary = terms.entries();
    if (isNew && session.admin && customer.value) body.customer_id = Number(customer.value);
    if (!isNew) for (const key of ["ends_at", "max_listeners"]) if (body[key] === null) delete body[key];
    submit.disabled = true;
    const answer = isNew
      ? await api("/api/events", { method: "POST", body })
      : await api(`/api/events/${event.id}`, { method: "PATCH", body, version });
    submit.disabled = false;
    if (answer.ok) {
      version = answer.data.version;
      say(isNew ? `Event ${answer.data.id} created.` : "Saved.", "ok");
      onSaved(answer.data);
      return;
    }
    if (answer.problem?.type === "urn:livevent:problem:version-conflict") {
      staleNotice(stale, event.id);
      return;
    }
    showProblem(form, answer.problem);
  });
  root.replaceChildren(form);
  return form;
}

function staleNotice(box, eventId) {
  const reload = h("button", { type: "button" }, "Reload the event");
  reload.addEventListener("click", () => window.dispatchEvent(new CustomEvent("console:reload", { detail: eventId })));
  box.replaceChildren(
    h("p", {}, "Someone else changed this event since you opened it. Your changes were not saved; reload to see theirs, then make yours again."),
    reload,
  );
  box.hidden = false;
  reload.focus();
}
