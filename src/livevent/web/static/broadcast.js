// The event's HLS broadcast on the listen page: for when the live audio is full, or the
// listener asks for it (a steadier stream on a weak network, some seconds behind).
// hls.js plays it where the browser has no HLS player of its own (Safari has one).
import Hls from "/static/vendor/hls.js/hls.esm.min.js";

/** Where the event's broadcast is, if it has one now: {url, delay_s, live} or null. */
export async function broadcastAddress(eventId, token) {
  const query = token ? `?token=${encodeURIComponent(token)}` : "";
  try {
    const response = await fetch(`/live/${eventId}/hls${query}`);
    if (!response.ok) return null;
    const address = await response.json();
    return address.live ? address : null;
  } catch {
    return null;
  }
}

async function masterText(url) {
  try {
    const response = await fetch(url, { cache: "no-store" });
    return response.ok ? await response.text() : null;
  } catch {
    return null;
  }
}

export class BroadcastPlayer {
  /** `onCue(text, index)`: a subtitle of the chosen language, when its time comes.
   * `live()`: whether the event is still on; a live stream that ends is then followed. */
  constructor(audio, { onCue, onProblem, live = () => false }) {
    this.audio = audio;
    this.onCue = onCue;
    this.onProblem = onProblem;
    this.live = live;
    this.hls = null;
    this.url = "";
    this.language = "";
    this.cues = [];
    this.shown = -1;
    this.follows = 0; // times the stream moved to another owner's run
    this.audio.addEventListener("timeupdate", () => this.#showCue());
    // Another instance took the event over: the run we played ended, the master playlist
    // names the new one. Load it again (a second later: the new run needs a segment).
    this.audio.addEventListener("ended", () => {
      if (!this.hls || !this.live()) return;
      this.follows += 1;
      setTimeout(() => this.#reload(), 1000);
    });
  }

  async #reload() {
    if (!this.hls) return;
    // The same master playlist: nobody took over, the event ended; it stays ended.
    const master = await masterText(this.url);
    if (master === null || master === this.master) return;
    this.master = master;
    this.cues = [];
    this.shown = -1;
    this.hls.loadSource(this.url);
    this.audio.play().catch(() => {});
  }

  get supported() {
    return Hls.isSupported() || this.audio.canPlayType("application/vnd.apple.mpegurl") !== "";
  }

  start(url, language) {
    this.url = url;
    this.language = language;
    masterText(url).then((text) => (this.master = text));
    if (Hls.isSupported()) {
      // Audio only: transmuxing on the page costs little, and needs no worker from a blob.
      this.hls = new Hls({ enableWorker: false, renderTextTracksNatively: false, liveSyncDurationCount: 3 });
      // The tracks are known by the manifest, and again whenever hls.js updates them.
      // hls.js may pick its default track again after ours (no subtitle is DEFAULT=YES):
      // a switch that is not ours is undone.
      const events = [Hls.Events.MANIFEST_PARSED, Hls.Events.AUDIO_TRACKS_UPDATED, Hls.Events.SUBTITLE_TRACKS_UPDATED, Hls.Events.SUBTITLE_TRACK_SWITCH];
      for (const known of events) {
        this.hls.on(known, () => this.#follow());
      }
      this.hls.on(Hls.Events.CUES_PARSED, (_, data) => this.#cues(data));
      this.hls.on(Hls.Events.ERROR, (_, data) => {
        if (data.fatal) this.onProblem?.(data.details || data.type);
      });
      this.hls.loadSource(url);
      this.hls.attachMedia(this.audio);
    } else {
      this.audio.src = url; // Safari: its own player, its own renditions
    }
    return this.audio.play();
  }

  /** Hear and read `language`: its audio rendition, and its subtitles if it has them. */
  choose(language) {
    this.language = language;
    this.cues = [];
    this.shown = -1;
    if (this.hls) this.#follow();
  }

  /** The tracks of the language chosen, without dropping the cues already read. */
  #follow() {
    const audio = this.hls.audioTracks.findIndex((t) => t.lang === this.language);
    if (audio >= 0 && this.hls.audioTrack !== audio) this.hls.audioTrack = audio;
    const subtitles = this.hls.subtitleTracks.findIndex((t) => t.lang === this.language);
    if (this.hls.subtitleTrack !== subtitles) this.hls.subtitleTrack = subtitles;
    this.hls.subtitleDisplay = subtitles >= 0;
  }

  get audioLanguage() {
    return this.hls ? this.hls.audioTracks[this.hls.audioTrack]?.lang || "" : this.language;
  }

  stop() {
    this.hls?.destroy();
    this.hls = null;
    this.audio.pause();
    this.audio.removeAttribute("src");
  }

  #cues(data) {
    // Only the chosen language's subtitle track loads: its cues are the ones to show.
    if (data.type !== "subtitles") return;
    for (const cue of data.cues) {
      if (!this.cues.some((c) => c.startTime === cue.startTime && c.text === cue.text)) this.cues.push(cue);
    }
    this.cues.sort((a, b) => a.startTime - b.startTime);
  }

  #showCue() {
    const now = this.audio.currentTime;
    const index = this.cues.findIndex((c) => c.startTime <= now && now < c.endTime);
    if (index >= 0 && index !== this.shown) {
      this.shown = index;
      this.onCue?.(this.cues[index].text, index);
    }
  }
}
