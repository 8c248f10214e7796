-- Terms that machine channels keep as they are or translate a fixed way.
ALTER TABLE events ADD COLUMN glossary JSONB NOT NULL DEFAULT '[]'::jsonb;
