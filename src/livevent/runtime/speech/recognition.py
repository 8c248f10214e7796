"""One channel's speech followed as it is spoken: the floor's, or an interpreter's.

    frames -> VAD -> streaming STT (LocalAgreement) -> committed words
        -> the channel's captions: partial (committed + unstable tail), final per sentence
        -> units (clause, sentence, k words; fewer to an idle booth) -> the booths that
           interpret this channel (the floor's, or relays from an interpreter)
        -> sentences -> transcript segments in this channel's language

The VAD decides when somebody speaks (no decode on silence) and when an utterance
is over (everything left is committed). While someone speaks, the buffer is decoded
every 0.5 s of speech (0.3 s while idle booths wait for a sentence's first unit, and
at once when the frames stop mid-speech);
when decoding cannot keep up, the period grows (up to `MAX_CHUNK`), and the pipeline
says it is degraded; past that, simultaneous booths turn consecutive until the
machine catches up. An engine without word times decodes whole utterances instead
(consecutive only).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from livevent.errors import LiveventError
from livevent.model import Channel
from livevent.runtime.engines import Engines
from livevent.runtime.engines.base import SpeechToText
from livevent.runtime.engines.vad import Utterance
from livevent.runtime.speech.captions import final_caption, partial_caption
from livevent.runtime.speech.finals import TranscriptKeeper
from livevent.runtime.speech.floor import FRAME_SECONDS, FloorInput
from livevent.runtime.speech.host import PipelineHost
from livevent.runtime.speech.interpreter import ChannelInterpreter, Mode, Sentence
from livevent.runtime.speech.pace import MIN_CHUNK, DecodePace
from livevent.runtime.speech.streaming import (
    BYTES_PER_SECOND,
    OVERLAP_SECONDS,
    StreamingRecognizer,
    Word,
)
from livevent.runtime.speech.timing import MediaClock
from livevent.runtime.speech.units import CLAUSE_END, Unit, UnitSplitter

log = logging.getLogger(__name__)

# Without word times (utterance decoding), a speaker who never pauses is cut here.
UTTERANCE_LIMIT = 12.0
# Nobody says a word in less: a sentence said faster is a decoder's echo.
SQUEEZED_WORD_SECONDS = 0.08
# A sentence that runs on is closed at a clause mark once it has lasted this long, as
# an interpreter closes one: its final caption and transcript segment come, and the
# booths say what they held back for its end, instead of waiting for a full stop that
# may be a minute away (a run-on speaker, a meeting). 0: only at full stops.
LONG_SENTENCE_SECONDS = 8.0
# ... and at any word once it has lasted this long, clause mark or not (a subtitle
# cue of a minute helps nobody).
RUN_ON_SECONDS = 16.0
# Frames come every 20 ms while the speaker is connected, silence included. None for
# this long while the VAD hears speech: they stopped mid-word (a stalled network, a
# client that sent its last words and waits, a tab the browser throttles). What is
# undecoded, if this much, is decoded now: otherwise the words said last wait, unseen,
# for frames that may be seconds away (a slow machine stretches the period to 1.5 s),
# and a restart meanwhile keeps only what the decodes before them heard.
STALLED_SECONDS = 0.5
STALLED_PENDING_SECONDS = 0.1


def repeats(last: Sentence | None, words: tuple[Word, ...]) -> bool:
    """`words` are the `last` sentence again, where it cannot have been said again: over
    the same seconds, or squeezed into a moment (a decoder's loop, not a speaker's repeat)."""
    if last is None or [w.key for w in words] != [w.key for w in last.words]:
        return False
    overlapping = words[0].start < last.end - OVERLAP_SECONDS
    squeezed = words[-1].end - words[0].start < SQUEEZED_WORD_SECONDS * len(words)
    return overlapping or squeezed


class Recognition:
    """The speech of one channel (`source`), for its captions, booths and transcript."""

    def __init__(
        self,
        host: PipelineHost,
        engines: Engines,
        source: str,
        *,
        clock: MediaClock,
        keeper: TranscriptKeeper | None,
        booths: Callable[[], list[ChannelInterpreter]],
        mode_of: Callable[[Channel], Mode],
        stt_name: str | None = None,
        decode_every: float = MIN_CHUNK,
    ) -> None:
        self.host = host
        self.engines = engines
        self.source = source
        self.clock = clock
        self.keeper = keeper
        self.booths_here = booths
        self.mode_of = mode_of
        self.stt_name = stt_name
        # Streaming: the recogniser holds the audio, the VAD only says when speech ends.
        self.floor = FloorInput(self.clock, keep_audio=False, max_seconds=600.0)
        self.recognizer: StreamingRecognizer | None = None
        self.units = UnitSplitter()
        self.sentence: list[Word] = []
        self.sequence = 0
        self.pace = DecodePace(decode_every)
        self._working = False
        self.last_voice = time.monotonic()  # when the VAD last heard speech here
        self._last_final: Sentence | None = None
        # Words are taken one decode at a time: `keep_as_heard` may not interleave with a decode's.
        self._taking = asyncio.Lock()
        self.settled = False  # `keep_as_heard`: no decode's words are taken any more

    def on_frame(self, frame: bytes) -> None:
        """A 20 ms frame of the channel's speaker (on the event loop, in order)."""
        self.floor.frame(frame)
        if self.floor.speaking:
            self.last_voice = time.monotonic()

    def end_of_speech(self) -> None:
        """The speaker stopped or left: what was said so far is an utterance."""
        self.floor.end_of_speech()

    async def open(self) -> None:
        """Load the recogniser: streaming with word times, else whole utterances."""
        stt = await self.engines.stt(self.stt_name)
        if stt.word_timestamps:
            self.recognizer = StreamingRecognizer(stt, self.source)
        else:
            self.floor = FloorInput(self.clock, keep_audio=True, max_seconds=UTTERANCE_LIMIT)

    @property
    def recognising(self) -> bool:
        """Speech heard but not yet turned into words and sentences (none once settled)."""
        if self.settled:
            return False
        return self._working or self.floor.queued or self.floor.speaking

    # -- the loop ---------------------------------------------------------------------------

    async def run(self) -> None:
        while not self.settled:
            undecoded = self.recognizer is not None and self.recognizer.pending > 0
            within = STALLED_SECONDS if undecoded and self.floor.speaking else None
            stalled = not await self.floor.wait(within)
            ended = self.floor.take(self.recognizer)
            self._working = True
            try:
                if ended is not None:
                    await self._utterance_over(ended)
                elif self._decode_due(stalled=stalled):
                    await self._step()
            except LiveventError as error:
                log.warning("event %s: speech not recognised: %s", self.host.event_id, error)
            finally:
                self._working = False

    def _decode_due(self, *, stalled: bool = False) -> bool:
        recognizer = self.recognizer
        if recognizer is None or not self.floor.speaking or not self._wanted():
            return False
        return recognizer.pending >= (STALLED_PENDING_SECONDS if stalled else self._period())

    def _period(self) -> float:
        """Seconds of speech between decodes: shorter while the booths, with nothing to
        say, wait for the sentence's first unit (pace.FIRST_UNIT_CHUNK)."""
        if self.units.sentence_begun or not self._booths_idle():
            return self.chunk
        return self.pace.first_unit_chunk

    def _wanted(self) -> bool:
        """Whether anyone would see or hear the result (paused channels do no work)."""
        return (
            self.keeper is not None
            or self.host.has_listeners(self.source)
            or any(not self.host.is_paused(b.language) for b in self.booths_here())
        )

    async def _step(self) -> None:
        assert self.recognizer is not None
        committed = await self.recognizer.step()
        self._pace(self.recognizer.decode_seconds)
        if self.settled:
            return
        async with self._taking:
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
        for booth in self.booths_here():
            booth.preview(ahead, self.sequence + 1)

    def _booths_idle(self) -> bool:
        """No booth has anything to say until the next decode."""
        booths = self.booths_here()
        return bool(booths) and all(
            not b.waiting and b.player.backlog() < self.chunk for b in booths
        )

    @property
    def chunk(self) -> float:
        return self.pace.chunk

    @property
    def overloaded(self) -> bool:
        return self.pace.overloaded

    @property
    def degraded(self) -> bool:
        return self.pace.degraded

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
        for booth in self.booths_here():
            channel = self.host.config.channel(booth.language)
            chosen = self.mode_of(channel) if channel is not None else booth.mode
            booth.mode = "consecutive" if overloaded else chosen

    async def _utterance_over(self, utterance: Utterance) -> None:
        if self.recognizer is not None:
            words = await self.recognizer.finish(silence=utterance.trailing_silence)
        else:
            start = utterance.start_frame * FRAME_SECONDS
            words = await self._decode_utterance(utterance.pcm, start)
        log.debug(
            "event %s: %s's utterance over, %d words left: %s",
            self.host.event_id, self.source, len(words), " ".join(w.text for w in words),
        )  # fmt: skip
        if self.settled:
            return
        async with self._taking:
            await self._take_words(words)
            await self._end_sentence()
        for booth in self.booths_here():
            booth.pause()

    async def keep_as_heard(self) -> None:
        """Leaving for a restart while a decode still runs (a starved machine): the words
        the last decode heard are final now, and the running decode's are not taken when
        it returns. The sentence may lose its last words; waiting for the decode, the
        instance lost all of it when the handover's bound passed."""
        if self.settled:
            return
        self.settled = True
        async with self._taking:
            if self.recognizer is not None:
                heard = self.recognizer.agreement.commit_all()
                await self._take_words(heard)
            log.warning(
                "event %s: %s still being recognised on leaving: its sentence kept as heard",
                self.host.event_id, self.source,
            )  # fmt: skip
            await self._end_sentence()

    async def _decode_utterance(self, pcm: bytes, start: float) -> list[Word]:
        """Whole-utterance decoding, for engines without word times: words spread evenly."""
        if not pcm or not self._wanted():
            return []
        stt: SpeechToText = await self.engines.stt(self.stt_name)
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
            over = self._closes_sentence(word)
            self._hand_over(self.units.add(word, ends_sentence=over))
            if over:
                await self._end_sentence()

    def _closes_sentence(self, word: Word) -> bool:
        """Whether the sentence ends at `word`, the last in it: at a full stop; in a
        sentence that has lasted `LONG_SENTENCE_SECONDS`, at a clause mark; past
        `RUN_ON_SECONDS`, at any word."""
        if word.ends_sentence:
            return True
        lasted = word.end - self.sentence[0].start
        if LONG_SENTENCE_SECONDS and lasted >= LONG_SENTENCE_SECONDS:
            return lasted >= RUN_ON_SECONDS or bool(CLAUSE_END.search(word.text))
        return False

    def _hand_over(self, unit: Unit | None) -> None:
        if unit is not None:
            for booth in self.booths_here():
                booth.unit(unit, self.sequence + 1)

    async def _end_sentence(self) -> None:
        self._hand_over(self.units.flush())
        if not self.sentence:
            return
        words, self.sentence = tuple(self.sentence), []
        if repeats(self._last_final, words):
            log.debug("event %s: a repeated sentence dropped: %s", self.host.event_id, words)
            return
        self.sequence += 1
        sentence = Sentence(words, seq=self.sequence)
        self._last_final = sentence
        if self.keeper is not None:
            await self.keeper.sentence(sentence)  # on disk before anyone sees it
        self.host.caption(self.source, final_caption(self.source, sentence))
        for booth in self.booths_here():
            booth.sentence(sentence)
