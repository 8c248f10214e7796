-- Who did what to an account: a manager added, a welcome link made again, a password
-- set, a disable. Kept apart from the users table (no foreign key) so that the trail
-- outlives the account it speaks of.
CREATE TABLE account_changes (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL,
    customer_id BIGINT,
    actor TEXT NOT NULL,
    change TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);

CREATE INDEX account_changes_by_user ON account_changes (user_id, id);
