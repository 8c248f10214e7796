"""Speech workers: processes that run live events' speech, and how owners place it there."""
