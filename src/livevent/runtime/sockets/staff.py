"""Staff feeds per token: an organizer's or interpreter's own listening, counted apart.

Staff hear whatever the event's listener limit says and are not audience; so that a
staff token cannot stand in for a crowd, each token holds only a few feeds at a time on
an instance. Counted in this process: nothing to leak when an instance dies.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from livevent.errors import LimitReached


class StaffFeeds:
    def __init__(self, per_token: int) -> None:
        self.per_token = per_token
        self._open: Counter[tuple[int, str]] = Counter()

    @contextmanager
    def hold(self, event_id: int, token_id: str) -> Iterator[None]:
        """One feed of this token on this event while the block runs; LimitReached if full."""
        key = (event_id, token_id)
        if self._open[key] >= self.per_token:
            raise LimitReached(
                f"this token already has {self.per_token} staff feeds of event {event_id} open"
            )
        self._open[key] += 1
        try:
            yield
        finally:
            self._open[key] -= 1
            if self._open[key] <= 0:
                del self._open[key]
