-- How an event's machine channels interpret: simultaneous (clause by clause, a few
-- seconds behind the speaker) or consecutive (whole sentences at the pauses).
-- NULL: the deployment's setting. Channels carry their own in the channels JSON.
ALTER TABLE events ADD COLUMN interpretation TEXT
    CHECK (interpretation IN ('simultaneous', 'consecutive'));
