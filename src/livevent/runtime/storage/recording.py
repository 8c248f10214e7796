"""Every channel of a live event recorded as Ogg Opus, on the instance that owns it.

The hub already encodes each channel's audio to Opus once; its packets are muxed
here into an Ogg file as they are sent, never encoded again. Where nobody speaks,
silence packets fill the time, so every channel's file lines up with the wall
clock from the moment its part began (a part: one owner's run of the event; a
takeover starts the next). Each Ogg page (about a second) is flushed to disk as
it fills, so a crash loses only the last second or so; `close` pads the silence
up to the end and writes the last page. Where the parts go, and how they are
found again: events/recordings.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from fractions import Fraction
from pathlib import Path

import av

from livevent.errors import NotFound
from livevent.events.recordings import Part, part_path, remove_expired
from livevent.files import private_file
from livevent.runtime.live.fanout import ChannelHub
from livevent.runtime.media.audio import FRAME_BYTES, FRAME_SAMPLES, SAMPLE_RATE
from livevent.runtime.media.opus import OpusEncoder

log = logging.getLogger(__name__)

FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE
TIME_BASE = Fraction(1, SAMPLE_RATE)
# Late by more than this, the gap is silence (not the jitter of a live stream).
GAP_FRAMES = 3


class ChannelRecording:
    """One part of one channel: Opus packets in, an Ogg Opus file out."""

    def __init__(self, path: Path, *, started: float | None = None) -> None:
        self.path = path
        self.started = time.monotonic() if started is None else started
        self.frames = 0  # written, packets of 20 ms
        encoder = OpusEncoder()
        self._silence = encoder.encode(bytes(FRAME_BYTES))[0]
        private_file(path)
        # flush_packets: each page reaches the file as soon as the muxer writes it.
        self._container = av.open(
            str(path), "w", format="ogg", container_options={"flush_packets": "1"}
        )
        stream = self._container.add_stream("libopus", rate=SAMPLE_RATE)
        stream.codec_context.layout = "mono"
        stream.codec_context.extradata = encoder.extradata
        stream.time_base = TIME_BASE
        self._stream = stream
        self.closed = False

    def write(self, packets: list[bytes], arrived: float) -> None:
        """A batch of 20 ms Opus packets whose first frame arrived at `arrived` (monotonic)."""
        if self.closed:
            return
        self._fill_silence_until(arrived)
        for packet in packets:
            self._mux(packet)

    def close(self, at: float | None = None) -> None:
        """Silence up to `at` (now), then the last page; the file is complete."""
        if self.closed:
            return
        self._fill_silence_until(time.monotonic() if at is None else at)
        self.closed = True
        try:
            self._container.close()
        except (OSError, av.FFmpegError) as error:
            log.error("recording %s not finished: %s", self.path, error)

    @property
    def seconds(self) -> float:
        return self.frames * FRAME_SECONDS

    def _fill_silence_until(self, moment: float) -> None:
        due = int((moment - self.started) / FRAME_SECONDS)
        if due - self.frames > GAP_FRAMES:
            for _ in range(due - self.frames):
                self._mux(self._silence)

    def _mux(self, data: bytes) -> None:
        packet = av.Packet(data)
        packet.stream = self._stream
        packet.pts = packet.dts = self.frames * FRAME_SAMPLES
        packet.duration = FRAME_SAMPLES
        packet.time_base = TIME_BASE
        try:
            self._container.mux(packet)
        except (OSError, av.FFmpegError) as error:
            # A full disk must not stop the event: the recording stops, the event goes on.
            log.error("recording %s stopped: %s", self.path, error)
            self.closed = True
            return
        self.frames += 1


class EventRecorder:
    """The recordings of one live event on its owner: a part per channel."""

    def __init__(self, folder: Path, event_id: int, instance: str) -> None:
        self.folder = folder
        self.event_id = event_id
        self.instance = instance
        self.started = time.monotonic()  # every channel's part lines up from here
        self.parts: dict[str, ChannelRecording] = {}

    def start(self, language: str, hub: ChannelHub) -> None:
        """Record this channel from now on (a channel added while live starts here)."""
        if language in self.parts:
            return
        try:
            path = part_path(self.folder, self.event_id, language, self.instance)
            recording = ChannelRecording(path)
        except (OSError, av.FFmpegError) as error:
            log.error("event %s: channel %s not recorded: %s", self.event_id, language, error)
            return
        self.parts[language] = recording
        hub.recorder = recording.write

    def close(self) -> None:
        now = time.monotonic()
        for recording in self.parts.values():
            recording.close(now)


def export_channel(parts: list[Part], output: Path) -> float:
    """One channel's parts as one Ogg Opus file, silence between them (they line up in
    time: a takeover's gap is heard as silence). Returns the seconds written."""
    if not parts:
        raise NotFound("nothing was recorded of this channel")
    first = parts[0].started_at
    writer = ChannelRecording(output, started=0.0)
    try:
        for part in parts:
            offset = (part.started_at - first).total_seconds()
            writer.write([], offset)  # silence up to where this part began
            with av.open(str(part.path)) as source:
                for packet in source.demux(source.streams.audio[0]):
                    if packet.size:
                        writer.write([bytes(packet)], -1.0)
    finally:
        writer.close(at=-1.0)
    return writer.seconds


async def expire_recordings(folder: Path, days: float) -> None:
    """Delete recordings past their retention, at start and every hour."""
    while True:
        removed = await asyncio.to_thread(remove_expired, folder, days)
        if removed:
            log.info("removed the recordings of %d events past %g days", removed, days)
        await asyncio.sleep(3600)
