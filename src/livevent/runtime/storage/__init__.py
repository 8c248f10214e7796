"""What the runtime keeps: recordings, the transcript spool, and its way to the event service."""
