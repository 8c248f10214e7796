// Speakers and interpreters of one event: who is invited where, and inviting someone.
import { api, raw } from "/static/console/api.js";
import { clearProblems, field, h, say, showLink, showProblem } from "/static/console/dom.js";
import { languageName } from "/static/console/editor.js";

function channelName(event, number) {
  const channel = event.channels.find((c) => c.number === number);
  if (!channel) return `channel ${number}`;
  const name = channel.label || languageName(channel.language) || channel.language;
  return channel.kind === "floor" ? `the floor (${name})` : `${name} (channel ${number})`;
}

function grantText(event, grant) {
  if (grant.can === "interpret") return `interprets ${channelName(event, grant.channel)}`;
  if (grant.can === "speak") return "speaks on the floor";
  return `${grant.can}s the event`;
}

export async function peopleView(box, event) {
  const list = h("ul", { class: "people", "aria-live": "polite" });
  const result = h("div", { class: "invitation", hidden: true, role: "status", tabindex: "-1" });
  const over = ["ENDED", "CANCELLED"].includes(event.status);
  box.append(list, over ? "" : inviteForm(event, list, result), result);
  await renderPeople(list, event);
}

async function renderPeople(list, event) {
  const answer = await api(`/api/events/${event.id}/people`);
  if (!answer.ok) {
    list.replaceChildren(h("li", {}, answer.detail));
    return;
  }
  if (!answer.data.items.length) {
    list.replaceChildren(h("li", { class: "muted" }, "Nobody is invited yet."));
    return;
  }
  list.replaceChildren(
    ...answer.data.items.map((user) => {
      const grants = user.grants.filter((g) => g.event === event.id).map((g) => grantText(event, g));
      const remove = h("button", { type: "button", class: "secondary", "aria-label": `Remove ${user.name} from this event` }, "Remove");
      remove.addEventListener("click", async () => {
        const response = await raw(`/api/events/${event.id}/people/${user.id}`, { method: "DELETE" });
        say(response.ok ? `${user.name} can no longer speak at this event.` : "Could not remove them.", response.ok ? "ok" : "error");
        await renderPeople(list, event);
      });
      // A lost link: a new one, for each place they hold (the old ones stop working).
      const renew = user.grants
        .filter((g) => g.event === event.id && ["speak", "interpret"].includes(g.can))
        .map((g) => {
          const button = h("button", { type: "button", class: "secondary", "aria-label": `A new link for ${user.name}: ${grantText(event, g)}` }, "New link");
          button.addEventListener("click", async () => {
            const body = { user_id: user.id, channel: g.channel ?? floorNumber(event) };
            const answer = await api(`/api/events/${event.id}/invitations`, { method: "POST", body });
            if (!answer.ok) say(answer.detail, "error");
            else showInvitation(list.parentElement.querySelector(".invitation"), answer.data);
          });
          return button;
        });
      return h("li", {}, h("strong", {}, user.name), ` <${user.email}> `, grants.join(", "), " ", ...renew, " ", remove);
    }),
  );
}

function floorNumber(event) {
  return event.channels.find((c) => c.kind === "floor")?.number ?? 1;
}

/** What an invitation gave: a link to hand over (with a copy button), or what happened
 * (the server says when a link made before stops working). */
function showInvitation(result, invitation) {
  if (invitation.delivery !== "link") {
    // Mailed to them, or an account they already sign in with: the console holds no link.
    result.replaceChildren(h("p", {}, invitation.message));
    result.hidden = false;
    result.focus();
  } else {
    showLink(result, {
      id: "invite-link",
      label: "Sign-in link",
      url: invitation.link,
      message: invitation.message,
      expiresAt: invitation.expires_at,
    });
  }
}

function inviteForm(event, list, result) {
  const seats = event.channels.filter((c) => c.kind !== "machine");
  const channel = h("select", {}, seats.map((c) => h("option", { value: c.number }, channelName(event, c.number))));
  const existing = h("select", {}, h("option", { value: "" }, "Someone new (fill in below)"));
  const email = h("input", { type: "email", autocomplete: "off", maxlength: "254" });
  const name = h("input", { autocomplete: "off", maxlength: "200" });
  const newPerson = h("div", { class: "grid" }, field("invite-email", "Their email", email, { error: "email" }), field("invite-name", "Their name", name, { error: "name" }));
  existing.addEventListener("change", () => (newPerson.hidden = Boolean(existing.value)));
  // Who may be invited: the people known so far, again after each invitation (a newcomer
  // invited now is someone to pick next time).
  const fillWho = async () => {
    const answer = await api("/api/users");
    const chosen = existing.value;
    existing.replaceChildren(h("option", { value: "" }, "Someone new (fill in below)"));
    for (const user of answer.data?.items || []) {
      if (user.role === "speaker" || user.role === "listener") {
        existing.append(h("option", { value: user.id, selected: String(user.id) === chosen }, `${user.name} <${user.email}>`));
      }
    }
  };
  fillWho();
  const form = h(
    "form",
    { class: "invite", novalidate: true, "aria-labelledby": "invite-title" },
    h("h4", { id: "invite-title" }, "Invite someone to speak or interpret"),
    h("p", { class: "form-error", role: "alert" }),
    h("div", { class: "grid" }, field("invite-channel", "Where", channel, { error: "channel" }), field("invite-user", "Who", existing, { error: "user_id" })),
    newPerson,
    h("button", { type: "submit" }, "Invite"),
  );
  form.addEventListener("submit", async (submitEvent) => {
    submitEvent.preventDefault();
    clearProblems(form);
    const body = { channel: Number(channel.value) };
    if (existing.value) body.user_id = Number(existing.value);
    else Object.assign(body, { email: email.value.trim(), name: name.value.trim() });
    const answer = await api(`/api/events/${event.id}/invitations`, { method: "POST", body });
    if (!answer.ok) {
      showProblem(form, answer.problem);
      return;
    }
    showInvitation(result, answer.data);
    email.value = "";
    name.value = "";
    await renderPeople(list, event);
    await fillWho();
  });
  return form;
}
