-- What a one-time link is for: an invitation (it signs its person in for one event's
-- channel) or a welcome (a new manager chooses their password). A link of one kind is
-- never spent as the other.
ALTER TABLE sign_in_links ADD COLUMN purpose TEXT NOT NULL DEFAULT 'invitation';
