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
