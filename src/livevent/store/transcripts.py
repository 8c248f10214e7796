"""Transcript segments in the store: what was said, and its translations."""

from __future__ import annotations

import json

from livevent.errors import NotFound
from livevent.model import TranscriptSegment
from livevent.model.transcript import clamp_span
from livevent.store.database import Database

# The stored translations (and timings) with the new ones laid over them, in each
# dialect's JSON.
_MERGE = {
    "postgresql": "transcript_segments.{0} || EXCLUDED.{0}",
    "sqlite": "json_patch(transcript_segments.{0}, excluded.{0})",
}


class TranscriptRecords:
    """The transcript half of `EventStore` (a mixin: one store, one database)."""

    database: Database

    async def add_transcript_segment(self, segment: TranscriptSegment) -> None:
        """Written as each segment is final, so a crash loses nothing already said.

        With a key the write is idempotent: the same key again stores nothing new but
        the translations it carries (each channel's arrives as that channel has it).
        """
        merge = _MERGE[self.database.dialect]
        async with self.database.write() as connection:
            await connection.execute(
                "INSERT INTO transcript_segments (event_id, sequence, language, text,"
                " translations, start_seconds, end_seconds, spoken_at, segment_key, timings)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                " ON CONFLICT (event_id, segment_key) DO UPDATE SET"
                f" translations = {merge.format('translations')},"
                f" timings = {merge.format('timings')}",
                segment.event_id,
                segment.sequence,
                segment.language,
                segment.text,
                segment.translations,
                segment.start_seconds,
                segment.end_seconds,
                segment.spoken_at,
                segment.key,
                {language: list(span) for language, span in segment.timings.items()},
            )

    async def transcript(self, event_id: int) -> list[TranscriptSegment]:
        async with self.database.read() as connection:
            rows = await connection.fetch(
                "SELECT event_id, sequence, segment_key AS key, language, text, translations,"
                " timings, start_seconds, end_seconds, spoken_at FROM transcript_segments"
                " WHERE event_id = $1 ORDER BY spoken_at, id",
                event_id,
            )
            known = rows or await connection.fetchval(
                "SELECT 1 FROM events WHERE id = $1", event_id
            )
        if not known:
            raise NotFound(f"event {event_id} does not exist", event_id=event_id)
        segments = []
        for row in rows:
            data = dict(row)
            for column in ("translations", "timings"):
                if isinstance(data[column], str):
                    data[column] = json.loads(data[column])
            spans = {language: clamp_span(span) for language, span in data["timings"].items()}
            data["timings"] = {language: span for language, span in spans.items() if span}
            segments.append(TranscriptSegment.model_validate(data))
        return segments
