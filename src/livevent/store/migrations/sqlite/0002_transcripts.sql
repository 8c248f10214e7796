-- Every final segment as it is said: the source text and its translations.
CREATE TABLE transcript_segments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    sequence INTEGER NOT NULL,
    language TEXT NOT NULL,
    text TEXT NOT NULL,
    translations TEXT NOT NULL CHECK (json_valid(translations)),
    start_seconds REAL NOT NULL,
    end_seconds REAL NOT NULL,
    spoken_at TEXT NOT NULL
);

CREATE INDEX transcript_segments_by_event ON transcript_segments (event_id, spoken_at, id);
