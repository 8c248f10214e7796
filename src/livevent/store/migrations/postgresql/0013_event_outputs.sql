-- Where a live event's channels are pushed: a streaming platform's RTMP ingest, one
-- row per channel and address. The address holds the platform's stream key: the API
-- shows it redacted, and only the runtime that pushes reads it whole.
CREATE TABLE event_outputs (
    id BIGSERIAL PRIMARY KEY,
    event_id BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    url TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX event_outputs_by_event ON event_outputs (event_id, id);
