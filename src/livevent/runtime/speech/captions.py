"""The floor's own captions: the sentence so far (partial), and each sentence (final)."""

from __future__ import annotations

from livevent.runtime.speech.interpreter import Sentence
from livevent.runtime.speech.streaming import Word, join
from livevent.runtime.wire import Caption


def partial_caption(
    channel: str, seq: int, committed: list[Word], tail: list[Word]
) -> Caption | None:
    """The words committed so far, then the unstable tail a later decode may change."""
    shown = committed + tail
    if not shown:
        return None
    return Caption(
        channel=channel,
        seq=seq,
        final=False,
        text=join(shown),
        stable=join(committed),
        start=round(shown[0].start, 2),
        end=round(shown[-1].end, 2),
    )


def final_caption(channel: str, sentence: Sentence) -> Caption:
    return Caption(
        channel=channel,
        seq=sentence.seq,
        final=True,
        text=sentence.text,
        start=round(sentence.start, 2),
        end=round(sentence.end, 2),
    )
