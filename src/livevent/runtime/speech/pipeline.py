"""Machine interpretation of one live event: the floor's speech followed as it is spoken.

    floor frames -> VAD -> streaming STT (LocalAgreement) -> committed words
        -> floor captions: partial (committed + unstable tail), final per sentence
        -> units (clause, sentence, k words; fewer to an idle booth) -> each booth:
           MT -> caption -> TTS -> player (interpreter.py)
        -> sentences -> transcript segments, with every channel's translation

The VAD decides when somebody speaks (no decode on silence) and when an utterance
is over (everything left is committed). While someone speaks, the buffer is decoded
every 0.75 s of speech; when decoding cannot keep up, the period grows (up to
`MAX_CHUNK`), and the pipeline says it is degraded; past that, simultaneous
channels turn consecutive until the machine catches up. An engine without word times
decodes whole utterances instead (consecutive only).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

from livevent.errors import LiveventError
from livevent.model import Channel, ChannelKind
from livevent.runtime.engines import Engines
from livevent.runtime.engines.base import SpeechToText
from livevent.runtime.engines.vad import Segmenter, Utterance
from livevent.runtime.media.audio import FRAME_BYTES
from livevent.runtime.speech.channel_engines import ChannelEngines, engines_for
from livevent.runtime.speech.finals import Recorder, TranscriptKeeper
from livevent.runtime.speech.host import PipelineHost
from livevent.runtime.speech.interpreter import ChannelInterpreter, Mode, Sentence
from livevent.runtime.speech.player import ChannelPlayer
from livevent.runtime.speech.streaming import BYTES_PER_SECOND, StreamingRecognizer, Word, join
from livevent.runtime.speech.timing import MediaClock
from livevent.runtime.speech.units import Unit, UnitSplitter
from livevent.runtime.wire import Caption

log = logging.getLogger(__name__)

FRAME_SECONDS = 0.02
MIN_CHUNK = 0.75  # seconds of new speech between decodes
MAX_CHUNK = 4.0
OVERLOADED_CHUNK = 8.0
DEGRADED_CHUNK = 2.0  # decoding this seldom, captions lag visibly: say so
# Without word times (utterance decoding), a speaker who never pauses is cut here.
UTTERANCE_LIMIT = 12.0


class MachinePipeline:
    def __init__(
        self,
        host: PipelineHost,
        engines: Engines,
        *,
        record: Recorder | None = None,
        mode: Mode = "simultaneous",
    ) -> None:
        self.host = host
        self.engines = engines
        self.keeper = (
            None
            if record is None
            else TranscriptKeeper(record, host.event_id, host.config.source_language)
        )
        self.default_mode: Mode = mode
        self.source = host.config.source_language
        self.targets = [c for c in host.config.channels if c.kind is ChannelKind.MACHINE]
        self.booths: dict[str, ChannelInterpreter] = {}
        self.chosen: dict[str, ChannelEngines] = {}  # per channel: voice and route, for stats
        self.clock = MediaClock()
        self.segmenter = Segmenter(max_seconds=600.0)
        self.recognizer: StreamingRecognizer | None = None
        self.units = UnitSplitter()
        self.sentence: list[Word] = []
        self.sequence = 0
        self.chunk = MIN_CHUNK
        self.overloaded = False
        self._decode_average = 0.0
        # (kind, pcm, media time): begin (the onset, padded), audio (a frame), end (the
        # utterance, at its start); an utterance's end comes as it is (Utterance).
        self._events: deque[tuple[str, bytes, float] | Utterance] = deque()
        self._wake = asyncio.Event()
        self._frames = 0
        self._working = False

    # -- input (called on the event loop for every floor frame, in order) -------------

    def on_floor_frame(self, frame: bytes) -> None:
        if len(frame) != FRAME_BYTES:
            return
        self._frames += 1
        media_end = self._frames * FRAME_SECONDS
        self.clock.arrived(media_end)
        was_speaking = self.segmenter.speaking
        utterance = self.segmenter.push(frame)
        if self.segmenter.speaking and not was_speaking:
            onset = self.segmenter.current()
            self._events.append(("begin", onset, media_end - len(onset) / BYTES_PER_SECOND))
            self._wake.set()
        elif was_speaking:
            self._events.append(("audio", frame, media_end))
            if utterance is not None:
                self._ended(utterance)
            elif self._frames % 10 == 0:
                self._wake.set()

    def end_of_speech(self) -> None:
        """The floor speaker stopped or left: what was said so far is an utterance."""
        utterance = self.segmenter.finish()
        if utterance is not None:
            self._ended(utterance)

    def _ended(self, utterance: Utterance) -> None:
        self._events.append(utterance)
        self._wake.set()

    # -- start ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the engines, then start the booths; a channel that cannot run says why."""
        stt = await self.engines.stt(self._engine_name("stt"))
        if stt.word_timestamps:
            self.recognizer = StreamingRecognizer(stt, self.source)
        else:
            self.segmenter = Segmenter(max_seconds=UTTERANCE_LIMIT)
        for channel in list(self.targets):
            await self.add_target(channel, starting=True)
        self.host.spawn(self.run(), name=f"pipeline:{self.host.event_id}")

    async def add_target(self, channel: Channel, *, starting: bool = False) -> None:
        """A machine channel (one added while live is translated from the next words on)."""
        try:
            chosen = await engines_for(self.engines, self.source, channel)
        except LiveventError as error:
            log.warning("channel %s unavailable: %s", channel.language, error)
            self.host.set_problem(channel.language, str(error))
            if channel in self.targets:
                self.targets.remove(channel)
            return
        if not starting:
            self.targets.append(channel)
        language = channel.language
        booth = ChannelInterpreter(
            host=self.host,
            language=language,
            source=self.source,
            mode=self.mode_of(channel),
            mt=lambda: self.engines.mt(chosen.mt),
            tts=None if chosen.tts is None else lambda: self.engines.tts(chosen.tts),
            player=ChannelPlayer(self.host, language),
            clock=self.clock,
            voice=chosen.voice,
            glossary=self.host.config.glossary,
            keep=None if self.keeper is None else self.keeper.translation,
        )
        self.booths[language] = booth
        self.chosen[language] = chosen
        if chosen.note is not None:
            self.host.set_note(language, chosen.note)
        self.host.spawn(booth.player.run(), name=f"player:{language}")
        self.host.spawn(booth.run(), name=f"booth:{language}")

    def mode_of(self, channel: Channel) -> Mode:
        if self.recognizer is None:
            return "consecutive"  # no word times: whole utterances only
        config = self.host.config
        return channel.interpretation or config.interpretation or self.default_mode

    def _engine_name(self, stage: str, language: str | None = None) -> str | None:
        for channel in self.targets:
            if language in (None, channel.language) and stage in channel.engines:
                return channel.engines[stage]
        return None

    # -- the loop ---------------------------------------------------------------------------

    async def run(self) -> None:
        while True:
            if not self._events:
                self._wake.clear()
                await self._wake.wait()
            ended = self._take_audio()
            self._working = True
            try:
                if ended is not None:
                    await self._utterance_over(ended)
                elif self._decode_due():
                    await self._step()
            except LiveventError as error:
                log.warning("event %s: speech not recognised: %s", self.host.event_id, error)
            finally:
                self._working = False

    def _take_audio(self) -> Utterance | None:
        """Move queued audio into the recogniser; the utterance if one ended."""
        recognizer = self.recognizer
        while self._events:
            event = self._events.popleft()
            if isinstance(event, Utterance):
                return event
            kind, pcm, media_time = event
            if recognizer is None:
                continue  # utterance decoding waits for the whole utterance
            if kind == "begin":
                recognizer.begin(max(0.0, media_time), pcm)
            else:
                recognizer.push(pcm)
        return None

    def _decode_due(self) -> bool:
        recognizer = self.recognizer
        if recognizer is None or not self.segmenter.speaking or not self._wanted():
            return False
        return recognizer.pending >= self.chunk

    def _wanted(self) -> bool:
        """Whether anyone would see or hear the result (paused channels do no work)."""
        return (
            self.keeper is not None
            or self.host.has_listeners(self.source)
            or any(not self.host.is_paused(c.language) for c in self.targets)
        )

    async def _step(self) -> None:
        assert self.recognizer is not None
        committed = await self.recognizer.step()
        self._pace(self.recognizer.decode_seconds)
        await self._take_words(committed)
        if self._booths_idle():
            # The next decode is a period away: say what is committed, not wait for k words.
            self._hand_over(self.units.cut_short())
        self._partial()
        # The words after the last unit, committed or not: booths caption them ahead.
        ahead = self.units.pending + self.recognizer.agreement.unstable
        for booth in self.booths.values():
            booth.preview(ahead, self.sequence + 1)

    def _booths_idle(self) -> bool:
        """No booth has anything to say until the next decode."""
        booths = self.booths.values()
        return bool(booths) and all(not b.busy and b.player.backlog() < self.chunk for b in booths)

    def _pace(self, decode_seconds: float) -> None:
        """Decode as often as the machine allows, so the work never piles up.

        A slow decode stretches the period (degraded: captions lag); past MAX_CHUNK
        the machine cannot interpret simultaneously at all, and the simultaneous
        booths turn consecutive (whole sentences at pauses) until it can again.
        """
        # Smoothed: one slow decode (a busy neighbour) must not flip the channels'
        # mode; a machine that stays slow does.
        self._decode_average += (decode_seconds - self._decode_average) * 0.3
        wanted = max(MIN_CHUNK, self._decode_average * 1.5)
        overloaded = wanted > MAX_CHUNK
        if overloaded != self.overloaded:
            self.overloaded = overloaded
            log.warning(
                "event %s: decoding takes %.1f s: machine channels turn %s",
                self.host.event_id,
                self._decode_average,
                "consecutive" if overloaded else "simultaneous again",
            )
            for language, booth in self.booths.items():
                channel = self.host.config.channel(language)
                chosen = self.mode_of(channel) if channel is not None else booth.mode
                booth.mode = "consecutive" if overloaded else chosen
        # Overloaded, decode seldom: only to keep the buffer inside Whisper's window.
        self.chunk = OVERLOADED_CHUNK if overloaded else min(MAX_CHUNK, wanted)

    async def _utterance_over(self, utterance: Utterance) -> None:
        if self.recognizer is not None:
            words = await self.recognizer.finish(silence=utterance.trailing_silence)
        else:
            words = await self._decode_utterance(
                utterance.pcm, utterance.start_frame * FRAME_SECONDS
            )
        await self._take_words(words)
        await self._end_sentence()
        for booth in self.booths.values():
            booth.pause()

    async def _decode_utterance(self, pcm: bytes, start: float) -> list[Word]:
        """Whole-utterance decoding, for engines without word times: words spread evenly."""
        if not pcm or not self._wanted():
            return []
        stt: SpeechToText = await self.engines.stt(self._engine_name("stt"))
        recognition = await stt.transcribe(pcm, self.source)
        step = len(pcm) / BYTES_PER_SECOND / max(1, len(recognition.words))
        return [
            Word(text, start + index * step, start + (index + 1) * step)
            for index, text in enumerate(recognition.words)
        ]

    # -- words -> captions, units, sentences ----------------------------------------------

    async def _take_words(self, words: list[Word]) -> None:
        for word in words:
            self.sentence.append(word)
            self._hand_over(self.units.add(word))
            if word.ends_sentence:
                await self._end_sentence()

    def _hand_over(self, unit: Unit | None) -> None:
        if unit is not None:
            for booth in self.booths.values():
                booth.unit(unit, self.sequence + 1)

    def _partial(self) -> None:
        if self.recognizer is None:
            return
        tail = self.recognizer.agreement.unstable
        shown = self.sentence + tail
        if not shown:
            return
        self.host.caption(
            self.source,
            Caption(
                channel=self.source,
                seq=self.sequence + 1,
                final=False,
                text=join(shown),
                stable=join(self.sentence),
                start=round(shown[0].start, 2),
                end=round(shown[-1].end, 2),
            ),
        )

    async def _end_sentence(self) -> None:
        self._hand_over(self.units.flush())
        if not self.sentence:
            return
        self.sequence += 1
        sentence = Sentence(tuple(self.sentence), seq=self.sequence)
        self.sentence = []
        if self.keeper is not None:
            await self.keeper.sentence(sentence)  # on disk before anyone sees it
        self.host.caption(
            self.source,
            Caption(
                channel=self.source,
                seq=sentence.seq,
                final=True,
                text=sentence.text,
                start=round(sentence.start, 2),
                end=round(sentence.end, 2),
            ),
        )
        for booth in self.booths.values():
            booth.sentence(sentence)

    # -- state ----------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Speech heard but not yet captioned, translated and queued for speaking."""
        return (
            self._working
            or bool(self._events)
            or self.segmenter.speaking
            or any(b.busy for b in self.booths.values())
        )

    @property
    def degraded(self) -> bool:
        return self.chunk >= DEGRADED_CHUNK

    def snapshot(self) -> dict[str, Any]:
        recognizer = self.recognizer
        rtf = recognizer.real_time_factor() if recognizer else None
        return {
            "busy": self.busy,
            "mode": "streaming" if recognizer else "utterances",
            "stt_ms": round((recognizer.decode_seconds if recognizer else 0.0) * 1000, 1),
            "stt_rtf": round(rtf, 3) if rtf is not None else None,
            "chunk_s": round(self.chunk, 2),
            "degraded": self.degraded,
            "overloaded": self.overloaded,
            "buffer_s": round(recognizer.buffered, 2) if recognizer else 0.0,
            "channels": {
                language: {
                    "mode": booth.mode,
                    "voice": self.chosen[language].voice_label,
                    "route": self.chosen[language].route,
                    "degraded": self.degraded,
                    "mt_ms": round(booth.player.metrics.mt_ms, 1),
                    "tts_ms": round(booth.player.metrics.tts_ms, 1),
                    "first_audio_ms": round(booth.player.metrics.first_audio_ms, 1),
                    "evs_s": _rounded(booth.player.metrics.ear_voice_span.value()),
                    "backlog_s": round(booth.player.backlog(), 2),
                    "skipped": booth.player.metrics.skipped,
                }
                for language, booth in self.booths.items()
            },
        }


def _rounded(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None
