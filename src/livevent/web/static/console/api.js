// The console's one door to the server: the signed-in session, bearer tokens, problems.
const STORAGE = "livevent:manager";

export const session = {
  tokens: JSON.parse(sessionStorage.getItem(STORAGE) || "null"),
  claims: null,
  save(tokens) {
    this.tokens = tokens;
    if (tokens) sessionStorage.setItem(STORAGE, JSON.stringify(tokens));
    else sessionStorage.removeItem(STORAGE);
  },
  get admin() {
    return this.claims?.role === "admin";
  },
};

/** What an answer holds: ok, status, data (JSON) or problem (RFC 9457), the ETag version. */
export class Answer {
  constructor(response, data) {
    this.ok = response.ok;
    this.status = response.status;
    this.data = response.ok ? data : null;
    this.problem = response.ok ? null : data || { detail: `${response.status} ${response.statusText}` };
    const etag = response.headers.get("ETag");
    this.version = etag ? Number(etag.replace(/\D/g, "")) : null;
  }

  get detail() {
    return this.problem?.detail || "";
  }
}

async function refresh() {
  if (!session.tokens?.refresh) return false;
  const response = await fetch("/api/auth/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: session.tokens.refresh }),
  });
  if (!response.ok) return false;
  const pair = await response.json();
  session.save({ access: pair.access_token, refresh: pair.refresh_token });
  return true;
}

export async function raw(path, { method = "GET", body, version, retried = false } = {}) {
  const headers = {};
  if (session.tokens) headers.Authorization = `Bearer ${session.tokens.access}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (version != null) headers["If-Match"] = `"${version}"`;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && !retried && (await refresh())) {
    return raw(path, { method, body, version, retried: true });
  }
  return response;
}

/** A JSON call: never throws for an HTTP error, answers with what the server said. */
export async function api(path, options = {}) {
  let response;
  try {
    response = await raw(path, options);
  } catch (error) {
    return new Answer({ ok: false, status: 0, statusText: "offline", headers: new Headers() }, {
      detail: `The server cannot be reached (${error.message}).`,
    });
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: text.slice(0, 200) };
  }
  return new Answer(response, data);
}

/** Save a protected file: fetched with the token, handed to the browser as a download. */
export async function download(path, filename) {
  const response = await raw(path);
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    throw new Error(problem.detail || `download failed (${response.status})`);
  }
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export async function signIn(email, password) {
  const response = await fetch("/api/auth/token", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) return body.detail || "Cannot sign in.";
  session.save({ access: body.access_token, refresh: body.refresh_token });
  return null;
}
