"""One machine channel's booth: translate what the floor committed, caption it, speak it.

Simultaneous: each unit (a clause, a sentence, or k words) is translated and spoken
as soon as it is committed, with a partial caption growing through the sentence;
at the sentence's end, the whole sentence is translated again for the final caption
and the transcript (it reads better than the joined pieces). Consecutive: sentences
are translated and captioned as they end, and spoken once the speaker pauses.
Items are handled in order, one at a time, so a channel never speaks out of turn.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from livevent.errors import LiveventError
from livevent.model import GlossaryEntry
from livevent.runtime.engines.base import TextToSpeech, Translator
from livevent.runtime.media.audio import trim_silence
from livevent.runtime.speech.glossary import translate_with_glossary
from livevent.runtime.speech.host import PipelineHost
from livevent.runtime.speech.player import ChannelPlayer
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


def _tight(pcm: bytes) -> bytes:
    """Speech without the synthesiser's silences around it (Pico adds 0.3-0.6 s after,
    Festival 0.3 s before): a booth does not leave half a second between its phrases,
    and every silent second queued is a second later for what follows."""
    return trim_silence(pcm, keep=UNIT_GAP)


@dataclass(slots=True, frozen=True)
class Sentence(Phrase):
    seq: int = 0


@dataclass(slots=True)
class _Held:
    pcm: bytes
    heard_at: float
    ended_at: float


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
    # Records a final translation (on disk) before its caption is shown.
    keep: Callable[[Sentence, str, str], Awaitable[None]] | None = None
    _queue: asyncio.Queue[Callable[[], Awaitable[None]]] = field(default_factory=asyncio.Queue)
    _parts: list[str] = field(default_factory=list)
    _sentence_start: float | None = None
    _held: list[_Held] = field(default_factory=list)
    _preview: tuple[tuple[Word, ...], int] | None = None
    _preview_queued: bool = False
    _working: bool = False

    # -- what the pipeline hands over (never blocks it) -------------------------------

    def unit(self, unit: Unit, seq: int) -> None:
        if self.mode == "simultaneous":
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
            self.player.enqueue(held.pcm, held.heard_at, held.ended_at)
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
        """A partial caption: the translated units, then the rest translated as it stands.

        `stable` is the units' part (spoken already, it will not change); the rest may.
        """
        self._preview_queued = False
        if self._preview is None:
            return
        words, seq = self._preview
        self._preview = None
        ahead = await self._translate(join(list(words)))
        stable = " ".join(self._parts)
        start = self._sentence_start if self._sentence_start is not None else words[0].start
        self.host.caption(
            self.language,
            Caption(
                channel=self.language,
                seq=seq,
                final=False,
                text=f"{stable} {ahead}".strip(),
                stable=stable or None,
                start=round(start, 2),
                end=round(words[-1].end, 2),
                source_text=join(list(words)),
            ),
        )

    async def _interpret_unit(self, unit: Unit, seq: int) -> None:
        translated = await self._translate(unit.text)
        if self._sentence_start is None:
            self._sentence_start = unit.start
        self._parts.append(translated)
        so_far = " ".join(self._parts)
        self.host.caption(
            self.language,
            Caption(
                channel=self.language,
                seq=seq,
                final=False,
                text=so_far,
                stable=so_far,
                start=round(self._sentence_start, 2),
                end=round(unit.end, 2),
                source_text=unit.text,
            ),
        )
        pcm = await self._speak(translated, unit.end - unit.start)
        if pcm is not None:
            heard_at = self.clock.wall((unit.start + unit.end) / 2)
            self.player.enqueue(pcm, heard_at, self.clock.wall(unit.end))

    async def _finish_sentence(self, sentence: Sentence) -> None:
        self._parts = []
        self._sentence_start = None
        translated = await self._translate(sentence.text)
        if self.keep is not None:
            await self.keep(sentence, self.language, translated)
        self.host.caption(
            self.language,
            Caption(
                channel=self.language,
                seq=sentence.seq,
                final=True,
                text=translated,
                start=round(sentence.start, 2),
                end=round(sentence.end, 2),
                source_text=sentence.text,
            ),
        )
        if self.mode == "consecutive":
            pcm = await self._speak(translated)
            if pcm is not None:
                heard_at = self.clock.wall((sentence.start + sentence.end) / 2)
                self._held.append(_Held(pcm, heard_at, self.clock.wall(sentence.end)))
                if sum(len(h.pcm) for h in self._held) / BYTES_PER_SECOND > HOLD_AT_MOST:
                    await self._speak_held()  # a speaker who never pauses is still heard
