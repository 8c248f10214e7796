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
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from livevent.errors import LiveventError
from livevent.model import Channel, ChannelKind, TranscriptSegment
from livevent.runtime.audio import FRAME_BYTES
from livevent.runtime.engines import Engines
from livevent.runtime.engines.vad import Segmenter, Utterance
from livevent.runtime.speech.glossary import translate_with_glossary
from livevent.runtime.speech.host import PipelineHost
from livevent.runtime.speech.player import ChannelPlayer
from livevent.runtime.wire import Caption

log = logging.getLogger(__name__)

PARTIAL_INTERVAL = 1.0
# No partial decode once the speaker has paused this long: the utterance is
# probably ending, and a decode then would delay its final by up to a second.
PARTIAL_QUIET_MS = 100

Recorder = Callable[[TranscriptSegment], Awaitable[None]]


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
        host: PipelineHost,
        engines: Engines,
        *,
        record: Recorder | None = None,
        partials: bool = True,
    ) -> None:
        self.host = host
        self.engines = engines
        self.record = record
        self.partials = partials
        self.source = host.config.source_language
        self.targets = [c for c in host.config.channels if c.kind is ChannelKind.MACHINE]
        self.players = {c.language: ChannelPlayer(host, c.language) for c in self.targets}
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
                self.host.set_problem(channel.language, problem)
                self.targets.remove(channel)
                del self.players[channel.language]
        for player in self.players.values():
            self.host.spawn(player.run(), name=f"player:{player.language}")
        self.host.spawn(self.run(), name=f"pipeline:{self.host.event_id}")

    async def add_target(self, channel: Channel) -> None:
        """A machine channel added while live: translated from the next utterance on."""
        problem = await self._check(channel.language)
        if problem:
            log.warning("channel %s unavailable: %s", channel.language, problem)
            self.host.set_problem(channel.language, problem)
            return
        player = ChannelPlayer(self.host, channel.language)
        self.players[channel.language] = player
        self.targets.append(channel)
        self.host.spawn(player.run(), name=f"player:{player.language}")

    async def _check(self, language: str) -> str | None:
        try:
            mt = await self.engines.mt(self._engine_name("mt", language))
            if not mt.supports(self.source, language):
                return f"{mt.name} cannot translate {self.source} into {language}"
            tts = await self.engines.tts(self._engine_name("tts", language))
            channel = self.host.config.channel(language)
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
                log.warning("event %s: an utterance was lost: %s", self.host.event_id, error)
            finally:
                self._working = False
            self._previous_words = []

    def _wanted(self) -> bool:
        """Whether anyone would see or hear the result (paused channels do no work)."""
        return self.host.has_listeners(self.source) or any(
            not self.host.is_paused(c.language) for c in self.targets
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
        partial = Caption(
            channel=self.source,
            seq=self.sequence + 1,
            final=False,
            text=recognition.text,
            stable=" ".join(stable),
        )
        self.host.caption(self.source, partial)

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
        caption = Caption(
            channel=self.source,
            seq=sequence,
            final=True,
            text=text,
            start=round(start_s, 2),
            end=round(end_s, 2),
        )
        self.host.caption(self.source, caption)
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
                event_id=self.host.event_id,
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
                    self.host.event_id,
                    sequence,
                    error,
                )

    async def _interpret(self, language: str, text: str, caption: Caption, ended_at: float) -> str:
        player = self.players[language]
        mt = await self.engines.mt(self._engine_name("mt", language))
        started = time.perf_counter()
        translated = await translate_with_glossary(
            text,
            language,
            self.host.config.glossary,
            lambda protected: mt.translate(protected, self.source, language),
        )
        player.metrics.mt_ms = (time.perf_counter() - started) * 1000
        translated_caption = caption.model_copy(
            update={"channel": language, "text": translated, "source_text": text}
        )
        self.host.caption(language, translated_caption)
        if self.host.is_paused(language):
            return translated
        tts = await self.engines.tts(self._engine_name("tts", language))
        channel = self.host.config.channel(language)
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
