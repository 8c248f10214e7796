-- Every change is audited, not only status moves: an edit (name, times,
-- channels, ...) is a row whose from_status and to_status are the same and
-- whose `change` says what changed.
ALTER TABLE event_status_changes ADD COLUMN change TEXT;

-- A deleted event leaves this trace, and its id is never given out again: a
-- grant or link for the old event must not open a new one with the same id.
CREATE TABLE deleted_events (
    id BIGINT PRIMARY KEY,
    customer_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    actor TEXT NOT NULL,
    deleted_at TIMESTAMPTZ NOT NULL,
    history JSONB NOT NULL
);
