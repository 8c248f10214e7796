// An invitation's one-time link: spend its code once, keep the tokens for this tab, go speak.
import { fragmentParams, rememberSpeaker } from "/static/common.js";

const code = fragmentParams().get("code");
const welcome = fragmentParams().get("welcome");
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

// A new manager's welcome link: the code is spent only when a good password is set.
function chooseOwnPassword() {
  document.querySelector("h1").textContent = "Welcome";
  message.textContent = "";
  const form = document.getElementById("welcome-form");
  form.hidden = false;
  form.addEventListener("submit", async (submitEvent) => {
    submitEvent.preventDefault();
    const password = document.getElementById("new-password").value;
    const response = await fetch("/api/auth/welcome", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code: welcome, password }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      message.textContent = response.status === 401 ? `${body.detail} Ask for a new one.` : body.detail || "That did not work.";
      return;
    }
    form.hidden = true;
    message.textContent = `Your password is set. Sign in as ${body.email}…`;
    window.location.replace("/manage");
  });
}

if (welcome) chooseOwnPassword();
else signIn();
