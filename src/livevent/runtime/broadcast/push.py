"""A live event's channels pushed to streaming platforms: each output an audio-only
RTMP stream (AAC in FLV, FFmpeg's own RTMP client through PyAV), on a thread of its
own so that a slow or unreachable ingest never holds up the event.

Frames reach the thread through a bounded queue; where nobody speaks, silence keeps
the stream going on the wall clock. An ingest that fails is tried again (after 1, 2,
4 ... at most 15 s) and says so meanwhile (`state`, `problem`): the live view shows
it. What is said while it is away is not sent later: a live stream has no past. The
address's stream key never reaches a log or a problem: only its redacted form.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

import av

from livevent.model.output import OutputTarget
from livevent.runtime.broadcast.packager import JITTER_SECONDS, SILENCE, AacWriter
from livevent.runtime.live.fanout import ChannelHub
from livevent.runtime.media.audio import FRAME_BYTES, FRAME_SAMPLES, SAMPLE_RATE

log = logging.getLogger(__name__)

FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE
QUEUED_FRAMES = 500  # 10 s: a stalled ingest drops the oldest, never blocks the hub
IO_TIMEOUT_US = 5_000_000  # a connection or a write that hangs this long has failed
BACKOFF = (1.0, 2.0, 4.0, 8.0, 15.0)


@dataclass(slots=True)
class PushState:
    state: str = "connecting"  # connecting, pushing, reconnecting, stopped
    problem: str | None = None
    since: float = 0.0
    reconnects: int = 0


class RtmpPush:
    """One output: a channel's frames to one ingest, for as long as the event is live."""

    def __init__(self, target: OutputTarget) -> None:
        self.target = target
        self.status = PushState(since=time.time())
        self._frames: queue.Queue[bytes | None] = queue.Queue(QUEUED_FRAMES)
        self._stop = threading.Event()
        name = f"push:{target.event_id}:{target.id}"
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def frame(self, pcm: bytes, arrived: float | None = None) -> None:
        """A frame of the channel (the event loop, from its hub): queued, never waited on."""
        if len(pcm) != FRAME_BYTES:
            return
        try:
            self._frames.put_nowait(pcm)
        except queue.Full:
            try:
                self._frames.get_nowait()  # the oldest goes: a live stream keeps up
                self._frames.put_nowait(pcm)
            except (queue.Empty, queue.Full):
                pass

    def stop(self) -> None:
        """Stop pushing; the thread ends within a second or its I/O timeout."""
        self._stop.set()
        try:
            self._frames.put_nowait(None)
        except queue.Full:
            pass

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def view(self) -> dict[str, Any]:
        return {
            "id": self.target.id,
            "channel": self.target.channel,
            "target": self.target.target,
            "state": self.status.state,
            "problem": self.status.problem,
            "since": self.status.since,
            "reconnects": self.status.reconnects,
        }

    # -- the thread ---------------------------------------------------------------------

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            try:
                self._push()
                attempt = 0
            except (av.FFmpegError, OSError) as error:
                if self._stop.is_set():
                    break  # the ingest hung up as we left: nothing to try again
                self._failed(self._redacted(str(error)))
            if self._stop.is_set():
                break
            delay = BACKOFF[min(attempt, len(BACKOFF) - 1)]
            attempt += 1
            self._stop.wait(delay)  # the retry's backoff, cut short by a stop
            self.status.reconnects += 1
        self._set("stopped", None)

    def _push(self) -> None:
        url = self.target.url.get_secret_value()
        options = {"rw_timeout": str(IO_TIMEOUT_US)}
        container = av.open(url, "w", format="flv", options=options)
        try:
            aac = AacWriter(container)
            self._set("pushing", None)
            log.info("pushing channel %s to %s", self.target.channel, self.target.target)
            started = time.monotonic()
            while not self._stop.is_set():
                try:
                    pcm = self._frames.get(timeout=JITTER_SECONDS)
                except queue.Empty:
                    pcm = b""
                if pcm is None:
                    break
                if pcm:
                    aac.write(pcm)
                # Silence up to the wall clock (less the jitter allowed): a stream that
                # pauses with the speaker would stall the platform's player.
                due = int((time.monotonic() - started - JITTER_SECONDS) / FRAME_SECONDS)
                while aac.frames < due and self._frames.empty():
                    aac.write(SILENCE)
            aac.finish()
        finally:
            container.close()

    def _failed(self, problem: str) -> None:
        if self.status.state != "reconnecting" or self.status.problem != problem:
            log.warning(
                "channel %s to %s: %s; trying again",
                self.target.channel,
                self.target.target,
                problem,
            )
        self._set("reconnecting", problem)

    def _set(self, state: str, problem: str | None) -> None:
        if state != self.status.state:
            self.status.since = time.time()
        self.status.state, self.status.problem = state, problem

    def _redacted(self, text: str) -> str:
        return text.replace(self.target.url.get_secret_value(), self.target.target)


class EventPushes:
    """The outputs of one live event on its owner."""

    def __init__(self, hubs: dict[str, ChannelHub]) -> None:
        self.hubs = hubs
        self.pushes: dict[int, RtmpPush] = {}

    def sync(self, targets: list[OutputTarget]) -> None:
        """Push exactly `targets`: new ones start, removed ones stop."""
        wanted = {target.id: target for target in targets if target.channel in self.hubs}
        for output_id in [i for i in self.pushes if i not in wanted]:
            self._stop(output_id)
        for output_id, target in wanted.items():
            if output_id in self.pushes:
                continue
            push = RtmpPush(target)
            self.pushes[output_id] = push
            self.hubs[target.channel].taps.append(push.frame)
            push.start()

    def views(self) -> list[dict[str, Any]]:
        return [push.view() for push in self.pushes.values()]

    def close(self) -> None:
        for output_id in list(self.pushes):
            self._stop(output_id)

    def _stop(self, output_id: int) -> None:
        push = self.pushes.pop(output_id)
        hub = self.hubs.get(push.target.channel)
        if hub is not None and push.frame in hub.taps:
            hub.taps.remove(push.frame)
        push.stop()
