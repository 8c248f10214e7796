-- One-time sign-in links for invited speakers and interpreters. Only a hash of the
-- code is kept: a copy of this table signs nobody in. A link works once, until it
-- expires; `used_at` records when it was spent.
CREATE TABLE sign_in_links (
    code_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_id INTEGER NOT NULL,
    channel INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);

CREATE INDEX sign_in_links_by_expiry ON sign_in_links (expires_at);
