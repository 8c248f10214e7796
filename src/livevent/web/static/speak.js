// The speaker's and interpreter's page: microphone -> 16 kHz PCM over the speak socket.
import {
  CaptionView,
  ChannelPlayer,
  ReconnectingSocket,
  fragmentParams,
  invitedSpeaker,
  keepSpeakerFresh,
  socketUrl,
  speakerToken,
  stats,
  unpackAudio,
} from "/static/common.js";

const [, , eventId, channelKey] = window.location.pathname.split("/");
const $ = (id) => document.getElementById(id);
const captions = new CaptionView($("captions"));
const storageKey = `livevent:${eventId}:speaker-token`;

const state = {
  token: fragmentParams().get("token") || speakerToken(eventId),
  socket: null,
  context: null,
  stream: null,
  active: false,
  muted: false,
  floor: null,
  language: null,
  channels: [],
  sourceSocket: null,
  sourcePlayer: null,
  captionSocket: null,
  wasOnAir: false,
};
$("token").value = state.token;
if (invitedSpeaker(eventId) && !fragmentParams().get("token")) {
  // Signed in by the invitation's link: no token to paste.
  $("token-row").hidden = true;
  $("signed-in").hidden = false;
}
keepSpeakerFresh(eventId, (token) => {
  state.token = token;
  $("token").value = token;
});

function onAir(text, kind) {
  $("on-air").textContent = text;
  $("on-air").className = `badge ${kind}`;
}

function floorName(channels) {
  const floor = channels.find((c) => c.kind === "floor");
  return floor ? floor.label || floor.name : "the original";
}

// A booth's clock: the time now, and how long this interpreter has been on air (partners
// swap every 20-30 minutes).
function tickClock() {
  const now = new Date();
  $("clock").textContent = now.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  $("clock").dateTime = now.toISOString();
  if (state.onAirSince) {
    const seconds = Math.floor((Date.now() - state.onAirSince) / 1000);
    $("on-air-for").textContent = `on air ${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  } else {
    $("on-air-for").textContent = "";
  }
  stats.onAirSeconds = state.onAirSince ? Math.floor((Date.now() - state.onAirSince) / 1000) : 0;
}
tickClock();
setInterval(tickClock, 1000);

/** Only the one on air may mute or hand over: a partner standing by sees neither. */
function showActiveControls(active) {
  for (const id of ["mute", "cough", "handover"]) $(id).hidden = !active;
  if (active && !state.onAirSince) state.onAirSince = Date.now();
  if (!active) state.onAirSince = null;
  tickClock();
}

async function loadChannels() {
  const response = await fetch(`/live/${eventId}/channels`, {
    headers: state.token ? { Authorization: `Bearer ${state.token}` } : {},
  });
  if (!response.ok) return;
  const info = await response.json();
  state.channels = info.channels;
  const channel = info.channels.find(
    (c) => String(c.number) === channelKey || c.language === channelKey,
  );
  state.floor = info.channels.find((c) => c.kind === "floor")?.language;
  if (channel) {
    state.language = channel.language;
    $("title").textContent = channel.kind === "floor" ? "Speak on the floor" : `Interpret: ${channel.name}`;
    // The captions below are the floor's (the original), not this channel's.
    $("feedback-title").textContent = channel.kind === "floor" ? "Your words, as listeners read them" : `Captions of the floor (${floorName(info.channels)})`;
    $("channel-info").textContent = `Event ${eventId}, channel ${channel.number} (${channel.language}).`;
  }
}

async function openStream(deviceId) {
  const audio = { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true };
  if (deviceId) audio.deviceId = { exact: deviceId };
  state.stream?.getTracks().forEach((track) => track.stop());
  state.stream = await navigator.mediaDevices.getUserMedia({ audio });
  state.input?.disconnect();
  state.input = state.context.createMediaStreamSource(state.stream);
  state.input.connect(state.capture);
}

async function listMicrophones() {
  // Device names are readable once the page may use a microphone.
  const devices = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "audioinput");
  const current = state.stream?.getAudioTracks()[0]?.getSettings().deviceId;
  $("microphone").replaceChildren(
    ...devices.map((d, i) => new Option(d.label || `Microphone ${i + 1}`, d.deviceId, false, d.deviceId === current)),
  );
  $("microphone-row").hidden = devices.length < 2;
}

async function startMicrophone() {
  state.context = new AudioContext({ latencyHint: "interactive" });
  await state.context.audioWorklet.addModule("/static/capture-worklet.js");
  state.capture = new AudioWorkletNode(state.context, "livevent-capture");
  state.capture.port.onmessage = ({ data }) => {
    $("level").value = Math.min(1, data.level * 4);
    watchLevel(data);
    if (state.active && !state.muted && state.socket?.send(data.pcm)) stats.sent += data.pcm.byteLength;
  };
  // Keep the worklet pulled without playing the microphone back.
  const silent = state.context.createGain();
  silent.gain.value = 0;
  state.capture.connect(silent).connect(state.context.destination);
  await openStream(localStorage.getItem("livevent:microphone"));
  await state.context.resume();
  listMicrophones();
}

// The input's health, as a sound engineer would watch it: clipping, or nothing at all.
const input = { clipped: 0, silentSince: null };
function watchLevel({ level, peak }) {
  const now = performance.now();
  input.clipped = peak >= 0.99 ? input.clipped + 1 : Math.max(0, input.clipped - 0.2);
  if (level > 0.003) input.silentSince = null;
  else input.silentSince ??= now;
  let warning = "";
  if (input.clipped >= 3) warning = "Too loud: your voice is clipping. Move back from the microphone or lower its gain.";
  else if (state.active && !state.muted && input.silentSince && now - input.silentSince > 10000) {
    warning = "We hear nothing from your microphone for 10 s: is it the right one, and unmuted?";
  }
  if ($("level-warning").textContent !== warning) $("level-warning").textContent = warning;
  stats.levelWarning = warning;
  // The organizer's live view shows each speaker's level: the loudest of each second.
  input.level = Math.max(input.level || 0, level);
  input.peak = Math.max(input.peak || 0, peak);
  if (now - (input.sentAt || 0) >= 1000) {
    if (state.active && !state.muted) {
      state.socket?.send({ type: "level", level: Math.min(1, input.level), peak: Math.min(1, input.peak) });
      stats.levelsSent = (stats.levelsSent || 0) + 1;
    }
    input.sentAt = now;
    input.level = 0;
    input.peak = 0;
  }
}

function releaseMicrophone() {
  // The browser's recording indicator goes off: nothing is captured after the end.
  state.stream?.getTracks().forEach((track) => track.stop());
  state.stream = null;
  state.context?.close();
  state.context = null;
  stats.microphone = "released";
}

/** The event is ending: the sentence under way is heard, then we are off air. */
function endingSoon(seconds) {
  if (!state.active) {
    onAir("Off air: the event is ending", "waiting");
    stats.status = "ending";
    return;
  }
  onAir("Ending: finish your sentence", "live");
  stats.status = "ending";
  setTimeout(() => {
    state.active = false;
    showActiveControls(false);
    stats.status = "off-air";
    onAir("Off air: the event is over", "waiting");
  }, seconds * 1000);
}

function showOnAir() {
  if (state.muted) onAir("Muted", "waiting");
  else if (state.rehearsal) onAir("Rehearsal", "rehearsal");
  else onAir("On air", "live");
}

// Before the organizer goes live: the booth hears us, listeners do not, nothing is recorded.
function showRehearsal(rehearsal) {
  if (state.rehearsal && !rehearsal) showNote({ kind: "live", sender: "organizer" });
  state.rehearsal = rehearsal;
  $("rehearsal").hidden = !rehearsal;
}

function connect() {
  state.socket = new ReconnectingSocket({
    url: () => socketUrl(window.location.pathname, { token: state.token, standby: $("standby").checked ? "1" : "" }),
    onOpen: () => {
      $("connection").textContent = "";
    },
    onMessage: (data) => {
      if (typeof data !== "string") return;
      const message = JSON.parse(data);
      stats.messages += 1;
      if (message.glossary) showGlossary(message.glossary);
      if (message.type === "note") {
        showNote(message);
        return;
      }
      if (message.type === "ending") {
        endingSoon(message.seconds);
        return;
      }
      if (message.type === "ready" || message.type === "standby") showRehearsal(Boolean(message.rehearsal));
      if (message.type === "ready") {
        showActiveControls(true);
        state.active = true;
        state.wasOnAir = true;
        stats.status = state.rehearsal ? "rehearsal" : "on-air";
        showOnAir();
      } else if (message.type === "standby") {
        showActiveControls(false);
        state.active = false;
        stats.status = "standby";
        onAir(state.rehearsal ? "Standing by · rehearsal" : "Standing by", "standby");
      } else if (message.type === "error") {
        $("connection").textContent = message.message;
      }
    },
    onClose: (event, final) => {
      state.active = false; // on air again when greeted `ready`: the time on air goes on
      if (stats.status !== "left") onAir(event.code === 4010 ? "Off air: the event is over" : "Not connected", "waiting");
      if (event.code === 4010) {
        $("connection").textContent = "The event is over. Your microphone is off.";
        state.socket.stopped = true;
        state.sourceSocket?.close();
        state.captionSocket?.close();
        releaseMicrophone();
      } else if (event.code === 4001) {
        $("connection").textContent = `Your token was refused: ${event.reason}. Paste a fresh one.`;
        $("token-row").hidden = false;
        $("signed-in").hidden = true;
        state.socket.stopped = true;
        $("connect-form").hidden = false;
      } else if (event.code === 4012) {
        // The same token connected again (another tab, a reload): that one speaks now.
        $("connection").textContent = "You connected again from another page: this one is off.";
        state.socket.stopped = true;
        releaseMicrophone();
      } else if (event.code === 4009 && state.wasOnAir) {
        // Our own seat, still held by a server that went away: it frees within seconds.
        $("connection").textContent = "Taking the channel back…";
      } else if (event.code === 4009) {
        $("connection").textContent = "Someone is already speaking here. Tick “booth partner” to stand by.";
        state.socket.stopped = true;
        $("connect-form").hidden = false;
      } else if (final) {
        $("connection").textContent = `Closed: ${event.reason || event.code}.`;
      }
    },
    onRetry: (delay) => {
      $("connection").textContent = `Reconnecting in ${(delay / 1000).toFixed(1)} s…`;
    },
  });
  state.socket.open();
}

function listenTo(language, { captionsOnly }) {
  const socket = new ReconnectingSocket({
    url: () =>
      socketUrl(`/listen/${eventId}`, {
        channel: language,
        format: "pcm",
        captions_only: captionsOnly ? "1" : "",
        token: state.token,
      }),
    onMessage: (data) => {
      if (typeof data !== "string") {
        state.sourcePlayer?.push(unpackAudio(data));
        return;
      }
      const message = JSON.parse(data);
      // One caption box, fed by one socket (the floor's); a source socket brings audio.
      if (message.type === "caption" && captionsOnly) captions.show(message);
    },
  });
  socket.open();
  return socket;
}

function chooseSource() {
  state.sourceSocket?.close();
  const language = $("source").value;
  const chosen = state.channels.find((c) => c.language === language);
  $("source-note").textContent =
    chosen && chosen.kind !== "floor" && chosen.state !== "live"
      ? `Nobody interprets ${chosen.name} right now: you will hear it when someone does.`
      : "";
  if (!language) return;
  state.sourcePlayer = new ChannelPlayer(state.context, { volume: Number($("source-volume").value) });
  state.sourceSocket = listenTo(language, { captionsOnly: false });
}

const NOTE_WORDS = {
  live: () => "The organizer went live: listeners hear you now.",
  ask_channel: () => "Your booth partner asks for the channel.",
  slow_down: (n) => `The ${n.channel} interpreter asks you to slow down.`,
  audio_unusable: (n) => `${n.channel}: the audio is unusable.`,
};

function showNote(note) {
  const line = document.createElement("li");
  const who = note.sender === "organizer" ? "Organizer" : `${note.channel} ${note.sender}`;
  line.textContent = note.kind === "chat" ? `${who}: ${note.text}` : NOTE_WORDS[note.kind](note);
  $("notes").append(line);
  while ($("notes").children.length > 30) $("notes").firstElementChild.remove();
  stats.notes = (stats.notes || 0) + 1;
  if (note.kind === "slow_down" || (note.kind === "ask_channel" && state.active)) {
    // The floor speaker must see it while talking: a banner, not a line in a list.
    $("alert").textContent = NOTE_WORDS[note.kind](note);
    $("alert").hidden = false;
    clearTimeout(state.alertTimer);
    state.alertTimer = setTimeout(() => ($("alert").hidden = true), 15000);
  }
}

function showGlossary(lines) {
  state.glossary = lines;
  $("glossary-box").hidden = lines.length === 0;
  filterGlossary();
}

function filterGlossary() {
  const wanted = $("glossary-search").value.trim().toLowerCase();
  const shown = (state.glossary || []).filter(
    (line) => !wanted || line.term.toLowerCase().includes(wanted) || line.translation.toLowerCase().includes(wanted),
  );
  $("glossary").replaceChildren(
    ...shown.flatMap((line) => {
      const term = document.createElement("dt");
      term.textContent = line.term;
      const translation = document.createElement("dd");
      translation.textContent = line.translation;
      return [term, translation];
    }),
  );
}

function setUpSources() {
  if (!state.language || state.language === state.floor) return;
  $("signals").hidden = false; // an interpreter's signals: to the floor, to the organizer
  // Interpreters hear the floor, or another interpreter's channel (relay interpretation).
  const select = $("source");
  select.replaceChildren(new Option("Nothing", ""));
  for (const channel of state.channels) {
    if (channel.language === state.language || channel.kind === "machine") continue;
    // A relay from a channel nobody speaks on would be silence: say so where it is chosen.
    const quiet = channel.kind !== "floor" && channel.state !== "live" ? " (nobody on air now)" : "";
    const label = channel.kind === "floor" ? `The floor (${channel.name})` : `Relay: ${channel.name}${quiet}`;
    select.append(new Option(label, channel.language, false, channel.kind === "floor"));
  }
  // A partner standing by hears the colleague on air, to take over mid-sentence.
  select.append(new Option("My booth (this channel)", state.language));
  $("source-box").hidden = false;
  chooseSource();
}

$("connect-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  state.token = $("token").value.trim();
  sessionStorage.setItem(storageKey, state.token);
  if (!state.channels) loadChannels(); // a private event shows its channels to a token only
  $("connection").textContent = "Asking for the microphone…";
  try {
    if (!state.context) await startMicrophone();
  } catch (error) {
    $("connection").textContent = `No microphone: ${error.message}. This page needs HTTPS (or localhost).`;
    return;
  }
  $("connect-form").hidden = true;
  $("console").hidden = false;
  stats.status = "connecting";
  connect();
  if (state.floor && !state.captionSocket) {
    state.captionSocket = listenTo(state.floor, { captionsOnly: true });
  }
  setUpSources();
});

function setMuted(muted) {
  if (state.muted === muted) return;
  state.muted = muted;
  $("mute").setAttribute("aria-pressed", String(state.muted));
  $("mute").textContent = state.muted ? "Unmute" : "Mute";
  state.socket?.act({ type: state.muted ? "mute" : "unmute" });
  if (state.active) showOnAir();
}
$("mute").addEventListener("click", () => setMuted(!state.muted));
// The cough key: muted only while held (pointer, or Space/Enter on the key itself).
const cough = $("cough");
let coughing = false;
const coughDown = (event) => {
  if (event.type === "keydown" && event.key !== " " && event.key !== "Enter") return;
  event.preventDefault();
  if (!coughing && !state.muted) {
    coughing = true;
    setMuted(true);
  }
};
const coughUp = () => {
  if (coughing) {
    coughing = false;
    setMuted(false);
  }
};
cough.addEventListener("pointerdown", coughDown);
cough.addEventListener("keydown", coughDown);
for (const kind of ["pointerup", "pointerleave", "pointercancel", "keyup", "blur"]) cough.addEventListener(kind, coughUp);
$("microphone").addEventListener("change", async (event) => {
  localStorage.setItem("livevent:microphone", event.target.value);
  try {
    await openStream(event.target.value);
  } catch (error) {
    $("connection").textContent = `That microphone cannot be used: ${error.message}.`;
  }
});
$("handover").addEventListener("click", () => state.socket?.act({ type: "handover" }));
$("leave").addEventListener("click", () => {
  state.socket?.send({ type: "end" });
  state.socket?.close();
  // Nothing of ours reaches anyone now: the page says so, not "On air".
  state.active = false;
  showActiveControls(false);
  stats.status = "left";
  onAir("Off air: you left", "waiting");
  state.sourceSocket?.close();
  state.captionSocket?.close();
  state.captionSocket = null;
  releaseMicrophone();
  $("console").hidden = true;
  $("connect-form").hidden = false;
});
$("source").addEventListener("change", chooseSource);
$("glossary-search").addEventListener("input", filterGlossary);
$("chat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("chat").value.trim();
  if (text) {
    state.socket?.act({ type: "chat", text });
    $("chat").value = "";
  }
});
$("slow-down").addEventListener("click", () => state.socket?.act({ type: "signal", signal: "slow_down" }));
$("ask-channel").addEventListener("click", () => state.socket?.act({ type: "signal", signal: "ask_channel" }));
$("unusable").addEventListener("click", () => state.socket?.act({ type: "signal", signal: "audio_unusable" }));
$("source-volume").addEventListener("input", (e) => state.sourcePlayer?.setVolume(Number(e.target.value)));

loadChannels();
