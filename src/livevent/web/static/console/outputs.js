// Streaming platforms: each channel pushed to a platform's RTMP ingest while the event is
// live (one stream per language, as Kaltura, IBM Video or YouTube take them). The
// stream key is a secret: once added, only the address without it is shown.
import { api } from "/static/console/api.js";
import { field, h, say } from "/static/console/dom.js";

export async function outputsView(box, event) {
  const list = h("ul", { id: "outputs-list", class: "outputs" });
  const refresh = async () => {
    const answer = await api(`/api/events/${event.id}/outputs`);
    if (!answer.ok) {
      list.replaceChildren(h("li", {}, answer.detail));
      return;
    }
    const items = answer.data.items;
    list.replaceChildren(
      ...(items.length
        ? items.map((output) => {
            const remove = h("button", { type: "button", class: "secondary", "aria-label": `Stop pushing ${output.channel} to ${output.target}` }, "Remove");
            remove.addEventListener("click", async () => {
              const gone = await api(`/api/events/${event.id}/outputs/${output.id}`, { method: "DELETE" });
              if (!gone.ok) say(gone.detail, "error");
              else say(`Stopped pushing ${output.channel} to ${output.target}.`, "ok");
              refresh();
            });
            return h("li", { "data-output": String(output.id) }, `${labelOf(event, output.channel)} → ${output.target} `, remove);
          })
        : [h("li", { class: "muted" }, "Nothing is pushed to a platform.")]),
    );
  };
  if (["ENDED", "CANCELLED"].includes(event.status)) {
    box.append(list);
    refresh();
    return;
  }
  const channel = h("select", { id: "output-channel" }, event.channels.map((c) => h("option", { value: c.language }, labelOf(event, c.language))));
  const url = h("input", { id: "output-url", type: "password", autocomplete: "off", required: true, placeholder: "rtmp://host/app/stream-key", maxlength: "2000" });
  const form = h(
    "form",
    { class: "controls" },
    field("output-channel", "Channel", channel),
    field("output-url", "Ingest address with its stream key", url, { hint: "The platform's RTMP address and key. Kept secret: it is not shown again." }),
    h("button", { type: "submit" }, "Push to this platform"),
  );
  form.addEventListener("submit", async (submitEvent) => {
    submitEvent.preventDefault();
    const answer = await api(`/api/events/${event.id}/outputs`, { method: "POST", body: { channel: channel.value, url: url.value.trim() } });
    if (!answer.ok) {
      say(answer.detail, "error");
      url.focus();
      return;
    }
    url.value = "";
    say(`${labelOf(event, answer.data.channel)} is pushed to ${answer.data.target} while the event is live.`, "ok");
    refresh();
  });
  box.append(h("p", { class: "muted" }, "Each channel as an audio-only stream for the platform that shows your video: one address per language."), list, form);
  refresh();
}

function labelOf(event, language) {
  const channel = event.channels.find((c) => c.language === language);
  return channel?.label || language;
}
