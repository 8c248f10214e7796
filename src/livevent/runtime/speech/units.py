"""Where a simultaneous channel may start translating: sentences, clauses, or k words.

A human interpreter starts once there is enough to say something; so does a machine
channel. A unit ends at a sentence end, at a clause mark after a few words, or after
`wait_k` words without one (wait-k: Ma et al., 2019), whichever comes first. A
booth with nothing left to say does not wait for k: what a decode committed goes to
it once it is `min_clause_words` long (`cut_short`; the next decode is a period
away, and an idle booth is time lost). Nor does a sentence's first unit: the listener
hears nothing of the sentence until it is cut (`first_unit_words`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from livevent.runtime.speech.streaming import Phrase, Word

CLAUSE_END = re.compile("[,;:\u2014\u2013]['\")\\]]*$")  # also em and en dashes
# Measured with benchmarks/lag.py: k = 4, 5 or 6 changes the ear-voice span of the
# translated speech by less than run-to-run noise (~0.5 s), since committing a word
# takes two decodes (~3 s here) whatever k is; 6 keeps a clause together, and
# Apertium translates a clause better than a fragment.
WAIT_K = 6
MIN_CLAUSE_WORDS = 3
# A sentence's first unit is cut at this many words (0: at k, like the others): the
# first sound of a sentence's translation waits for it, a busy booth or not. Measured
# with lag.py on 6.5 minutes of real meetings: the onset's p90 5.25 s instead of 6.51,
# nothing skipped instead of 6 pieces; fidelity.py saw no systematic cost (session 17).
FIRST_UNIT_WORDS = 3


@dataclass(slots=True, frozen=True)
class Unit(Phrase):
    ends_sentence: bool = False


class UnitSplitter:
    def __init__(
        self,
        *,
        wait_k: int | None = None,
        min_clause_words: int | None = None,
        first_unit_words: int | None = None,
    ) -> None:
        # The module's values as they are now: a benchmark sets them side by side.
        self.wait_k = WAIT_K if wait_k is None else wait_k
        self.min_clause_words = MIN_CLAUSE_WORDS if min_clause_words is None else min_clause_words
        self.first_unit_words = FIRST_UNIT_WORDS if first_unit_words is None else first_unit_words
        self._pending: list[Word] = []
        self._sentence_begun = False  # a unit of the current sentence was cut already

    def add(self, word: Word, *, ends_sentence: bool | None = None) -> Unit | None:
        """One committed word; a unit when it completes one. `ends_sentence`: the
        sentence ends here whatever the word's punctuation (default: a full stop)."""
        self._pending.append(word)
        if word.ends_sentence if ends_sentence is None else ends_sentence:
            return self._cut(ends_sentence=True)
        count = len(self._pending)
        clause = CLAUSE_END.search(word.text) and count >= self.min_clause_words
        first = not self._sentence_begun and count == self.first_unit_words
        if clause or first or count >= self.wait_k:
            return self._cut(ends_sentence=False)
        return None

    @property
    def sentence_begun(self) -> bool:
        """A unit of the current sentence went to the booths already."""
        return self._sentence_begun

    @property
    def pending(self) -> list[Word]:
        """Committed words not in a unit yet."""
        return list(self._pending)

    def cut_short(self) -> Unit | None:
        """A booth with nothing to say takes what is pending, if it is a few words."""
        if len(self._pending) >= self.min_clause_words:
            return self._cut(ends_sentence=False)
        return None

    def flush(self) -> Unit | None:
        """The speaker paused: what is pending is a unit, and the sentence is over."""
        return self._cut(ends_sentence=True) if self._pending else None

    def _cut(self, *, ends_sentence: bool) -> Unit:
        unit = Unit(tuple(self._pending), ends_sentence=ends_sentence)
        self._pending = []
        self._sentence_begun = not ends_sentence
        return unit
