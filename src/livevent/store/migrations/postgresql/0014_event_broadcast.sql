-- Whether an event's channels also go out as HLS (where the deployment broadcasts):
-- an organizer may keep one event off the broadcast. Existing events keep broadcasting.
ALTER TABLE events ADD COLUMN broadcast BOOLEAN NOT NULL DEFAULT TRUE;
