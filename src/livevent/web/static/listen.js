// The listener's page: pick a channel, hear it, read its captions.
import {
  CaptionView,
  ChannelPlayer,
  ReconnectingSocket,
  fragmentParams,
  opusSupported,
  socketUrl,
  stats,
  statusBadge,
  unpackAudio,
} from "/static/common.js";
import { BroadcastPlayer, broadcastAddress } from "/static/broadcast.js";
import { chooseLanguage, t, translatePage } from "/static/listen-words.js";

const eventId = window.location.pathname.split("/").filter(Boolean)[1];
const params = new URLSearchParams(window.location.search);
const token = fragmentParams().get("token") || "";
const $ = (id) => document.getElementById(id);

const state = {
  channel: params.get("channel") || localStorage.getItem(`livevent:${eventId}:channel`) || "",
  floor: null,
  format: "pcm",
  context: null,
  player: null,
  floorPlayer: null,
  floorSocket: null,
  captionsOnly: false,
  over: false,
  broadcast: null, // the HLS broadcast, when the page plays it instead of the live socket
  address: null, // where the broadcast is: {url, delay_s}
  asking: null, // the question of where it is, while it is asked
};
const captions = new CaptionView($("captions"));
// The page speaks the listener's language (the browser's; else the channel's asked for).
chooseLanguage(undefined, state.channel);
translatePage();
const STATUS_KEYS = { SCHEDULED: "WAITING", READY: "WAITING" };

function setStatus(status, reason) {
  stats.status = status;
  statusBadge($("status"), status, (s) => t(`status_${STATUS_KEYS[s] || s}`));
  $("reason").hidden = !reason;
  $("reason").textContent = reason || "";
  if (status === "ENDED" || status === "CANCELLED") {
    state.over = true;
    // Nothing more to hear: no button that promises it.
    $("play").hidden = true;
    stopCountdown();
  }
  if (status === "LIVE") stopCountdown();
}

let countdown = null;
function showCountdown(startsAt) {
  stopCountdown();
  const start = new Date(startsAt);
  if (Number.isNaN(start.getTime())) return;
  const tick = () => {
    const left = Math.round((start.getTime() - Date.now()) / 60000);
    const when = start.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
    $("countdown").textContent =
      left > 0
        ? t("startsIn", { when, left: left >= 90 ? `${Math.round(left / 60)} h` : `${left} min` })
        : t("plannedFor", { when });
  };
  $("countdown").hidden = false;
  tick();
  countdown = setInterval(tick, 30000);
}
function stopCountdown() {
  clearInterval(countdown);
  countdown = null;
  $("countdown").hidden = true;
}

const WAITING_WORDS = { floor: t("waitFloor"), human: t("waitHuman"), machine: t("waitMachine") };
const QUIET = Object.values(WAITING_WORDS);

function renderChannels(channels, current) {
  const box = $("channels");
  box.replaceChildren();
  for (const channel of channels) {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "radio";
    input.name = "channel";
    input.value = channel.language;
    input.checked = channel.language === current;
    input.addEventListener("change", () => switchTo(channel.language));
    const name = document.createElement("span");
    // Listeners read their language's own name: "Català", not "Catalan (Spain)".
    name.textContent = channel.label || channel.own_name || channel.name;
    name.lang = channel.language;
    const kind = document.createElement("span");
    kind.className = "kind";
    kind.textContent = t(`kind_${channel.kind}`);
    label.append(input, name, kind);
    box.append(label);
  }
}

function updateFloorControls() {
  const away = state.floor && state.channel !== state.floor;
  $("floor-controls").hidden = !away || state.captionsOnly;
  if ((!away || !$("floor-mix").checked || state.captionsOnly) && state.floorSocket) {
    state.floorSocket.close();
    state.floorSocket = null;
  }
  if (away && $("floor-mix").checked && !state.captionsOnly && state.context && !state.floorSocket) {
    openFloorMix();
  }
}

const socket = new ReconnectingSocket({
  url: () =>
    socketUrl(window.location.pathname, {
      channel: state.channel,
      format: state.format,
      captions_only: state.captionsOnly ? "1" : "",
      token,
    }),
  onOpen: () => {
    $("connection").textContent = "";
  },
  onMessage: (data) => {
    stats.messages += 1;
    if (typeof data !== "string") {
      stats.audioMessages += 1;
      if (state.player && !state.captionsOnly) state.player.push(unpackAudio(data));
      return;
    }
    const message = JSON.parse(data);
    if (message.type === "welcome") {
      document.title = `${message.event.name} · livevent`;
      $("event-name").textContent = message.event.name;
      state.floor = message.event.source_language;
      if (state.channel !== message.channel) state.player?.reset();
      state.channel = message.channel;
      localStorage.setItem(`livevent:${eventId}:channel`, state.channel);
      state.channels = message.channels;
      renderChannels(message.channels, message.channel);
      setStatus(message.event.status);
      updateFloorControls();
    } else if (message.type === "status") {
      setStatus(message.event_status, message.reason);
      if (message.channel && message.channel !== state.floor && message.machine != null) {
        // Who speaks this channel now: an interpreter, or the machine (standing in).
        $("who").hidden = false;
        $("who").textContent = message.machine ? t("machine") : t("person");
      } else if (message.channel) {
        $("who").hidden = true;
      }
      if (message.event_status === "WAITING" && message.starts_at) showCountdown(message.starts_at);
      const kind = state.channels?.find((c) => c.language === message.channel)?.kind;
      const quiet = message.event_status === "LIVE" && message.channel_state === "waiting" && !message.machine && kind;
      if (quiet) $("status").textContent = t("quiet"); // "Live" over silence looks broken
      if (QUIET.includes($("connection").textContent)) $("connection").textContent = "";
      if (message.ending) {
        // The floor stopped; the channel still says its last sentences before the end.
        $("connection").textContent = t("ending");
      } else if (message.channel_state === "unavailable") {
        $("connection").textContent = t("unavailable");
      } else if (message.channel_warning) {
        // A voice hard to follow: the captions say it better.
        $("connection").textContent = message.channel_warning[0].toUpperCase() + message.channel_warning.slice(1) + ".";
      } else if (message.channel_reason) {
        // A channel that runs without a voice says so: its captions are all there is.
        $("connection").textContent = message.channel_reason[0].toUpperCase() + message.channel_reason.slice(1) + ".";
      } else if (quiet) {
        $("connection").textContent = WAITING_WORDS[kind] || "";
      }
    } else if (message.type === "announcement") {
      // The organizer's message: at the top, where a phone listener looks.
      $("banner-text").textContent = t("fromOrganizers", { text: message.text });
      $("banner").hidden = false;
      stats.announcements = (stats.announcements || 0) + 1;
    } else if (message.type === "caption") {
      captions.show(message);
    } else if (message.type === "channels") {
      state.channels = message.channels;
      renderChannels(message.channels, state.channel); // a channel was added while live
    }
  },
  onClose: (event, final) => {
    if (event.code === 4029 && /full/.test(event.reason || "")) {
      // The live audio has no room left: the broadcast, if there is one, has room for all.
      socket.stopped = true;
      Promise.resolve(state.asking).then((address) => {
        if (!address) {
          $("connection").textContent = t("cannotListen", { reason: event.reason, code: 4029 });
          return;
        }
        state.address = address;
        $("broadcast").checked = true;
        enterBroadcast(t("full"));
      });
      return;
    }
    if (event.code === 4010 || state.over) {
      $("connection").textContent = t("over");
      socket.stopped = true;
    } else if (final) {
      $("connection").textContent = t("cannotListen", { reason: event.reason || "refused", code: event.code });
    } else if (event.code === 4001) {
      $("connection").textContent = t("needsToken");
    }
  },
  onRetry: (delay) => {
    if (socket.stopped) return;
    // The badge must not say Live while we hear nothing of it.
    $("status").textContent = t("reconnecting");
    $("status").className = "badge waiting";
    $("connection").textContent = t("reconnectingIn", { s: (delay / 1000).toFixed(1) });
  },
});

// How far behind the speaker the channel is (machine channels measure it): every 10 s.
async function showLag() {
  if (state.over || !state.channel) return;
  const query = token ? `?token=${encodeURIComponent(token)}` : "";
  try {
    const response = await fetch(`/live/${eventId}/stats${query}`);
    if (!response.ok) return;
    const view = (await response.json()).channels?.[state.channel];
    const lag = view?.evs_s;
    // A relayed channel follows an interpreter, not the floor: say whom it is behind.
    const behind = view?.evs_from && view.evs_from !== state.floor ? "behindInterpreter" : "behindSpeaker";
    $("lag").textContent = lag != null && lag >= 0 ? t(behind, { s: Number(lag).toFixed(1) }) : "";
  } catch {
    // Offline: the socket's own status says so.
  }
}
setInterval(showLag, 10000);

$("banner-close").addEventListener("click", () => ($("banner").hidden = true));

function preferredChannel(channels) {
  const wanted = (navigator.languages?.length ? navigator.languages : [navigator.language]).map((t) => t.toLowerCase());
  const tags = channels.map((c) => c.language.toLowerCase());
  for (const tag of wanted) if (tags.includes(tag)) return channels[tags.indexOf(tag)].language;
  for (const tag of wanted) {
    const found = tags.findIndex((t) => t.split("-")[0] === tag.split("-")[0]);
    if (found >= 0) return channels[found].language;
  }
  return "";
}

/** After the event: the transcript of the language listened to, beside its recording. */
function offerTranscript() {
  const query = new URLSearchParams({ language: state.channel, format: "srt" });
  if (token) query.set("token", token);
  $("transcript-link").href = `/live/${eventId}/transcript?${query}`;
  $("archive-links").hidden = false;
}

function switchTo(language) {
  state.channel = language;
  captions.clear();
  if (!$("archive-links").hidden) offerTranscript();
  if (state.broadcast) {
    state.broadcast.choose(language);
    localStorage.setItem(`livevent:${eventId}:channel`, language);
    return;
  }
  state.player?.reset();
  if (!socket.send({ type: "switch", channel: language })) return;
  updateFloorControls();
}

function openFloorMix() {
  state.floorPlayer = new ChannelPlayer(state.context, { volume: Number($("floor-volume").value) });
  state.floorSocket = new ReconnectingSocket({
    url: () => socketUrl(window.location.pathname, { channel: state.floor, format: state.format, token }),
    onMessage: (data) => {
      if (typeof data !== "string") state.floorPlayer.push(unpackAudio(data));
    },
  });
  state.floorSocket.open();
}

/** Listen to the HLS broadcast instead of the live socket (a delay, but room for all). */
function enterBroadcast(note) {
  socket.close();
  state.player?.reset();
  captions.clear();
  state.broadcast = new BroadcastPlayer($("broadcast-audio"), {
    onCue: (text, index) => captions.show({ type: "caption", channel: state.channel, seq: index, final: true, text }),
    onProblem: (what) => ($("connection").textContent = t("broadcastStopped", { what })),
    live: () => !state.over,
  });
  $("status").textContent = t("broadcast");
  $("status").className = "badge live";
  $("lag").textContent = t("broadcastBehind", { s: state.address.delay_s });
  $("connection").textContent = note || "";
  $("floor-controls").hidden = true;
  $("captions-only").disabled = true;
  setInterval(() => {
    const audio = $("broadcast-audio");
    stats.broadcast = { language: state.broadcast?.audioLanguage, time: audio.currentTime, playing: !audio.paused, cues: state.broadcast?.cues.length || 0, follows: state.broadcast?.follows || 0 };
  }, 500);
}

function leaveBroadcast() {
  state.broadcast?.stop();
  state.broadcast = null;
  $("captions-only").disabled = false;
  $("lag").textContent = "";
  $("play").textContent = t("start");
  $("play").setAttribute("aria-pressed", "false");
  socket.open();
}

async function startAudio() {
  const button = $("play");
  if (state.broadcast) {
    const audio = $("broadcast-audio");
    if (!audio.paused) {
      audio.pause();
      button.textContent = state.over ? t("playRecording") : t("start");
      button.setAttribute("aria-pressed", "false");
      return;
    }
    if (state.broadcast.hls || audio.src) await audio.play();
    else await state.broadcast.start(state.address.url, state.channel);
    button.textContent = t("pause");
    button.setAttribute("aria-pressed", "true");
    return;
  }
  if (state.context && state.context.state === "running") {
    await state.context.suspend();
    button.textContent = t("start");
    button.setAttribute("aria-pressed", "false");
    return;
  }
  if (!state.context) {
    state.context = new AudioContext({ latencyHint: "interactive" });
    state.player = new ChannelPlayer(state.context, { volume: Number($("volume").value) });
  }
  await state.context.resume();
  button.textContent = t("pause");
  button.setAttribute("aria-pressed", "true");
  updateFloorControls();
}

$("play").addEventListener("click", startAudio);
$("broadcast").addEventListener("change", (e) => (e.target.checked ? enterBroadcast() : leaveBroadcast()));
$("volume").addEventListener("input", (e) => {
  state.player?.setVolume(Number(e.target.value));
  $("broadcast-audio").volume = Number(e.target.value);
});
$("floor-volume").addEventListener("input", (e) => state.floorPlayer?.setVolume(Number(e.target.value)));
$("floor-mix").addEventListener("change", updateFloorControls);
$("captions-only").addEventListener("change", (e) => {
  state.captionsOnly = e.target.checked;
  $("play").disabled = state.captionsOnly;
  socket.send({ type: "hello", channel: state.channel, format: state.format, captions_only: state.captionsOnly });
  updateFloorControls();
});

(async () => {
  const opus = await opusSupported();
  state.format = opus ? "opus" : "pcm";
  stats.decoder = opus ? "webcodecs-opus" : "pcm";
  try {
    const response = await fetch(`/live/${eventId}/channels`, {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
    });
    if (response.ok) {
      const info = await response.json();
      $("event-name").textContent = info.name;
      document.title = `${info.name} · livevent`;
      setStatus(info.status === "LIVE" ? "LIVE" : info.status);
      // One link for everyone: each listener starts in their own language if it is here.
      if (!state.channel) state.channel = preferredChannel(info.channels);
      renderChannels(info.channels, state.channel || info.channels[0]?.language);
    } else {
      const problem = await response.json().catch(() => ({}));
      $("event-name").textContent = problem.draft ? t("notScheduled") : t("notFound");
      $("connection").textContent = problem.detail || t("cannotShow", { id: eventId });
      return;
    }
  } catch {
    $("connection").textContent = t("unreachable");
  }
  const offer = (address) => {
    state.address = address;
    if (!address) return;
    $("broadcast-text").textContent = t("broadcastChoice", { s: address.delay_s });
    $("broadcast-choice").hidden = false;
  };
  state.asking = broadcastAddress(eventId, token); // asked beside the socket, not before it
  if (state.over) {
    // Over: its broadcast, if it was broadcast, is its recording now, captions and all.
    const archive = await state.asking;
    if (archive) {
      state.address = archive;
      enterBroadcast(t("overRecording"));
      $("lag").textContent = "";
      $("status").textContent = t("recording");
      $("play").hidden = false;
      $("play").textContent = t("playRecording");
      offerTranscript();
    }
    return;
  }
  if (params.get("broadcast") === "1") {
    offer(await state.asking);
    if (state.address) {
      $("broadcast").checked = true;
      enterBroadcast();
      return;
    }
  }
  socket.open(); // the live audio first; whether a broadcast is there is asked meanwhile
  if (!state.address) offer(await state.asking);
})();
