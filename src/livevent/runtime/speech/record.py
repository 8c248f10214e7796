"""A finished sentence into the transcript, once every channel has translated it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from livevent.errors import LiveventError
from livevent.model import TranscriptSegment
from livevent.runtime.speech.interpreter import Sentence

log = logging.getLogger(__name__)

TRANSCRIPT_WAIT = 30.0  # seconds a sentence waits for its translations
Recorder = Callable[[TranscriptSegment], Awaitable[None]]


async def store_sentence(
    record: Recorder,
    event_id: int,
    source: str,
    sentence: Sentence,
    pending: dict[str, asyncio.Future[str]],
) -> None:
    """Whole sentences in both modes, each with every channel's translation of it."""
    translations: dict[str, str] = {}
    for language, future in pending.items():
        try:
            async with asyncio.timeout(TRANSCRIPT_WAIT):
                translations[language] = await future
        except (LiveventError, TimeoutError) as error:
            log.warning("sentence %s has no %s translation: %s", sentence.seq, language, error)
    segment = TranscriptSegment(
        event_id=event_id,
        sequence=sentence.seq,
        language=source,
        text=sentence.text,
        translations=translations,
        start_seconds=sentence.start,
        end_seconds=sentence.end,
        spoken_at=datetime.now(UTC),
    )
    try:
        await record(segment)
    except LiveventError as error:
        log.error("event %s: segment %s not stored: %s", event_id, sentence.seq, error)
