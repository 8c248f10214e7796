"""One channel as an HLS audio rendition: AAC-LC in MPEG-TS segments, packaged by
FFmpeg's own HLS muxer (through PyAV), on the wall clock.

The channel's PCM frames come from its hub as they are heard; where nobody speaks,
silence fills the time, so every rendition of an event runs on one clock from the
moment the broadcast began (a player switching language stays in step). The muxer
writes each segment and rewrites the media playlist as a segment completes; closing
ends the playlist (`EXT-X-ENDLIST`): the event's archive.
"""

from __future__ import annotations

import logging
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from livevent.files import private_folder, replace_private_text
from livevent.runtime.media.audio import FRAME_BYTES, FRAME_SAMPLES, SAMPLE_RATE

log = logging.getLogger(__name__)

FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE
AAC_RATE = 48_000  # what every player and platform takes
AAC_BITRATE = 64_000
PLAYLIST = "audio.m3u8"
# A frame this late is jitter, not a pause: silence waits for it that long.
JITTER_SECONDS = 0.2
SILENCE = bytes(FRAME_BYTES)


def hls_options(folder: Path, segment_seconds: float, pattern: str) -> dict[str, str]:
    return {
        "hls_time": f"{segment_seconds:g}",
        "hls_list_size": "0",  # the whole event: the playlist is its archive afterwards
        "hls_playlist_type": "event",
        "hls_segment_type": "mpegts",
        "hls_flags": "independent_segments+program_date_time+temp_file",
        "hls_segment_filename": str(folder / pattern),
    }


def empty_playlist(segment_seconds: float) -> str:
    return (
        "#EXTM3U\n#EXT-X-VERSION:6\n"
        f"#EXT-X-TARGETDURATION:{max(1, round(segment_seconds))}\n"
        "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:EVENT\n"
    )


class AacWriter:
    """20 ms PCM frames (16 kHz) to AAC-LC packets muxed into `container`, on their own
    timeline: frame n is at n x 20 ms."""

    def __init__(self, container: av.container.OutputContainer) -> None:
        self.container = container
        stream = container.add_stream("aac", rate=AAC_RATE)
        stream.codec_context.layout = "mono"
        stream.codec_context.bit_rate = AAC_BITRATE
        self.stream = stream
        self.frames = 0
        self._resampler = av.AudioResampler(format="fltp", layout="mono", rate=AAC_RATE)

    def write(self, pcm: bytes) -> None:
        samples = np.frombuffer(pcm, dtype="<i2").reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self.frames * FRAME_SAMPLES
        frame.time_base = Fraction(1, SAMPLE_RATE)
        for resampled in self._resampler.resample(frame):
            for packet in self.stream.encode(resampled):
                self.container.mux(packet)
        self.frames += 1

    def finish(self) -> None:
        for packet in self.stream.encode(None):
            self.container.mux(packet)


class ChannelPackager:
    """PCM frames in, an HLS media playlist and its segments out (`folder`)."""

    def __init__(self, folder: Path, *, segment_seconds: float, started: float) -> None:
        self.folder = folder
        self.started = started
        self.frames = 0  # 20 ms frames packaged, speech or silence
        self.last_heard = started
        self.closed = False
        private_folder(folder)
        # The muxer writes its playlist once the first segment is done; until then a
        # player finds an empty live playlist (and reloads it), not a 404.
        replace_private_text(folder / PLAYLIST, empty_playlist(segment_seconds))
        options = hls_options(folder, segment_seconds, "a%05d.ts")
        self._container = av.open(str(folder / PLAYLIST), "w", format="hls", options=options)
        self._aac = AacWriter(self._container)

    @property
    def seconds(self) -> float:
        return self.frames * FRAME_SECONDS

    def frame(self, pcm: bytes, arrived: float | None = None) -> None:
        """One 20 ms frame heard at `arrived` (monotonic): after the silence before it."""
        if self.closed or len(pcm) != FRAME_BYTES:
            return
        now = time.monotonic() if arrived is None else arrived
        self._silence_until(now - FRAME_SECONDS)
        self.last_heard = now
        self._encode(pcm)

    def tick(self, now: float | None = None) -> None:
        """Silence up to now, once the last frame is older than the jitter allowed it."""
        if self.closed:
            return
        now = time.monotonic() if now is None else now
        if now - self.last_heard > JITTER_SECONDS:
            self._silence_until(now - JITTER_SECONDS)

    def close(self) -> None:
        """The last segment, and the playlist ended: the rendition is an archive now."""
        if self.closed:
            return
        self.closed = True
        try:
            self._aac.finish()
            self._container.close()
        except (OSError, av.FFmpegError) as error:
            log.error("HLS rendition %s not finished: %s", self.folder, error)

    def _silence_until(self, moment: float) -> None:
        due = int((moment - self.started) / FRAME_SECONDS)
        for _ in range(due - self.frames):
            self._encode(SILENCE)

    def _encode(self, pcm: bytes) -> None:
        try:
            self._aac.write(pcm)
        except (OSError, av.FFmpegError) as error:
            # A full disk must not stop the event: the rendition stops, the event goes on.
            log.error("HLS rendition %s stopped: %s", self.folder, error)
            self.closed = True
            return
        self.frames += 1
