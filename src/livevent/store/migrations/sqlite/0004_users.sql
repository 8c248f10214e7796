-- People who sign in, and what each may do on which event. A grant's channel is
-- 0 when it names none, so the primary key keeps grants unique.
-- generation: grows when the password changes or the user is disabled; refresh
-- tokens carry the generation they were issued in, so older ones stop working.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'speaker', 'listener')),
    customer_id INTEGER REFERENCES customers (id),
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    generation INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE user_grants (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    capability TEXT NOT NULL CHECK (capability IN ('manage', 'speak', 'interpret', 'listen')),
    channel INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, event_id, capability, channel)
);

CREATE INDEX user_grants_by_event ON user_grants (event_id);
