-- A key per transcript segment, so that a segment written twice (a spool replayed
-- after a crash between "stored" and "removed") is stored once; a second write of
-- the same key adds the translations it carries. Segments without a key (older
-- clients of the API) are not deduplicated: NULLs never collide in a unique index.
ALTER TABLE transcript_segments ADD COLUMN segment_key TEXT;
CREATE UNIQUE INDEX transcript_segments_by_key ON transcript_segments (event_id, segment_key);
