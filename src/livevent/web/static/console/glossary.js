// A glossary from a CSV file: a header `term,es-ES,fr-FR`, then one term per line.

function cells(line) {
  const out = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted && c === '"' && line[i + 1] === '"') {
      current += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (c === "," && !quoted) {
      out.push(current.trim());
      current = "";
    } else {
      current += c;
    }
  }
  out.push(current.trim());
  return out;
}

export function parseGlossary(text) {
  const lines = text.split(/\r?\n/).filter((line) => line.trim());
  if (lines.length < 2) throw new Error("The glossary file needs a header line and at least one term.");
  const [first, ...languages] = cells(lines[0]);
  if (first.toLowerCase() !== "term" || !languages.length) {
    throw new Error("The first line must be: term, then one language tag per column (e.g. term,es-ES).");
  }
  return lines.slice(1).map((line, n) => {
    const [term, ...translated] = cells(line);
    if (!term) throw new Error(`Line ${n + 2} has no term.`);
    const translations = {};
    languages.forEach((language, i) => {
      if (translated[i]) translations[language] = translated[i];
    });
    return { term, translations };
  });
}

/**
 * The glossary as a table the organizer reads and edits: a term per row, its translation
 * in each channel's language per column. `languages()` says which columns to show (the
 * event's channels); `entries()` is what is saved. Rows with no term are left out.
 */
export function glossaryTable(initial, languages, h) {
  let rows = initial.map((entry) => ({ term: entry.term, translations: { ...entry.translations } }));
  let dirty = false;
  const body = h("tbody", {});
  const head = h("thead", {});
  const add = h("button", { type: "button", class: "secondary", id: "glossary-add" }, "Add a term");
  const count = h("small", { class: "muted", "aria-live": "polite" });
  const box = h("div", { class: "glossary-editor" }, h("div", { class: "table-scroll" }, h("table", { "aria-label": "Glossary" }, head, body)), h("div", { class: "controls" }, add, count));
  const columns = () => {
    const wanted = new Set(languages());
    for (const row of rows) for (const language of Object.keys(row.translations)) wanted.add(language);
    return [...wanted];
  };
  const render = () => {
    const shown = columns();
    head.replaceChildren(h("tr", {}, h("th", { scope: "col" }, "Term"), ...shown.map((l) => h("th", { scope: "col" }, l)), h("th", {}, "")));
    body.replaceChildren(
      ...rows.map((row, index) => {
        const term = h("input", { value: row.term, "aria-label": `Term ${index + 1}`, maxlength: "200" });
        term.addEventListener("input", () => {
          row.term = term.value;
          dirty = true;
        });
        const cells = shown.map((language) => {
          const input = h("input", { value: row.translations[language] || "", "aria-label": `Term ${index + 1} in ${language}`, maxlength: "200" });
          input.addEventListener("input", () => {
            if (input.value.trim()) row.translations[language] = input.value;
            else delete row.translations[language];
            dirty = true;
          });
          return h("td", {}, input);
        });
        const remove = h("button", { type: "button", class: "secondary", "aria-label": `Remove term ${index + 1}` }, "Remove");
        remove.addEventListener("click", () => {
          rows.splice(index, 1);
          dirty = true;
          render();
        });
        return h("tr", {}, h("td", {}, term), ...cells, h("td", {}, remove));
      }),
    );
    const terms = rows.filter((r) => r.term.trim()).length;
    count.textContent = terms ? `${terms} term${terms === 1 ? "" : "s"}.` : "No terms yet.";
  };
  add.addEventListener("click", () => {
    rows.push({ term: "", translations: {} });
    dirty = true;
    render();
    body.lastElementChild?.querySelector("input")?.focus();
  });
  render();
  let shownColumns = columns().join(" ");
  // A channel's language changed: new columns, but never a redraw under the typist's hands.
  box.refresh = () => {
    if (columns().join(" ") === shownColumns) return;
    shownColumns = columns().join(" ");
    render();
  };
  box.replace = (entries) => {
    rows = entries.map((entry) => ({ term: entry.term, translations: { ...entry.translations } }));
    dirty = true;
    render();
  };
  box.changed = () => dirty;
  box.entries = () =>
    rows
      .filter((row) => row.term.trim())
      .map((row) => ({
        term: row.term.trim(),
        translations: Object.fromEntries(Object.entries(row.translations).map(([l, t]) => [l, t.trim()]).filter(([, t]) => t)),
      }));
  return box;
}
