"""Opus through PyAV (FFmpeg's libopus): encoded once per channel, decoded by clients."""

from __future__ import annotations

import av
import numpy as np

from livevent.runtime.media.audio import FRAME_BYTES, FRAME_SAMPLES, SAMPLE_RATE

# Speech at 16 kHz: 24 kb/s is transparent enough for interpretation and
# cheap on a phone's data plan (~11 MB an hour).
DEFAULT_BITRATE = 24_000


class OpusEncoder:
    """One 20 ms PCM frame in, zero or more Opus packets out."""

    def __init__(self, *, bitrate: int = DEFAULT_BITRATE) -> None:
        codec = av.CodecContext.create("libopus", "w")
        codec.sample_rate = SAMPLE_RATE
        codec.layout = "mono"
        codec.format = "s16"
        codec.bit_rate = bitrate
        codec.options = {"application": "voip", "frame_duration": "20"}
        codec.open()
        self._codec = codec
        self._pts = 0

    @property
    def extradata(self) -> bytes:
        """The OpusHead a container needs to describe these packets."""
        return bytes(self._codec.extradata or b"")

    def encode(self, frame: bytes) -> list[bytes]:
        if len(frame) != FRAME_BYTES:
            raise ValueError(f"an Opus frame is {FRAME_BYTES} bytes, not {len(frame)}")
        samples = np.frombuffer(frame, dtype=np.int16).reshape(1, FRAME_SAMPLES)
        audio = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        audio.sample_rate = SAMPLE_RATE
        audio.pts = self._pts
        self._pts += FRAME_SAMPLES
        return [bytes(packet) for packet in self._codec.encode(audio)]


class OpusDecoder:
    """Opus packets in, PCM s16le mono 16 kHz out (for clients and tests)."""

    def __init__(self) -> None:
        codec = av.CodecContext.create("libopus", "r")
        codec.sample_rate = SAMPLE_RATE
        codec.layout = "mono"
        self._codec = codec
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)

    def decode(self, packet: bytes) -> bytes:
        chunks = []
        for frame in self._codec.decode(av.Packet(packet)):
            for out in self._resampler.resample(frame):
                chunks.append(out.to_ndarray().astype(np.int16).tobytes())
        return b"".join(chunks)
