"""A machine channel's voice: its translated speech played in real time, never overlapping."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field

from livevent.runtime.media.audio import SAMPLE_RATE, frames_of
from livevent.runtime.speech.host import PipelineHost
from livevent.runtime.speech.spoken import Played
from livevent.runtime.speech.timing import RollingMedian

FRAME_SECONDS = 0.02
# A channel's queued speech past these many seconds speeds up, then skips.
FASTER_AFTER = 1.0
SKIP_AFTER = 10.0


@dataclass(slots=True)
class ChannelMetrics:
    mt_ms: float = 0.0
    tts_ms: float = 0.0
    first_audio_ms: float = 0.0  # end of the source -> its first translated frame sent
    backlog_seconds: float = 0.0
    skipped: int = 0
    utterances: int = 0
    # Ear-voice span: a translation starts to play, minus when the middle of its
    # source was heard (how a human interpreter's lag is measured).
    ear_voice_span: RollingMedian = field(default_factory=RollingMedian)
    # Every span, for benchmarks that need the whole distribution (bounded: hours),
    # and its two parts: source end -> speech queued, and queued -> playing.
    ear_voice_spans: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))
    ready_lags: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))
    queue_waits: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))


@dataclass(slots=True)
class Speech:
    pcm: bytes
    heard_at: float  # monotonic time the middle of the source was heard
    ended_at: float  # monotonic time the source ended
    queued_at: float = field(default_factory=time.monotonic)
    # Told when it is played (first frame, last frame's end) or skipped (None, None).
    done: Played | None = None


@dataclass
class ChannelPlayer:
    """Plays one machine channel's speech in real time, one utterance after another.

    When the queue grows the channel speaks faster (`rate`), and past a limit a
    simultaneous channel skips its oldest utterances (counted), rather than falling
    further behind; a consecutive one says everything, as its listeners expect.
    """

    host: PipelineHost
    language: str
    metrics: ChannelMetrics = field(default_factory=ChannelMetrics)
    queue: deque[Speech] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    playing_until: float = 0.0
    playing: bool = False

    def backlog(self) -> float:
        queued = sum(len(s.pcm) for s in self.queue) / 2 / SAMPLE_RATE
        return queued + max(0.0, self.playing_until - time.monotonic())

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing playing."""
        return not self.queue and not self.playing

    def rate(self) -> float:
        # Like an interpreter who falls behind: a little faster at once, much faster
        # only when far behind (the booth caps it per voice: TextToSpeech.max_rate_for).
        backlog = self.backlog()
        steps = ((FASTER_AFTER, 1.0), (2 * FASTER_AFTER, 1.15), (4 * FASTER_AFTER, 1.3))
        return next((rate for limit, rate in steps if backlog < limit), 1.5)

    def enqueue(
        self,
        pcm: bytes,
        heard_at: float,
        ended_at: float,
        *,
        may_skip: bool = True,
        done: Played | None = None,
    ) -> None:
        """Queue speech; with `may_skip` (simultaneous), a backlog past SKIP_AFTER drops the
        oldest; consecutive speech is all said, however long it takes. `done` hears when
        it is played, or that it was skipped."""
        self.queue.append(Speech(pcm, heard_at, ended_at, done=done))
        while may_skip and self.backlog() > SKIP_AFTER and len(self.queue) > 1:
            skipped = self.queue.popleft()
            self.metrics.skipped += 1
            if skipped.done is not None:
                skipped.done(None, None)
        self.metrics.backlog_seconds = self.backlog()
        self.wake.set()

    async def run(self) -> None:
        while True:
            while not self.queue:
                self.wake.clear()
                await self.wake.wait()
            await self._play(self.queue.popleft())
            self.metrics.utterances += 1
            self.metrics.backlog_seconds = self.backlog()
            if not self.queue:
                self._set_playing(False)

    async def _play(self, speech: Speech) -> None:
        loop = asyncio.get_running_loop()
        frames = list(frames_of(speech.pcm))
        self._set_playing(True)
        start = loop.time()
        self.playing_until = time.monotonic() + len(frames) * FRAME_SECONDS
        for index, frame in enumerate(frames):
            delay = start + index * FRAME_SECONDS - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)  # real-time playback
            self.host.speak(self.language, frame)
            if index == 0:
                now = time.monotonic()
                if speech.done is not None:
                    speech.done(now, now + len(frames) * FRAME_SECONDS)
                self.metrics.first_audio_ms = (now - speech.ended_at) * 1000
                span = now - speech.heard_at
                if span >= 0:  # a span below zero is a clock's error, never a lag
                    self.metrics.ear_voice_span.add(span, now)
                    self.metrics.ear_voice_spans.append(span)
                self.metrics.ready_lags.append(speech.queued_at - speech.ended_at)
                self.metrics.queue_waits.append(now - speech.queued_at)
        self.host.flush(self.language)

    def _set_playing(self, playing: bool) -> None:
        if playing != self.playing:
            self.playing = playing
            self.host.set_playing(self.language, playing)
