-- When each machine channel spoke a segment's translation, as [start, end] seconds on
-- the recordings' clock: that channel's SRT lines up with its recording. A channel
-- absent here spoke it with the source (an interpreter's, or captions only).
ALTER TABLE transcript_segments ADD COLUMN timings TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(timings));
