"""Streaming recognition of continuous speech with a model that is not a streaming one.

Whisper decodes a window of audio at a time. To follow a speaker who never pauses,
the growing audio buffer is decoded again every 0.5 s of speech or so, and a word is
*committed* once two consecutive decodes agree on it (LocalAgreement-2: Machacek,
Dabre and Bojar, "Turning Whisper into Real-Time Transcription System", 2023).
Committed words never change; the rest of the latest decode is the unstable tail.
A decode of an utterance's first second is only shown: Whisper guesses on so little.

The buffer is trimmed at the end of a committed sentence, and in a sentence under way
so that only its last `context` seconds of committed words stay before the words
still unsettled (or, with no context kept, at the last committed word past
`trim_after` seconds): a decode hears a few seconds, not the sentence so far, and
never nears Whisper's 30 s window; what was trimmed goes back in as the decode's
prompt (a decode that writes the prompt's words again in a fraction of the time
they took is echoing it, and the repeat is dropped). A trim falls between committed
words, never inside one; a buffer in which Whisper hears no new word, with no
sentence under way, keeps only its last seconds.
At the end of an utterance (`finish`) the buffer is decoded once more, without most
of the silence that ended it, and everything left is committed.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from livevent.runtime.engines.base import SpeechToText
from livevent.runtime.media.audio import SAMPLE_RATE

BYTES_PER_SECOND = SAMPLE_RATE * 2
# A word whose start is this close before the last committed end is the same word.
OVERLAP_SECONDS = 0.1
# Whisper's window is 30 s: a buffer this long without a committed word to trim at
# commits what it has rather than risk losing audio off the window's end.
HARD_LIMIT_SECONDS = 24.0
PROMPT_CHARACTERS = 200
SETTLED_SECONDS = 1.0
# The longest repeat of the committed words a decode is checked for (a sentence's worth).
ECHO_WORDS = 40
# Whisper given less than this of an utterance's first audio, with nothing before it,
# guesses at its words, and two such guesses agree often enough ("How" for "Our
# volunteers", then every later decode conditioned on it) that such a decode is shown
# as a partial caption but commits nothing and is no vote for the next. Later in an
# utterance a short buffer follows committed words (its prompt): the same rule there
# cost the meetings' captions 0.5 s (p50) for no fewer errors (lag.py, session 23).
MIN_AGREEING_SECONDS = 1.0
# Of the silence that ended an utterance, what the last decode still hears.
KEPT_SILENCE = 0.2
# A cut this close to the buffer's start is one made already.
TRIM_SLACK = 0.01
# Of a buffer where Whisper heard nothing, what the next decode hears again.
UNHEARD_KEPT = 3.0
# A sentence that runs on is cut at its last committed word once the buffer is this
# long, so it stays well inside Whisper's window. Cutting sooner saves little: on the
# meetings' run-on sentences, 8 s cost the recogniser what 12 s did (lag.py
# --trim-after, session 18), Whisper's encoder taking its whole window either way.
TRIM_AFTER = 12.0
# Of a sentence under way, the committed audio kept before its unsettled words (0:
# all of it, up to TRIM_AFTER). Whisper writes every word of the buffer again at each
# decode, some 9 ms a token on one core, so a long sentence's decodes grew with it.
CONTEXT_SECONDS = 2.0
CONTEXT_SLACK = 1.0
# The longest phrase (in words) whose repeats are taken for a decoding loop.
LONGEST_LOOP = 16
SENTENCE_END = re.compile(
    "[.?!\u2026\u3002\uff1f\uff01]['\")\\]]*$"
)  # also the ellipsis and CJK full stops
_NOT_A_LETTER = re.compile(r"[^\w']+")
# Scripts written without spaces between words (Chinese, Japanese, Thai, Lao, Burmese,
# Khmer, and their punctuation): Whisper's words there are runs of characters.
_UNSPACED = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uff65]"
)


@dataclass(slots=True, frozen=True)
class Word:
    """A recognised word at its media time: seconds since the floor began."""

    text: str
    start: float
    end: float

    @property
    def key(self) -> str:
        """The word as agreement compares it: case and punctuation do not count."""
        return _NOT_A_LETTER.sub("", self.text.lower())

    @property
    def ends_sentence(self) -> bool:
        return bool(SENTENCE_END.search(self.text))


def _span(words: list[Word]) -> float:
    return words[-1].end - words[0].start


def join(words: list[Word] | tuple[Word, ...]) -> str:
    """The words as text: spaced, but where both sides are written without spaces."""
    text = ""
    for word in words:
        if text and not (_UNSPACED.match(text[-1]) and _UNSPACED.match(word.text)):
            text += " "
        text += word.text
    return text


@dataclass(slots=True, frozen=True)
class Phrase:
    """Committed words said together: a unit to translate, or a whole sentence."""

    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return join(self.words)

    @property
    def start(self) -> float:
        return self.words[0].start

    @property
    def end(self) -> float:
        return self.words[-1].end


def without_loops(words: list[Word], repeats: int = 4) -> list[Word]:
    """The words up to where Whisper starts looping ("Yeah. Yeah. Yeah. Yeah...", or a
    whole sentence again and again).

    On noise, crosstalk or a busy machine's late decode it may repeat a word, a phrase
    or a sentence until its token limit; two looping decodes agree with each other, so
    agreement alone would commit the loop (a floor's "Welcome to the direct." went out
    8 times in 60 ms). A phrase of one to three words said `repeats` times in a row is
    cut after its second time (people do say "no no no"); a phrase of four words or
    more said three times in a row is cut after its first (nobody says a sentence
    three times running).
    """
    keys = [word.key for word in words]
    for end in range(len(keys)):
        for period in range(1, LONGEST_LOOP + 1):
            times = repeats if period <= 3 else 3
            start = end + 1 - period * times
            if start < 0:
                continue
            pattern = keys[start : start + period]
            if all(keys[start + i] == pattern[i % period] for i in range(period * times)):
                return words[: start + period * (2 if period <= 3 else 1)]
    return words


class LocalAgreement:
    """The words that two consecutive hypotheses agree on, committed in order."""

    def __init__(self) -> None:
        self.committed: list[Word] = []
        self.committed_until = 0.0
        self._previous: list[Word] = []
        self._previous_votes = True

    @property
    def unstable(self) -> list[Word]:
        """The latest hypothesis past what is committed: it may still change."""
        return list(self._previous)

    def insert(
        self, hypothesis: list[Word], heard_until: float | None = None, *, votes: bool = True
    ) -> list[Word]:
        """Take a new decode (of audio up to the media time `heard_until`); returns the
        words committed by it. A decode that does not `votes` (too little audio to be
        more than a guess) neither commits nor counts as agreement for the next one."""
        fresh = self._past_committed(hypothesis)
        agreed: list[Word] = []
        earlier = self._previous if votes and self._previous_votes else []
        self._previous_votes = votes
        for old, new in zip(earlier, fresh, strict=False):
            if old.key != new.key:
                break
            agreed.append(new)
        last = agreed[-1] if agreed and len(agreed) == len(fresh) else None
        if last and last.ends_sentence and (heard_until or 0.0) - last.end < SETTLED_SECONDS:
            # Both decodes end on this word, right where the audio ends: Whisper closes a
            # sentence there ("the budget for next."), so its full stop waits for a decode
            # that hears what follows; a false one would split the sentence in two. With
            # a second of audio after it (noise, a murmur) and still nothing more, the
            # full stop is real.
            agreed.pop()
        self._commit(agreed)
        self._previous = fresh[len(agreed) :]
        return agreed

    def conclude(self, hypothesis: list[Word] | None, *, cut_off: bool) -> list[Word]:
        """The utterance is over: its last decode (None: none was made) and whatever is
        left are committed. A speaker `cut_off` mid-speech (they left or were muted, the
        event ended: no silence ended it) keeps the words the decode before heard when the
        last decode hears no word at all: listeners saw them in a partial caption, and
        Whisper does hear nothing at times in a clip that ends mid-word. After a silence,
        a last decode that hears nothing is believed: what the decodes in the silence
        heard was a phantom ("Thank you.")."""
        committed: list[Word] = []
        if hypothesis is not None and (hypothesis or not cut_off):
            committed = self.insert(hypothesis)
        return committed + self.commit_all()

    def commit_all(self) -> list[Word]:
        """The utterance is over (or the buffer is full): the tail is as good as it gets."""
        rest = self._previous
        self._commit(rest)
        self._previous = []
        return rest

    def _commit(self, words: list[Word]) -> None:
        if words:
            self.committed.extend(words)
            self.committed_until = words[-1].end

    def _past_committed(self, hypothesis: list[Word]) -> list[Word]:
        fresh = [w for w in hypothesis if w.start > self.committed_until - OVERLAP_SECONDS]
        # A decode that starts a little before the trim repeats the last committed
        # words: drop the longest such repeat (up to five words). A longer repeat is
        # dropped when it takes less than half the time the words took: Whisper,
        # prompted with the sentence just committed, writes it again over the pause
        # after it, its words piled at one instant (a prompt's echo, not speech).
        tail = self.committed[-ECHO_WORDS:]
        for size in range(min(len(fresh), len(tail)), 0, -1):
            said = tail[-size:]
            if [w.key for w in fresh[:size]] != [w.key for w in said]:
                continue
            if size <= 5 or _span(fresh[:size]) < _span(said) / 2:
                return fresh[size:]
        return fresh


class StreamingRecognizer:
    """One speaker's continuous speech, decoded as it grows; words committed by agreement."""

    def __init__(
        self,
        stt: SpeechToText,
        language: str,
        *,
        trim_after: float | None = None,
        context: float | None = None,
    ) -> None:
        self.stt = stt
        self.language = language
        self.trim_after = TRIM_AFTER if trim_after is None else trim_after
        self.context = CONTEXT_SECONDS if context is None else context
        self.agreement = LocalAgreement()
        self.audio = bytearray()
        self.offset = 0.0  # media time of audio[0]
        self.began = 0.0  # media time the utterance began
        self._decoded_until = 0.0  # media time of the buffer's end at the last decode
        self.decode_seconds = 0.0  # how long the last decode took (wall time)
        self.decoded_audio = 0.0  # seconds of audio decoded, all decodes together
        self.decode_time = 0.0  # seconds spent decoding, all decodes together
        self.speech_seconds = 0.0  # seconds of speech heard

    @property
    def end(self) -> float:
        """Media time of the end of what was heard."""
        return self.offset + len(self.audio) / BYTES_PER_SECOND

    @property
    def buffered(self) -> float:
        return len(self.audio) / BYTES_PER_SECOND

    @property
    def pending(self) -> float:
        """Seconds heard since the last decode."""
        return self.end - self._decoded_until

    def begin(self, media_time: float, pcm: bytes = b"") -> None:
        """Speech starts at `media_time` (what came before it was silence)."""
        self.audio = bytearray(pcm)
        self.speech_seconds += len(pcm) / BYTES_PER_SECOND
        self.offset = self.began = media_time
        self._decoded_until = media_time
        self.agreement.committed_until = max(self.agreement.committed_until, media_time)

    def push(self, pcm: bytes) -> None:
        self.audio += pcm
        self.speech_seconds += len(pcm) / BYTES_PER_SECOND

    async def step(self) -> list[Word]:
        """Decode the buffer; returns the words this decode committed."""
        hypothesis = await self._decode()
        votes = self.buffered >= MIN_AGREEING_SECONDS or self.offset > self.began + TRIM_SLACK
        committed = self.agreement.insert(hypothesis, self.end, votes=votes)
        if self.buffered > HARD_LIMIT_SECONDS:
            committed += self.agreement.commit_all()
        self._trim()
        if not committed and not self.agreement.unstable:
            self._forget_unheard()
        return committed

    async def finish(self, silence: float = 0.0) -> list[Word]:
        """The utterance ended, the last `silence` seconds of it silent (the VAD's
        wait): decode what is left and commit all of it."""
        committed: list[Word] = []
        if self.pending > 0.05 or self.agreement.unstable:
            heard = self.pending > 0.05 and self.buffered > 0.1
            last = await self._decode(silence=silence) if heard else None
            committed = self.agreement.conclude(last, cut_off=silence <= KEPT_SILENCE)
        self.begin(self.end)
        return committed

    def real_time_factor(self) -> float | None:
        """Decode time over speech heard: the share of the machine recognition takes
        (at 1, it cannot keep up at all; the budget beside the fan-out is 0.7)."""
        return self.decode_time / self.speech_seconds if self.speech_seconds else None

    async def _decode(self, *, silence: float = 0.0) -> list[Word]:
        """Decode the buffer, without all but `KEPT_SILENCE` of the `silence` at its end:
        Whisper's short window hears a phantom after the last word in a long silence
        (the demo's end, "for coming. Thank you.", 3 times in 32 with the VAD's 0.5 s;
        with 0.2 s, never)."""
        cut = int(max(0.0, silence - KEPT_SILENCE) * BYTES_PER_SECOND) // 2 * 2
        audio = bytes(self.audio[: len(self.audio) - cut] if cut < len(self.audio) else b"")
        started = time.perf_counter()
        recognition = await self.stt.transcribe(
            audio, self.language, prompt=self._prompt(), timestamps=True, streaming=True
        )
        self.decode_seconds = time.perf_counter() - started
        self.decode_time += self.decode_seconds
        self.decoded_audio += self.buffered
        self._decoded_until = self.end
        heard = [
            Word(word.text, self.offset + word.start, self.offset + word.end)
            for word in recognition.timed
        ]
        return without_loops([w for w in heard if w.start < self.end - 0.02])

    def _prompt(self) -> str:
        before = [w for w in self.agreement.committed[-60:] if w.end <= self.offset + 0.01]
        return join(before)[-PROMPT_CHARACTERS:]

    def _forget_unheard(self) -> None:
        """Whisper heard no new word in the whole buffer (crosstalk, a murmur, a noisy
        room that the VAD takes for speech): keep only its last seconds, where a word
        may be starting. A room's murmur otherwise grew the buffer, and every decode of
        it, to 20 s (the meetings in benchmarks/lag.py)."""
        if self.agreement.committed_until > self.offset + TRIM_SLACK:
            return  # a sentence under way: its words are the next decode's context
        drop = int((self.buffered - UNHEARD_KEPT) * BYTES_PER_SECOND) // 2 * 2
        if drop > 0:
            del self.audio[:drop]
            self.offset += drop / BYTES_PER_SECOND

    def _context_cut(self, inside: list[Word]) -> float | None:
        """Where to cut a sentence under way so that `context` seconds of its committed
        words stay before the words still unsettled; None while fewer than a second more
        than that are committed."""
        latest = inside[-1].end
        if latest - self.offset < self.context + CONTEXT_SLACK:
            return None
        return next((w.end for w in reversed(inside) if latest - w.end >= self.context), None)

    def _trim(self) -> None:
        """Cut the buffer after the last committed sentence, at a long run's last word,
        or so that a sentence under way keeps only `context` seconds of committed words."""
        # A word that ends where the buffer starts was trimmed at already (the cut is
        # rounded to a sample): counted inside, it hid every later cut.
        inside = [w for w in self.agreement.committed if w.end > self.offset + TRIM_SLACK]
        cut = next((w.end for w in reversed(inside) if w.ends_sentence), None)
        if cut is None and self.buffered > self.trim_after and inside:
            cut = inside[-1].end
        if cut is None and self.context and inside:
            cut = self._context_cut(inside)
        if cut is None:
            return
        drop = int((cut - self.offset) * BYTES_PER_SECOND) // 2 * 2
        del self.audio[:drop]
        self.offset += drop / BYTES_PER_SECOND
