-- Customers, events (channels as one JSON document, read and written with the
-- event so a config read is one row) and the audit trail of status changes.
-- Timestamps are UTC ISO-8601 text of fixed width, so text order is time order.
CREATE TABLE customers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    max_live_events INTEGER NOT NULL CHECK (max_live_events > 0),
    max_listeners_per_event INTEGER NOT NULL CHECK (max_listeners_per_event > 0),
    created_at TEXT NOT NULL
);

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    name TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT,
    timezone TEXT NOT NULL,
    source_language TEXT NOT NULL,
    channels TEXT NOT NULL CHECK (json_valid(channels)),
    max_listeners INTEGER,
    public INTEGER NOT NULL CHECK (public IN (0, 1)),
    status TEXT NOT NULL CHECK (
        status IN ('DRAFT', 'SCHEDULED', 'READY', 'LIVE', 'ENDED', 'CANCELLED')
    ),
    version INTEGER NOT NULL CHECK (version > 0),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (ends_at IS NULL OR ends_at > starts_at)
);

CREATE INDEX events_by_start ON events (starts_at, id);
CREATE INDEX events_by_status ON events (status, starts_at);
CREATE INDEX events_by_customer ON events (customer_id, starts_at);

CREATE TABLE event_status_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    from_status TEXT,
    to_status TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT,
    at TEXT NOT NULL
);

CREATE INDEX event_status_changes_by_event ON event_status_changes (event_id, id);
