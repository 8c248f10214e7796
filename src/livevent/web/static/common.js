// What the pages share: the wire format, a reconnecting socket, Opus decoding and playback.
// The protocol is described in docs/protocol.md.

const HEADER_BYTES = 14;
export const AUDIO_OPUS = 1;
export const AUDIO_PCM = 2;

// Counters the tests (and the curious) read: window.livevent.stats.
export const stats = {
  messages: 0,
  audioMessages: 0,
  framesDecoded: 0,
  samplesPlayed: 0,
  captions: 0,
  partials: 0,
  reconnects: 0,
  decoder: "none",
  status: null,
  sent: 0,
};
window.livevent = { stats };

/** One binary listener message: its kind, sequence number and 20 ms frames. */
export function unpackAudio(buffer) {
  const view = new DataView(buffer);
  const kind = view.getUint8(0);
  const count = view.getUint8(1);
  const sequence = view.getUint32(2);
  const timestamp = Number(view.getBigUint64(6));
  const frames = [];
  if (kind === AUDIO_PCM) {
    frames.push(new Int16Array(buffer.slice(HEADER_BYTES)));
  } else {
    let offset = HEADER_BYTES;
    for (let i = 0; i < count; i++) {
      const length = view.getUint16(offset);
      offset += 2;
      frames.push(new Uint8Array(buffer, offset, length));
      offset += length;
    }
  }
  return { kind, sequence, timestamp, frames };
}

/** ws:// or wss:// for a path of this server. */
export function socketUrl(path, params = {}) {
  const url = new URL(path, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  return url.toString();
}

/** Parameters given after # in the page's URL (never sent to the server): token=... */
export function fragmentParams() {
  return new URLSearchParams(window.location.hash.replace(/^#/, ""));
}

// Close codes after which coming back cannot help.
// 4012: the same speaker connected again elsewhere; that connection speaks now.
const FINAL_CODES = new Set([4003, 4004, 4010, 4011, 4012]);
// A person's action (hand over, mute, a note) made while the socket comes back is sent
// once it is open again, if that is soon: later it would surprise them.
const ACTION_SECONDS = 10;
// Jittered exponential backoff, as LiveKit's clients do: 0, 0.3, 1.2, 2.7, 4.8, 7 s.
const BACKOFF = [0, 300, 1200, 2700, 4800, 7000];

/**
 * A WebSocket that comes back by itself. `open()` makes the URL each time, so a
 * fresh token or channel is used on reconnect.
 */
export class ReconnectingSocket {
  constructor({ url, onOpen, onMessage, onClose, onRetry }) {
    this.url = url;
    this.onOpen = onOpen || (() => {});
    this.onMessage = onMessage || (() => {});
    this.onClose = onClose || (() => {});
    this.onRetry = onRetry || (() => {});
    this.attempt = 0;
    this.stopped = false;
    this.ws = null;
    this.timer = null;
    this.pending = [];
  }

  open() {
    this.stopped = false;
    const ws = new WebSocket(this.url());
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      this.attempt = 0;
      this.onOpen(ws);
      const now = Date.now();
      const due = this.pending.filter((action) => now - action.at < ACTION_SECONDS * 1000);
      this.pending = [];
      for (const action of due) this.send(action.data);
    };
    ws.onmessage = (message) => this.onMessage(message.data, ws);
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      const final = FINAL_CODES.has(event.code) || this.stopped;
      this.onClose(event, final);
      // onClose may decide there is nothing to come back to (the event is over).
      if (!final && !this.stopped) this.retry();
    };
    this.ws = ws;
  }

  retry() {
    const base = BACKOFF[Math.min(this.attempt, BACKOFF.length - 1)];
    const delay = base * (0.8 + Math.random() * 0.4);
    this.attempt += 1;
    stats.reconnects += 1;
    this.onRetry(delay);
    this.timer = setTimeout(() => this.open(), delay);
  }

  send(data) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(typeof data === "string" || data instanceof ArrayBuffer ? data : JSON.stringify(data));
      return true;
    }
    return false;
  }

  /** What a person did (not audio): sent now, or as soon as the socket is open again. */
  act(data) {
    if (this.send(data)) return true;
    if (!this.stopped) this.pending.push({ data, at: Date.now() });
    return false;
  }

  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000, "bye");
    this.ws = null;
  }
}

/** Whether this browser decodes Opus itself (WebCodecs); else the server sends PCM. */
export async function opusSupported() {
  if (typeof AudioDecoder === "undefined") return false;
  try {
    const support = await AudioDecoder.isConfigSupported({
      codec: "opus",
      sampleRate: 16000,
      numberOfChannels: 1,
    });
    return Boolean(support.supported);
  } catch {
    return false;
  }
}

/**
 * Plays a channel's audio: decodes Opus with WebCodecs (or takes PCM) and schedules
 * each piece on the AudioContext's clock, a small jitter buffer ahead of now.
 */
export class ChannelPlayer {
  constructor(context, { volume = 1.0, jitter = 0.15 } = {}) {
    this.context = context;
    this.gain = context.createGain();
    this.gain.gain.value = volume;
    this.gain.connect(context.destination);
    this.jitter = jitter;
    this.playhead = 0;
    this.decoder = null;
    this.chunkTime = 0;
  }

  setVolume(volume) {
    this.gain.gain.value = volume;
  }

  reset() {
    // A new channel or a gap: start again at the live edge.
    this.playhead = 0;
    if (this.decoder && this.decoder.state === "configured") this.decoder.reset();
    this.decoder = null;
  }

  push(message) {
    if (message.kind === AUDIO_PCM) {
      const pcm = message.frames[0];
      const samples = new Float32Array(pcm.length);
      for (let i = 0; i < pcm.length; i++) samples[i] = pcm[i] / 32768;
      stats.framesDecoded += pcm.length / 320;
      this.schedule(samples, 16000);
      return;
    }
    const decoder = this.opusDecoder();
    for (const packet of message.frames) {
      decoder.decode(new EncodedAudioChunk({ type: "key", timestamp: this.chunkTime, data: packet }));
      this.chunkTime += 20000;
    }
  }

  opusDecoder() {
    if (this.decoder && this.decoder.state === "configured") return this.decoder;
    this.decoder = new AudioDecoder({
      output: (data) => {
        const samples = new Float32Array(data.numberOfFrames);
        data.copyTo(samples, { planeIndex: 0, format: "f32-planar" });
        const rate = data.sampleRate;
        data.close();
        stats.framesDecoded += 1;
        this.schedule(samples, rate);
      },
      error: () => {
        this.decoder = null;
      },
    });
    this.decoder.configure({ codec: "opus", sampleRate: 16000, numberOfChannels: 1 });
    return this.decoder;
  }

  schedule(samples, rate) {
    if (this.context.state !== "running") return;
    const buffer = this.context.createBuffer(1, samples.length, rate);
    buffer.copyToChannel(samples, 0);
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.gain);
    const now = this.context.currentTime;
    // Behind the clock (an underrun) or too far ahead (a backlog): back to the live edge.
    if (this.playhead < now + 0.02 || this.playhead > now + 1.0) this.playhead = now + this.jitter;
    source.start(this.playhead);
    this.playhead += buffer.duration;
    stats.samplesPlayed += Math.round(buffer.duration * 16000);
  }
}

/** Shows final captions as lines and the partial one as it grows. */
export class CaptionView {
  constructor(element, { keep = 200 } = {}) {
    this.element = element;
    this.keep = keep;
    this.partial = null;
  }

  show(caption) {
    const atBottom =
      this.element.scrollHeight - this.element.scrollTop - this.element.clientHeight < 40;
    if (caption.final) {
      stats.captions += 1;
      const line = document.createElement("p");
      line.textContent = caption.text;
      if (this.partial) this.partial.replaceWith(line);
      else this.element.append(line);
      this.partial = null;
      while (this.element.children.length > this.keep) this.element.firstElementChild.remove();
    } else {
      stats.partials += 1;
      if (!this.partial) {
        this.partial = document.createElement("p");
        this.partial.className = "partial";
        this.partial.setAttribute("aria-hidden", "true"); // screen readers get the final line
        this.element.append(this.partial);
      }
      this.partial.textContent = caption.text;
    }
    if (atBottom) this.element.scrollTop = this.element.scrollHeight;
  }

  clear() {
    this.element.replaceChildren();
    this.partial = null;
  }
}

const STATUS_WORDS = {
  WAITING: "Waiting",
  SCHEDULED: "Waiting",
  READY: "Waiting",
  LIVE: "Live",
  ENDED: "Ended",
  CANCELLED: "Cancelled",
  DRAFT: "Not scheduled",
};

/** The badge text and class for an event status; `say(status)` words it in the page's
 * language (the class stays the English word's: the style sheet knows those). */
export function statusBadge(element, status, say = null) {
  const word = STATUS_WORDS[status] || status;
  element.textContent = say ? say(status) : word;
  element.className = `badge ${word.toLowerCase().replace(/\s+/g, "-")}`;
}

const speakerKey = (eventId) => `livevent:${eventId}:speaker-token`;
const speakerRefreshKey = (eventId) => `livevent:${eventId}:speaker-refresh`;

/** Keep a signed-in speaker's tokens for this tab (never in localStorage: a shared computer). */
export function rememberSpeaker(eventId, pair) {
  sessionStorage.setItem(speakerKey(eventId), pair.access_token);
  if (pair.refresh_token) sessionStorage.setItem(speakerRefreshKey(eventId), pair.refresh_token);
}

/** Whether this tab was signed in by an invitation's link (it holds a refresh token). */
export function invitedSpeaker(eventId) {
  return Boolean(sessionStorage.getItem(speakerRefreshKey(eventId)));
}

export function speakerToken(eventId) {
  return sessionStorage.getItem(speakerKey(eventId)) || "";
}

/**
 * Access tokens last minutes; a speaker's session lasts hours. With a refresh token
 * (from an invitation's link) a fresh access token is fetched before the old one
 * expires, so a reconnect late in the event still gets in.
 */
export function keepSpeakerFresh(eventId, onToken, everyMs = 5 * 60 * 1000) {
  const refresh = async () => {
    const refreshToken = sessionStorage.getItem(speakerRefreshKey(eventId));
    if (!refreshToken) return;
    const response = await fetch("/api/auth/refresh", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: refreshToken }),
    });
    if (!response.ok) return;
    const pair = await response.json();
    rememberSpeaker(eventId, pair);
    onToken(pair.access_token);
  };
  return setInterval(refresh, everyMs);
}
