-- Whether an event's channels also go out as HLS (where the deployment broadcasts):
-- an organizer may keep one event off the broadcast. Existing events keep broadcasting.
ALTER TABLE events ADD COLUMN broadcast INTEGER NOT NULL DEFAULT 1 CHECK (broadcast IN (0, 1));
