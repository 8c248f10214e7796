"""Machine interpretation: the floor's speech -> text -> translations -> speech, live.

One pipeline per live event serves all its machine channels:

    floor frames -> VAD -> utterance -> STT -> caption (floor)
                                         \\-> MT per channel -> caption -> TTS -> player

Whisper is not a streaming model: each utterance is decoded when it ends
(final), and the growing utterance is re-decoded about once a second for
partial captions, the words two passes agree on marked stable (LocalAgreement).
Each machine channel's speech is queued so it never overlaps itself; when the
queue grows, the channel speaks faster, and past a limit it skips its oldest
utterances (counted), rather than falling further and further behind.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from livevent.errors import LiveventError
from livevent.model import Channel, ChannelKind, TranscriptSegment
from livevent.runtime.audio import FRAME_BYTES, frames_of
from livevent.runtime.engines import Engines
from livevent.runtime.engines.vad import Segmenter, Utterance
from livevent.runtime.glossary import translate_with_glossary
from livevent.runtime.session import LiveSession

log = logging.getLogger(__name__)

PARTIAL_INTERVAL = 1.0
# No partial decode once the speaker has paused this long: the utterance is
# probably ending, and a decode then would delay its final by up to a second.
PARTIAL_QUIET_MS = 100
# A channel's queued speech past these many seconds speeds up, then skips.
FASTER_AFTER = 2.0
SKIP_AFTER = 10.0

Recorder = Callable[[TranscriptSegment], Awaitable[None]]


@dataclass(slots=True)
class ChannelMetrics:
    mt_ms: float = 0.0
    tts_ms: float = 0.0
    first_audio_ms: float = 0.0  # end of utterance -> first translated frame sent
    backlog_seconds: float = 0.0
    skipped: int = 0
    utterances: int = 0


@dataclass(slots=True)
class _Speech:
    pcm: bytes
    ended_at: float  # monotonic time the source utterance ended


@dataclass
class ChannelPlayer:
    """Plays one machine channel's speech in real time, one utterance after another."""

    session: LiveSession
    language: str
    metrics: ChannelMetrics = field(default_factory=ChannelMetrics)
    queue: deque[_Speech] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    playing_until: float = 0.0

    def backlog(self) -> float:
        queued = sum(len(s.pcm) for s in self.queue) / 2 / 16000
        return queued + max(0.0, self.playing_until - time.monotonic())

    def rate(self) -> float:
        backlog = self.backlog()
        return 1.0 if backlog < FASTER_AFTER else 1.25 if backlog < 2 * FASTER_AFTER else 1.5

    def enqueue(self, pcm: bytes, ended_at: float) -> None:
        self.queue.append(_Speech(pcm, ended_at))
        while self.backlog() > SKIP_AFTER and len(self.queue) > 1:
            self.queue.popleft()
            self.metrics.skipped += 1
        self.metrics.backlog_seconds = self.backlog()
        self.wake.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            while not self.queue:
                self.wake.clear()
                await self.wake.wait()
            speech = self.queue.popleft()
            frames = list(frames_of(speech.pcm))
            if not self.session.channels[self.language].playing:
                self.session.set_playing(self.language, True)
            start = loop.time()
            self.playing_until = time.monotonic() + len(frames) * 0.02
            for index, frame in enumerate(frames):
                delay = start + index * 0.02 - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)  # real-time playback
                self.session.feed(self.language, frame)
                if index == 0:
                    self.metrics.first_audio_ms = (time.monotonic() - speech.ended_at) * 1000
            self.session.channels[self.language].hub.flush()
            self.metrics.utterances += 1
            self.metrics.backlog_seconds = self.backlog()
            if not self.queue:
                self.session.set_playing(self.language, False)


def _common_prefix(a: list[str], b: list[str]) -> list[str]:
    prefix = []
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        prefix.append(x)
    return prefix


class MachinePipeline:
    def __init__(
        self,
        session: LiveSession,
        engines: Engines,
        *,
        record: Recorder | None = None,
        partials: bool = True,
    ) -> None:
        self.session = session
        self.engines = engines
        self.record = record
        self.partials = partials
        self.source = session.config.source_language
        self.targets = [c for c in session.config.channels if c.kind is ChannelKind.MACHINE]
        self.players = {c.language: ChannelPlayer(session, c.language) for c in self.targets}
        self.segmenter = Segmenter()
        self.utterances: asyncio.Queue[tuple[Utterance, float]] = asyncio.Queue()
        self.sequence = 0
        self.stt_ms = 0.0
        self.stt_backlog = 0
        self._last_partial = 0.0
        self._previous_words: list[str] = []
        self._frames = 0
        self._working = False

    # -- input ----------------------------------------------------------------------

    def on_floor_frame(self, frame: bytes) -> None:
        """Called for every floor frame, in order, on the event loop."""
        if len(frame) != FRAME_BYTES:
            return
        self._frames += 1
        utterance = self.segmenter.push(frame)
        if utterance is not None:
            self.utterances.put_nowait((utterance, time.monotonic()))
            self.stt_backlog = self.utterances.qsize()

    def end_of_speech(self) -> None:
        """The floor speaker stopped or left: what was said so far is an utterance."""
        utterance = self.segmenter.finish()
        if utterance is not None:
            self.utterances.put_nowait((utterance, time.monotonic()))

    # -- work -----------------------------------------------------------------------

    async def start(self) -> None:
        """Load the engines the channels need, then start the workers.

        A channel whose language the engines cannot serve is marked unavailable
        with the reason; the others go on.
        """
        await self.engines.stt(self._engine_name("stt"))
        for channel in list(self.targets):
            problem = await self._check(channel.language)
            if problem:
                log.warning("channel %s unavailable: %s", channel.language, problem)
                self.session.channels[channel.language].problem = problem
                self.targets.remove(channel)
                del self.players[channel.language]
        for player in self.players.values():
            self.session.spawn(player.run(), name=f"player:{player.language}")
        self.session.spawn(self.run(), name=f"pipeline:{self.session.event_id}")

    async def add_target(self, channel: Channel) -> None:
        """A machine channel added while live: translated from the next utterance on."""
        problem = await self._check(channel.language)
        if problem:
            log.warning("channel %s unavailable: %s", channel.language, problem)
            self.session.channels[channel.language].problem = problem
            return
        player = ChannelPlayer(self.session, channel.language)
        self.players[channel.language] = player
        self.targets.append(channel)
        self.session.spawn(player.run(), name=f"player:{player.language}")

    async def _check(self, language: str) -> str | None:
        try:
            mt = await self.engines.mt(self._engine_name("mt", language))
            if not mt.supports(self.source, language):
                return f"{mt.name} cannot translate {self.source} into {language}"
            tts = await self.engines.tts(self._engine_name("tts", language))
            channel = self.session.config.channel(language)
            if not tts.supports(language, channel.voice if channel else None):
                return f"{tts.name} has no voice for {language}"
        except LiveventError as error:
            return str(error)
        return None

    def _engine_name(self, stage: str, language: str | None = None) -> str | None:
        for channel in self.targets:
            if language in (None, channel.language) and stage in channel.engines:
                return channel.engines[stage]
        return None

    async def run(self) -> None:
        while True:
            try:
                utterance, ended_at = await asyncio.wait_for(self.utterances.get(), 0.25)
            except TimeoutError:
                if self.partials and self.segmenter.speaking:
                    await self._partial()
                continue
            self.stt_backlog = self.utterances.qsize()
            self._working = True
            try:
                await self._final(utterance, ended_at)
            except LiveventError as error:
                log.warning("event %s: an utterance was lost: %s", self.session.event_id, error)
            finally:
                self._working = False
            self._previous_words = []

    def _wanted(self) -> bool:
        """Whether anyone would see or hear the result (paused channels do no work)."""
        floor = self.session.channels[self.source]
        return bool(floor.hub.listeners) or any(
            not self.session.channels[c.language].paused for c in self.targets
        )

    async def _partial(self) -> None:
        now = time.monotonic()
        if now - self._last_partial < PARTIAL_INTERVAL or not self._wanted():
            return
        if self.segmenter.trailing_silence_ms >= PARTIAL_QUIET_MS:
            return
        self._last_partial = now
        pcm = self.segmenter.current()
        stt = await self.engines.stt(self._engine_name("stt"))
        recognition = await stt.transcribe(pcm, self.source)
        words = recognition.words
        stable = _common_prefix(self._previous_words, words)
        self._previous_words = words
        if not words:
            return
        self.session.channels[self.source].hub.send_json(
            {
                "type": "caption",
                "channel": self.source,
                "seq": self.sequence + 1,
                "final": False,
                "text": recognition.text,
                "stable": " ".join(stable),
            }
        )

    async def _final(self, utterance: Utterance, ended_at: float) -> None:
        if not self._wanted() and self.record is None:
            return
        stt = await self.engines.stt(self._engine_name("stt"))
        started = time.perf_counter()
        recognition = await stt.transcribe(utterance.pcm, self.source)
        self.stt_ms = (time.perf_counter() - started) * 1000
        text = recognition.text.strip()
        if not text:
            return
        self.sequence += 1
        sequence = self.sequence
        start_s, end_s = utterance.start_frame * 0.02, utterance.end_frame * 0.02
        caption = {
            "type": "caption",
            "channel": self.source,
            "seq": sequence,
            "final": True,
            "text": text,
            "start": round(start_s, 2),
            "end": round(end_s, 2),
        }
        self.session.channels[self.source].hub.send_json(caption)
        results = await asyncio.gather(
            *(self._interpret(c.language, text, caption, ended_at) for c in self.targets),
            return_exceptions=True,
        )
        translations = {}
        for channel, result in zip(self.targets, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("channel %s: %s", channel.language, result)
            else:
                translations[channel.language] = result
        if self.record is not None:
            segment = TranscriptSegment(
                event_id=self.session.event_id,
                sequence=sequence,
                language=self.source,
                text=text,
                translations=translations,
                start_seconds=start_s,
                end_seconds=end_s,
                spoken_at=datetime.now(UTC),
            )
            try:
                await self.record(segment)
            except LiveventError as error:
                log.error(
                    "event %s: transcript segment %s not stored: %s",
                    self.session.event_id,
                    sequence,
                    error,
                )

    async def _interpret(
        self, language: str, text: str, caption: dict[str, Any], ended_at: float
    ) -> str:
        player = self.players[language]
        mt = await self.engines.mt(self._engine_name("mt", language))
        started = time.perf_counter()
        translated = await translate_with_glossary(
            text,
            language,
            self.session.config.glossary,
            lambda protected: mt.translate(protected, self.source, language),
        )
        player.metrics.mt_ms = (time.perf_counter() - started) * 1000
        hub = self.session.channels[language].hub
        hub.send_json({**caption, "channel": language, "text": translated, "source_text": text})
        if self.session.channels[language].paused:
            return translated
        tts = await self.engines.tts(self._engine_name("tts", language))
        channel = self.session.config.channel(language)
        started = time.perf_counter()
        pcm = await tts.synthesize(
            translated, language, voice=channel.voice if channel else None, rate=player.rate()
        )
        player.metrics.tts_ms = (time.perf_counter() - started) * 1000
        player.enqueue(pcm, ended_at)
        return translated

    @property
    def busy(self) -> bool:
        """Speech heard but not yet captioned, translated and queued for speaking."""
        return self._working or not self.utterances.empty() or self.segmenter.speaking

    def snapshot(self) -> dict[str, Any]:
        return {
            "busy": self.busy,
            "stt_ms": round(self.stt_ms, 1),
            "stt_backlog": self.stt_backlog,
            "channels": {
                language: {
                    "mt_ms": round(p.metrics.mt_ms, 1),
                    "tts_ms": round(p.metrics.tts_ms, 1),
                    "first_audio_ms": round(p.metrics.first_audio_ms, 1),
                    "backlog_s": round(p.backlog(), 2),
                    "skipped": p.metrics.skipped,
                }
                for language, p in self.players.items()
            },
        }
