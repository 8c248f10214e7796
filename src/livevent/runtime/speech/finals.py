"""Finished sentences and their translations into the transcript, before anyone sees them.

Each final caption is recorded (the spool has it on disk) before it is sent, so
whatever a listener saw reaches the transcript. The floor's sentence is recorded
at its end; each channel's translation as that channel has it, under the same
key, and the store adds it to the sentence's segment.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from livevent.errors import LiveventError
from livevent.model import TranscriptSegment
from livevent.runtime.speech.interpreter import Sentence

log = logging.getLogger(__name__)

Recorder = Callable[[TranscriptSegment], Awaitable[None]]


@dataclass
class TranscriptKeeper:
    record: Recorder
    event_id: int
    source: str
    # Media time, and whether it starts a sentence -> seconds since the recordings began
    # (the transcript's clock); negative: before they began (a rehearsal).
    timeline: Callable[[float, bool], float] = lambda media_time, starting: media_time
    # Monotonic time -> seconds since the recordings began.
    recording_time: Callable[[float], float] = lambda moment: moment
    # Sequences restart with each live session (a takeover, a restart): the run tells them apart.
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:16])

    async def sentence(self, sentence: Sentence) -> None:
        await self._keep(sentence, {})

    async def translation(
        self,
        sentence: Sentence,
        language: str,
        text: str,
        spoken: tuple[float, float] | None = None,
        /,
    ) -> None:
        """A channel's translation; with `spoken` (monotonic), when that channel said it,
        so that its SRT lines up with its recording rather than the floor's."""
        timings = {}
        if spoken is not None:
            began, ended = (max(0.0, round(self.recording_time(t), 3)) for t in spoken)
            timings[language] = (began, max(began, ended))
        await self._keep(sentence, {language: text}, timings)

    async def _keep(
        self,
        sentence: Sentence,
        translations: dict[str, str],
        timings: dict[str, tuple[float, float]] | None = None,
    ) -> None:
        end = self.timeline(sentence.end, False)
        if end <= 0:
            # Said before the event went live: a rehearsal leaves no transcript.
            log.debug(
                "event %s: %s's sentence %d was rehearsed", self.event_id, self.source, sentence.seq
            )
            return
        # A sentence under way when the event went live is kept: listeners heard its end.
        start = max(0.0, self.timeline(sentence.start, True))
        segment = TranscriptSegment(
            event_id=self.event_id,
            sequence=sentence.seq,
            key=f"{self.run}-{sentence.seq}",
            language=self.source,
            text=sentence.text,
            translations=translations,
            timings=timings or {},
            start_seconds=round(start, 3),
            end_seconds=round(end, 3),
            spoken_at=datetime.now(UTC),
        )
        try:
            await self.record(segment)
        except (LiveventError, OSError, sqlite3.Error) as error:
            log.error("event %s: segment %s not recorded: %s", self.event_id, sentence.seq, error)
