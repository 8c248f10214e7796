"""When a machine channel actually spoke each sentence, for its transcript.

A sentence's translation is spoken in pieces (simultaneous: as it is heard; consecutive:
at the speaker's pause), each played when the channel's queue reaches it, or skipped
when the channel falls too far behind. Once the sentence is final and every piece was
played or skipped, the span from the first word spoken to the last is kept: an SRT of
the channel then lines up with its recording, not with the floor's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

S = TypeVar("S")  # the sentence, as the interpreter knows it

# Where the span goes: the sentence, its translation, and (first, last) monotonic times.
# How it gets there without blocking the player: a queue of work.
Later = Callable[[Callable[[], Awaitable[None]]], None]
# A piece's news: played from `began` to `ended`, or skipped (None, None).
Played = Callable[[float | None, float | None], None]


@dataclass(slots=True)
class _Span(Generic[S]):
    pieces: int = 0
    began: float | None = None
    ended: float | None = None
    final: tuple[S, str] | None = None


class SpokenSpans(Generic[S]):
    def __init__(
        self, keep: Callable[[S, str, tuple[float, float]], Awaitable[None]] | None, later: Later
    ) -> None:
        self._keep = keep
        self._later = later
        self._spans: dict[int, _Span[S]] = {}

    def piece(self, seq: int) -> Played:
        """A piece of sentence `seq` goes to the player; call what this returns when it is
        played or skipped."""
        span = self._spans.setdefault(seq, _Span[S]())
        span.pieces += 1

        def done(began: float | None, ended: float | None) -> None:
            span.pieces -= 1
            if began is not None and ended is not None:
                span.began = began if span.began is None else min(span.began, began)
                span.ended = ended if span.ended is None else max(span.ended, ended)
            self._settle(seq)

        return done

    def final(self, seq: int, sentence: S, text: str) -> None:
        """The sentence is final (all its pieces queued): keep its span once they played."""
        self._spans.setdefault(seq, _Span[S]()).final = (sentence, text)
        self._settle(seq)

    def _settle(self, seq: int) -> None:
        span = self._spans.get(seq)
        if span is None or span.final is None or span.pieces > 0:
            return
        del self._spans[seq]
        keep = self._keep
        if keep is None or span.began is None or span.ended is None:
            return  # nothing of it was spoken (captions only, or all skipped)
        sentence, text = span.final
        spoken = (span.began, span.ended)
        self._later(lambda: keep(sentence, text, spoken))
