-- Refresh tokens already exchanged (by their jti): a second use is a stolen copy.
CREATE TABLE used_refresh_tokens (
    jti TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    used_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE INDEX used_refresh_tokens_by_expiry ON used_refresh_tokens (expires_at);
