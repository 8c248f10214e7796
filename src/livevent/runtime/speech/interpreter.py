"""One machine channel's booth: translate what the floor committed, caption it, speak it.

Simultaneous: each unit (a clause, a sentence, or k words) is translated with the
sentence so far, and the words that stand whatever follows are spoken at once
(agreement.py); a partial caption grows through the sentence. At the sentence's end
the whole sentence is translated again, for the final caption, the transcript and
the rest of the speech. Consecutive: sentences are translated and captioned as they
end, and spoken once the speaker pauses. Items are handled in order, one at a time,
so a channel never speaks out of turn.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from livevent.errors import LiveventError
from livevent.model import GlossaryEntry
from livevent.runtime.engines.base import TextToSpeech, Translator
from livevent.runtime.media.audio import trim_silence
from livevent.runtime.speech.agreement import SentenceSoFar
from livevent.runtime.speech.glossary import translate_with_glossary
from livevent.runtime.speech.host import PipelineHost
from livevent.runtime.speech.player import ChannelPlayer
from livevent.runtime.speech.spoken import Played, SpokenSpans
from livevent.runtime.speech.streaming import BYTES_PER_SECOND, Phrase, Word, join
from livevent.runtime.speech.timing import MediaClock
from livevent.runtime.speech.units import Unit
from livevent.runtime.wire import Caption

log = logging.getLogger(__name__)

Mode = Literal["simultaneous", "consecutive"]
# Consecutive speech waits for a pause, but no longer than this much of it waits.
HOLD_AT_MOST = 8.0
MODES: tuple[Mode, ...] = ("simultaneous", "consecutive")
# A phrase is paced to this share of the time its source took: an interpreter who
# only kept pace would fall behind at every burst of committed words and never catch up.
PACE_SHARE = 0.85
# The breath left after each translated phrase, where the synthesiser left 0.2-0.6 s.
UNIT_GAP = 0.08
# A long sentence whose translation keeps moving (the verb at its end, a reordering)
# is not waited for past this many seconds of source unsaid: the channel says what the
# translation has so far but its last words, as an interpreter who cannot wait longer.
# 0 waits for agreement however long (the listener then hears most of a 10 s
# sentence after it ends).
PATIENCE_SECONDS = 4.0
HOLD_BACK_WORDS = 2


def _tight(pcm: bytes) -> bytes:
    """Speech without the synthesiser's silences around it (Pico adds 0.3-0.6 s after,
    Festival 0.3 s before): a booth does not leave half a second between its phrases,
    and every silent second queued is a second later for what follows."""
    return trim_silence(pcm, keep=UNIT_GAP)


@dataclass(slots=True, frozen=True)
class Sentence(Phrase):
    seq: int = 0


class Keep(Protocol):
    """Records a sentence's translation into `language`; with `spoken`, when the channel
    said it (first and last monotonic moments)."""

    def __call__(
        self,
        sentence: Sentence,
        language: str,
        text: str,
        spoken: tuple[float, float] | None = None,
        /,
    ) -> Awaitable[None]: ...


@dataclass(slots=True)
class _Held:
    pcm: bytes
    heard_at: float
    ended_at: float
    done: Played


@dataclass
class ChannelInterpreter:
    host: PipelineHost
    language: str
    source: str
    mode: Mode
    mt: Callable[[], Awaitable[Translator]]
    tts: Callable[[], Awaitable[TextToSpeech]] | None  # None: captions only
    player: ChannelPlayer
    clock: MediaClock
    voice: str | None = None
    glossary: list[GlossaryEntry] = field(default_factory=list)
    # Records a final translation (on disk) before its caption is shown; again with
    # when the channel spoke it (monotonic), once it did.
    keep: Keep | None = None
    _queue: asyncio.Queue[Callable[[], Awaitable[None]]] = field(default_factory=asyncio.Queue)
    _so_far: SentenceSoFar = field(default_factory=SentenceSoFar)
    _units: deque[tuple[Unit, int]] = field(default_factory=deque)  # handed over, not done
    _held: list[_Held] = field(default_factory=list)
    _preview: tuple[tuple[Word, ...], int] | None = None
    _preview_queued: bool = False
    _working: bool = False
    corrections: int = 0  # sentences whose final translation differs from what was said
    forced: int = 0  # pieces said past the patience, before the translation settled
    spans: SpokenSpans[Sentence] = field(init=False)

    def __post_init__(self) -> None:
        keep = self.keep

        async def spoken(sentence: Sentence, text: str, span: tuple[float, float]) -> None:
            if keep is not None:
                await keep(sentence, self.language, text, span)

        self.spans = SpokenSpans(spoken if keep else None, self._queue.put_nowait)

    # -- what the pipeline hands over (never blocks it) -------------------------------

    def unit(self, unit: Unit, seq: int) -> None:
        if self.mode == "simultaneous":
            self._units.append((unit, seq))
            self._queue.put_nowait(lambda: self._interpret_unit(unit, seq))

    def preview(self, words: list[Word], seq: int) -> None:
        """What was heard past the last unit, to caption ahead (only the latest counts)."""
        if self.mode != "simultaneous" or not words:
            return
        self._preview = (tuple(words), seq)
        if not self._preview_queued:
            self._preview_queued = True
            self._queue.put_nowait(self._show_preview)

    def sentence(self, sentence: Sentence) -> None:
        """The sentence is over: its final caption, and its translation for the transcript."""
        self._queue.put_nowait(lambda: self._finish_sentence(sentence))

    def pause(self) -> None:
        """The speaker paused: a consecutive channel speaks what it holds."""
        self._queue.put_nowait(self._speak_held)

    @property
    def waiting(self) -> bool:
        """Items queued or speech held, besides the one in hand."""
        return not self._queue.empty() or bool(self._held)

    @property
    def busy(self) -> bool:
        return self._working or self.waiting

    # -- the booth ----------------------------------------------------------------------

    async def run(self) -> None:
        while True:
            work = await self._queue.get()
            self._working = True
            try:
                await work()
            except LiveventError as error:
                log.warning("channel %s: %s", self.language, error)
            except Exception:
                # A bug in one item must not silence the channel for the rest of the event.
                log.exception("channel %s: an item failed", self.language)
            finally:
                self._working = False

    async def _speak_held(self) -> None:
        for held in self._held:
            self.player.enqueue(
                held.pcm, held.heard_at, held.ended_at, may_skip=False, done=held.done
            )
        self._held.clear()

    async def _translate(self, text: str) -> str:
        mt = await self.mt()
        started = time.perf_counter()
        translated = await translate_with_glossary(
            text,
            self.language,
            self.glossary,
            lambda protected: mt.translate(protected, self.source, self.language),
        )
        self.player.metrics.mt_ms = (time.perf_counter() - started) * 1000
        return translated

    async def _speak(self, text: str, source_seconds: float | None = None) -> bytes | None:
        """The translation as speech; with `source_seconds`, paced to fit the time the
        source took (less what is still queued), as an interpreter keeps up."""
        if self.tts is None or self.host.is_paused(self.language) or not text.strip():
            return None  # no voice, or nobody listens: captions only, no speech work
        tts = await self.tts()
        started = time.perf_counter()
        cap = tts.max_rate_for(self.language)
        rate = min(self.player.rate(), cap)
        pcm = _tight(await tts.synthesize(text, self.language, voice=self.voice, rate=rate))
        if source_seconds:
            spoken = len(pcm) / BYTES_PER_SECOND * rate  # its length at rate 1
            room = max(0.5, source_seconds * PACE_SHARE - self.player.backlog())
            fitted = min(cap, max(rate, spoken / room))
            if fitted > rate * 1.05:
                pcm = _tight(
                    await tts.synthesize(text, self.language, voice=self.voice, rate=fitted)
                )
        self.player.metrics.tts_ms = (time.perf_counter() - started) * 1000
        return pcm

    async def _show_preview(self) -> None:
        """A partial caption: what was said, then the rest translated as it stands.

        `stable` is what the channel said already: it will not change.
        """
        self._preview_queued = False
        if self._preview is None:
            return
        words, seq = self._preview
        self._preview = None
        so_far = self._so_far
        translated = await self._translate(join([*so_far.source, *words]))
        stable = " ".join(so_far.said)
        ahead = " ".join(so_far.rest(translated))
        start = so_far.start if so_far.start is not None else words[0].start
        self._caption(seq, f"{stable} {ahead}".strip(), stable or None, start, words[-1].end)

    def _caption(self, seq: int, text: str, stable: str | None, start: float, end: float) -> None:
        self.host.caption(
            self.language,
            Caption(
                channel=self.language,
                translated_from=self.source,
                seq=seq,
                final=False,
                text=text,
                stable=stable,
                start=round(start, 2),
                end=round(end, 2),
                source_text=join(self._so_far.source) or None,
            ),
        )

    async def _interpret_unit(self, unit: Unit, seq: int) -> None:
        while self._units:  # this unit and any an error left behind
            if self._units.popleft()[0] is unit:
                break
        so_far = self._so_far
        so_far.add(unit.words)
        if unit.ends_sentence:
            return  # the sentence's end follows: it says all that is left
        translated = await self._translate(join(so_far.source))
        lookahead = self._lookahead(unit, seq)
        extended = await self._translate(join([*so_far.source, *lookahead])) if lookahead else None
        words = so_far.to_say(translated, extended)
        since = so_far.said_until if so_far.said_until is not None else unit.start
        if not words and self._waited_too_long(unit):
            words = so_far.rest(translated)[:-HOLD_BACK_WORDS]
            self.forced += bool(words)
        if words:
            so_far.spoke(words, unit.end)
        said = " ".join(so_far.said)
        rest = " ".join(so_far.rest(translated))
        assert so_far.start is not None
        self._caption(seq, f"{said} {rest}".strip(), said or None, so_far.start, unit.end)
        if words:
            await self._say(" ".join(words), since, unit.end, seq)

    def _waited_too_long(self, unit: Unit) -> bool:
        """Whether the sentence's source unsaid so far reaches past the patience."""
        so_far = self._so_far
        unsaid_from = so_far.said_until if so_far.said_until is not None else so_far.start
        if not PATIENCE_SECONDS or unsaid_from is None:
            return False
        return unit.end - unsaid_from >= PATIENCE_SECONDS

    def _lookahead(self, unit: Unit, seq: int) -> list[Word]:
        """The sentence's words heard after `unit`: units waiting here, then the latest
        words past them (pending or unstable)."""
        words = [w for later, s in self._units if s == seq for w in later.words]
        if self._preview is not None and self._preview[1] == seq:
            edge = words[-1].end if words else unit.end
            words += [w for w in self._preview[0] if w.start >= edge - 0.05]
        return words

    async def _say(self, text: str, start: float, end: float, seq: int) -> None:
        """Speak `text`, the translation of the source from `start` to `end` (media time),
        a piece of sentence `seq`."""
        pcm = await self._speak(text, max(0.0, end - start))
        if pcm is not None:
            heard_at = self.clock.wall((start + end) / 2)
            self.player.enqueue(
                pcm,
                heard_at,
                self.clock.wall(end),
                may_skip=self.mode == "simultaneous",
                done=self.spans.piece(seq),
            )

    async def _finish_sentence(self, sentence: Sentence) -> None:
        so_far, self._so_far = self._so_far, SentenceSoFar()
        translated = await self._translate(sentence.text)
        if self.keep is not None:
            await self.keep(sentence, self.language, translated)
        if so_far.diverged(translated):
            self.corrections += 1  # the caption corrects what was said
        self.host.caption(
            self.language,
            Caption(
                channel=self.language,
                translated_from=self.source,
                seq=sentence.seq,
                final=True,
                text=translated,
                start=round(sentence.start, 2),
                end=round(sentence.end, 2),
                source_text=sentence.text,
            ),
        )
        if self.mode == "simultaneous":
            rest = so_far.rest(translated)
            if rest:
                since = so_far.said_until if so_far.said_until is not None else sentence.start
                await self._say(" ".join(rest), since, sentence.end, sentence.seq)
            self.spans.final(sentence.seq, sentence, translated)
            return
        pcm = await self._speak(translated)
        if pcm is not None:
            heard_at = self.clock.wall((sentence.start + sentence.end) / 2)
            done = self.spans.piece(sentence.seq)
            self._held.append(_Held(pcm, heard_at, self.clock.wall(sentence.end), done))
        self.spans.final(sentence.seq, sentence, translated)
        if sum(len(h.pcm) for h in self._held) / BYTES_PER_SECOND > HOLD_AT_MOST:
            await self._speak_held()  # a speaker who never pauses is still heard
