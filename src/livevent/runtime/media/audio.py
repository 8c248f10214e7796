"""The internal audio format, PCM s16le mono 16 kHz in 20 ms frames, and getting there."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np

from livevent.errors import InvalidInput

SAMPLE_RATE = 16_000
FRAME_MS = 20
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000  # 320
FRAME_BYTES = FRAME_SAMPLES * 2  # s16le mono


class FrameChunker:
    """Cuts PCM bytes of any length into whole 20 ms frames, keeping the remainder."""

    def __init__(self) -> None:
        self._pending = bytearray()

    def push(self, data: bytes) -> list[bytes]:
        self._pending += data
        whole = len(self._pending) // FRAME_BYTES * FRAME_BYTES
        if not whole:
            return []
        frames = [bytes(self._pending[i : i + FRAME_BYTES]) for i in range(0, whole, FRAME_BYTES)]
        del self._pending[:whole]
        return frames

    def flush(self) -> bytes | None:
        """The remainder padded with silence to a whole frame, or None when there is none."""
        if not self._pending:
            return None
        frame = bytes(self._pending) + b"\0" * (FRAME_BYTES - len(self._pending))
        self._pending.clear()
        return frame


def decode_file(path: Path | BinaryIO, *, fmt: str | None = None) -> bytes:
    """Any audio FFmpeg reads (WAV, FLAC, MP3, Ogg...) as PCM s16le mono 16 kHz."""
    name = path if isinstance(path, Path) else "audio"
    try:
        container = av.open(str(path) if isinstance(path, Path) else path, mode="r", format=fmt)
    except (OSError, av.FFmpegError) as error:
        raise InvalidInput(f"cannot read audio file {name}: {error}") from None
    with container:
        if not container.streams.audio:
            raise InvalidInput(f"{name} has no audio stream")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        chunks: list[bytes] = []
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().astype(np.int16).tobytes())
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().astype(np.int16).tobytes())
    return b"".join(chunks)


def frames_of(pcm: bytes) -> Iterator[bytes]:
    """Whole 20 ms frames of `pcm`, the last one padded with silence."""
    chunker = FrameChunker()
    yield from chunker.push(pcm)
    last = chunker.flush()
    if last is not None:
        yield last


def level_dbfs(frame: bytes) -> float:
    """RMS level of a frame in dBFS (-inf for digital silence)."""
    samples = np.frombuffer(frame, dtype=np.int16).astype(np.float32)
    if not samples.size:
        return float("-inf")
    rms = float(np.sqrt(np.mean(samples * samples)))
    return float("-inf") if rms == 0 else 20 * float(np.log10(rms / 32768))


def resample(pcm: bytes, rate: int) -> bytes:
    """PCM s16le mono at `rate` Hz as PCM s16le mono 16 kHz."""
    if rate == SAMPLE_RATE or not pcm:
        return pcm
    samples = np.frombuffer(pcm, dtype=np.int16).reshape(1, -1)
    frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    out = [f.to_ndarray().astype(np.int16).tobytes() for f in resampler.resample(frame)]
    out += [f.to_ndarray().astype(np.int16).tobytes() for f in resampler.resample(None)]
    return b"".join(out)


def speed_up(pcm: bytes, rate: float) -> bytes:
    """PCM s16le mono 16 kHz spoken `rate` times as fast, at the same pitch (FFmpeg's atempo)."""
    if rate == 1.0 or not pcm:
        return pcm
    graph = av.filter.Graph()
    source = graph.add_abuffer(
        format="s16", sample_rate=SAMPLE_RATE, layout="mono", time_base=Fraction(1, SAMPLE_RATE)
    )
    tempo = graph.add("atempo", str(min(max(rate, 0.5), 2.0)))
    sink = graph.add("abuffersink")
    source.link_to(tempo)
    tempo.link_to(sink)
    graph.configure()
    frame = av.AudioFrame.from_ndarray(
        np.frombuffer(pcm, dtype=np.int16).reshape(1, -1), format="s16", layout="mono"
    )
    frame.sample_rate, frame.pts = SAMPLE_RATE, 0
    graph.push(frame)
    graph.push(None)
    out = []
    while True:
        try:
            out.append(graph.pull().to_ndarray().astype(np.int16).tobytes())
        except (av.error.EOFError, av.error.BlockingIOError):
            break
    return b"".join(out)


def trim_silence(pcm: bytes, *, threshold: int = 300, keep: float = 0.0) -> bytes:
    """Without the silence before and after the sound (10 ms steps): what a synthesiser
    puts around a sentence, so that the pauses between sentences are the caller's.
    `keep` seconds of what followed the sound stay, as a breath before the next."""
    step = SAMPLE_RATE // 100
    samples = np.frombuffer(pcm, dtype=np.int16)[: len(pcm) // 2 // step * step]
    if not len(samples):
        return pcm
    loudest = np.abs(samples.reshape(-1, step).astype(np.int32)).max(axis=1)
    loud = np.flatnonzero(loudest > threshold)
    if not len(loud):
        return pcm
    end = min(len(pcm) // 2, (int(loud[-1]) + 1) * step + int(keep * SAMPLE_RATE))
    return pcm[int(loud[0]) * step * 2 : end * 2]
