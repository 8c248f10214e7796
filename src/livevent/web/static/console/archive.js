// The ended broadcast in the console: every channel's recording with its captions on one
// clock, for private events too (the organizer's token asks for its signed address).
import { BroadcastPlayer } from "/static/broadcast.js";
import { api } from "/static/console/api.js";
import { h } from "/static/console/dom.js";
import { languageName } from "/static/console/editor.js";

export async function archiveView(box, event) {
  const answer = await api(`/live/${event.id}/hls`);
  if (!answer.ok || !answer.data.live) return; // never broadcast, or turned off
  const audio = h("audio", { controls: true, id: "archive-audio", preload: "none" });
  const language = h("select", { id: "archive-language", "aria-label": "Language of the recording" });
  for (const channel of event.channels) {
    language.append(h("option", { value: channel.language }, channel.label || languageName(channel.language)));
  }
  const caption = h("p", { class: "caption", id: "archive-caption", "aria-live": "polite" });
  const play = h("button", { type: "button", class: "secondary", id: "archive-play" }, "Play the recording");
  const player = new BroadcastPlayer(audio, {
    onCue: (text) => (caption.textContent = text),
    onProblem: (problem) => (caption.textContent = `The recording cannot be played: ${problem}.`),
  });
  play.addEventListener("click", () => {
    play.hidden = true;
    player.start(answer.data.url, language.value).catch(() => {});
  });
  language.addEventListener("change", () => {
    caption.textContent = "";
    player.choose(language.value);
  });
  box.append(
    h("h4", {}, "The broadcast, recorded"),
    h("p", { class: "muted" }, "Every channel on one clock, with its captions as subtitles."),
    h("div", { class: "controls" }, language, play),
    audio,
    caption,
  );
  if (event.public) {
    // The listeners' page plays the same archive for anyone with its link.
    box.append(h("p", {}, h("a", { href: `/listen/${event.id}`, id: "archive-link" }, "The listeners' archive page"), h("small", { class: "muted" }, " (anyone with its link can play it)")));
  }
}
