-- Refresh tokens already exchanged (by their jti): a second use is a stolen copy.
CREATE TABLE used_refresh_tokens (
    jti TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    used_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX used_refresh_tokens_by_expiry ON used_refresh_tokens (expires_at);
