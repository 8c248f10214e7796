// An invitation's one-time link: spend its code once, keep the tokens for this tab, go speak.
import { fragmentParams, rememberSpeaker } from "/static/common.js";

const code = fragmentParams().get("code");
// The code is spent now: take it out of the address bar and the history.
history.replaceState(null, "", window.location.pathname);
const message = document.getElementById("message");

async function signIn() {
  if (!code) {
    message.textContent = "This link has no sign-in code. Ask the organizer for a new one.";
    return;
  }
  const response = await fetch("/api/auth/link", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ code }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    message.textContent = `${body.detail || "This link does not work."} Ask the organizer for a new one.`;
    return;
  }
  const [, , eventId] = body.next.split("/");
  rememberSpeaker(eventId, body);
  window.location.replace(body.next);
}

signIn();
