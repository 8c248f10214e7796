"""What a simultaneous channel may say of a sentence still being spoken.

Translating each piece of a sentence alone loses its sense: "build more houses"
without "the council wants to" came out of Apertium as "complexión" (build, the
noun). So each new piece is translated with the whole sentence so far, and only
the words that two translations agree on are spoken: the prefix translated as it
stands, and the prefix with the words heard after it (the recogniser's pending
and unstable words). Where those two differ, the next words can still change
the translation, and the channel waits for them, as an interpreter waits for the
verb. At the sentence's end the whole sentence is translated once more and the
channel says the rest: what follows, in the final translation, what it said.

Spoken words cannot be taken back. When a later translation no longer starts
with them (rare: the agreement saw both), the rest is found by aligning what was
said with the new translation, and the final caption shows the sentence as the
final translation has it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from livevent.runtime.speech.streaming import Word

_NOT_A_LETTER = re.compile(r"[^\w']+")


def _key(word: str) -> str:
    return _NOT_A_LETTER.sub("", word.lower())


def agreed(first: list[str], second: list[str]) -> list[str]:
    """The words both translations start with (case and punctuation aside), as `first`
    has them."""
    common: list[str] = []
    for one, other in zip(first, second, strict=False):
        if _key(one) != _key(other):
            break
        common.append(one)
    return common


def after_said(said: list[str], translation: list[str]) -> list[str]:
    """The words of `translation` that follow what was said."""
    if not said:
        return list(translation)
    if [_key(w) for w in translation[: len(said)]] == [_key(w) for w in said]:
        return translation[len(said) :]
    matcher = difflib.SequenceMatcher(
        a=[_key(w) for w in said], b=[_key(w) for w in translation], autojunk=False
    )
    blocks = [block for block in matcher.get_matching_blocks() if block.size]
    if not blocks:
        return translation[len(said) :]
    last = blocks[-1]
    # Said words after the last match are taken to stand for as many words here.
    unmatched = len(said) - (last.a + last.size)
    return translation[min(len(translation), last.b + last.size + unmatched) :]


@dataclass(slots=True)
class SentenceSoFar:
    """A simultaneous channel's sentence in progress: its source, and what was said."""

    source: list[Word] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    said_until: float | None = None  # media time of the source that speech covers

    @property
    def start(self) -> float | None:
        return self.source[0].start if self.source else None

    def add(self, words: tuple[Word, ...] | list[Word]) -> None:
        self.source.extend(words)

    def to_say(self, translation: str, with_lookahead: str | None) -> list[str]:
        """Of the prefix's `translation`, the words not said yet that stand whatever
        follows (they agree with the translation `with_lookahead`); none without one."""
        if with_lookahead is None:
            return []
        stable = agreed(translation.split(), with_lookahead.split())
        return after_said(self.said, stable)

    def rest(self, final: str) -> list[str]:
        """The final translation's words after what was said."""
        return after_said(self.said, final.split())

    def spoke(self, words: list[str], until: float) -> None:
        self.said.extend(words)
        self.said_until = until

    def diverged(self, final: str) -> bool:
        """What was said is not how the final translation begins."""
        keys = [_key(w) for w in final.split()[: len(self.said)]]
        return bool(self.said) and keys != [_key(w) for w in self.said]
