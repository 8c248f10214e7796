// Runs on the audio thread: microphone samples -> 16 kHz mono s16le, 100 ms per message,
// plus the level (RMS) for the meter and the peak (clipping). `sampleRate` is the context's rate.
const TARGET_RATE = 16000;
const CHUNK = 1600; // 100 ms at 16 kHz

class Capture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / TARGET_RATE;
    this.position = 0; // fractional read position into the incoming stream
    this.previous = 0;
    this.out = new Int16Array(CHUNK);
    this.filled = 0;
    this.energy = 0;
    this.peak = 0;
  }

  process(inputs) {
    const input = inputs[0];
    if (!input || input.length === 0) return true;
    const samples = input[0];
    for (let i = 0; i < samples.length; i++) {
      this.energy += samples[i] * samples[i];
      this.peak = Math.max(this.peak, Math.abs(samples[i]));
    }
    // Linear interpolation between the samples around each 16 kHz instant.
    while (this.position < samples.length) {
      const index = Math.floor(this.position);
      const fraction = this.position - index;
      const before = index === 0 ? this.previous : samples[index - 1];
      const at = samples[index];
      const value = index === 0 && fraction === 0 ? at : before + (at - before) * fraction;
      const clipped = Math.max(-1, Math.min(1, value));
      this.out[this.filled++] = clipped < 0 ? clipped * 32768 : clipped * 32767;
      if (this.filled === CHUNK) {
        const rms = Math.sqrt(this.energy / (CHUNK * this.step));
        this.port.postMessage({ pcm: this.out.buffer, level: rms, peak: this.peak }, [this.out.buffer]);
        this.peak = 0;
        this.out = new Int16Array(CHUNK);
        this.filled = 0;
        this.energy = 0;
      }
      this.position += this.step;
    }
    this.position -= samples.length;
    this.previous = samples[samples.length - 1];
    return true;
  }
}

registerProcessor("livevent-capture", Capture);
