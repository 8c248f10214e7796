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

import logging
from collections.abc import Callable
from typing import Any

from livevent.errors import LiveventError
from livevent.model import Channel, ChannelKind
from livevent.runtime.engines import Engines
from livevent.runtime.engines.base import SpeechToText
from livevent.runtime.engines.vad import Utterance
from livevent.runtime.speech.booths import BoothSet
from livevent.runtime.speech.captions import final_caption, partial_caption
from livevent.runtime.speech.channel_engines import engines_for
from livevent.runtime.speech.finals import Recorder, TranscriptKeeper
from livevent.runtime.speech.floor import FRAME_SECONDS, FloorInput
from livevent.runtime.speech.host import PipelineHost
from livevent.runtime.speech.interpreter import Mode, Sentence
from livevent.runtime.speech.pace import DecodePace
from livevent.runtime.speech.stats import pipeline_stats
from livevent.runtime.speech.streaming import BYTES_PER_SECOND, StreamingRecognizer, Word
from livevent.runtime.speech.timing import MediaClock
from livevent.runtime.speech.units import Unit, UnitSplitter

log = logging.getLogger(__name__)

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
        self.clock = MediaClock()
        keep = None if self.keeper is None else self.keeper.translation
        self.set = BoothSet(host, engines, source=self.source, clock=self.clock, keep=keep)
        self.booths = self.set.booths  # the same dicts: booths open and close in the set
        self.chosen = self.set.chosen
        # Streaming: the recogniser holds the audio, the VAD only says when speech ends.
        self.floor = FloorInput(self.clock, keep_audio=False, max_seconds=600.0)
        self.recognizer: StreamingRecognizer | None = None
        self.units = UnitSplitter()
        self.sentence: list[Word] = []
        self.sequence = 0
        self.pace = DecodePace()
        self._working = False

    # -- input (called on the event loop for every floor frame, in order) -------------

    def on_floor_frame(self, frame: bytes) -> None:
        self.floor.frame(frame)

    def end_of_speech(self) -> None:
        """The floor speaker stopped or left: what was said so far is an utterance."""
        self.floor.end_of_speech()

    # -- start ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the engines, then start the booths; a channel that cannot run says why."""
        stt = await self.engines.stt(self._engine_name("stt"))
        if stt.word_timestamps:
            self.recognizer = StreamingRecognizer(stt, self.source)
        else:
            self.floor = FloorInput(self.clock, keep_audio=True, max_seconds=UTTERANCE_LIMIT)
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
        self.set.open(channel, chosen, self.mode_of(channel))

    async def stand_in(self, channel: Channel, still: Callable[[], bool]) -> None:
        """An interpreter's channel with nobody on air: the machine speaks it (booths.py)."""
        await self.set.stand_in(channel, self.mode_of(channel), still)

    async def stand_down(self, language: str) -> None:
        await self.set.stand_down(language)

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
            await self.floor.wait()
            ended = self.floor.take(self.recognizer)
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

    def _decode_due(self) -> bool:
        recognizer = self.recognizer
        if recognizer is None or not self.floor.speaking or not self._wanted():
            return False
        return recognizer.pending >= self.chunk

    def _wanted(self) -> bool:
        """Whether anyone would see or hear the result (paused channels do no work)."""
        return (
            self.keeper is not None
            or self.host.has_listeners(self.source)
            or any(not self.host.is_paused(language) for language in self.booths)
        )

    async def _step(self) -> None:
        assert self.recognizer is not None
        committed = await self.recognizer.step()
        self._pace(self.recognizer.decode_seconds)
        await self._take_words(committed)
        if self._booths_idle():
            # The next decode is a period away: say what is committed, not wait for k words.
            self._hand_over(self.units.cut_short())
        partial = partial_caption(
            self.source, self.sequence + 1, self.sentence, self.recognizer.agreement.unstable
        )
        if partial is not None:
            self.host.caption(self.source, partial)
        # The words after the last unit, committed or not: booths caption them ahead.
        ahead = self.units.pending + self.recognizer.agreement.unstable
        for booth in self.booths.values():
            booth.preview(ahead, self.sequence + 1)

    def _booths_idle(self) -> bool:
        """No booth has anything to say until the next decode."""
        booths = self.booths.values()
        return bool(booths) and all(
            not b.waiting and b.player.backlog() < self.chunk for b in booths
        )

    @property
    def chunk(self) -> float:
        return self.pace.chunk

    @property
    def overloaded(self) -> bool:
        return self.pace.overloaded

    def _pace(self, decode_seconds: float) -> None:
        """The next decode's period (pace.py); booths turn consecutive while overloaded."""
        if not self.pace.decoded(decode_seconds):
            return
        overloaded = self.pace.overloaded
        log.warning(
            "event %s: decoding takes %.1f s: machine channels turn %s",
            self.host.event_id,
            self.pace.average,
            "consecutive" if overloaded else "simultaneous again",
        )
        for language, booth in self.booths.items():
            channel = self.host.config.channel(language)
            chosen = self.mode_of(channel) if channel is not None else booth.mode
            booth.mode = "consecutive" if overloaded else chosen

    async def _utterance_over(self, utterance: Utterance) -> None:
        if self.recognizer is not None:
            words = await self.recognizer.finish(silence=utterance.trailing_silence)
        else:
            start = utterance.start_frame * FRAME_SECONDS
            words = await self._decode_utterance(utterance.pcm, start)
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

    async def _end_sentence(self) -> None:
        self._hand_over(self.units.flush())
        if not self.sentence:
            return
        self.sequence += 1
        sentence = Sentence(tuple(self.sentence), seq=self.sequence)
        self.sentence = []
        if self.keeper is not None:
            await self.keeper.sentence(sentence)  # on disk before anyone sees it
        self.host.caption(self.source, final_caption(self.source, sentence))
        for booth in self.booths.values():
            booth.sentence(sentence)

    # -- state ----------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Speech heard but not yet captioned, translated and queued for speaking."""
        return (
            self._working
            or self.floor.queued
            or self.floor.speaking
            or any(b.busy for b in self.booths.values())
        )

    @property
    def finished(self) -> bool:
        """Everything heard is captioned and spoken: nothing queued, nothing playing."""
        return not self.busy and all(b.player.idle for b in self.booths.values())

    @property
    def degraded(self) -> bool:
        return self.pace.degraded

    def snapshot(self) -> dict[str, Any]:
        return pipeline_stats(self)
