"""The status machine: DRAFT -> SCHEDULED -> READY -> LIVE -> ENDED; CANCELLED before ENDED."""

from __future__ import annotations

from enum import StrEnum


class EventStatus(StrEnum):
    DRAFT = "DRAFT"
    SCHEDULED = "SCHEDULED"
    READY = "READY"
    LIVE = "LIVE"
    ENDED = "ENDED"
    CANCELLED = "CANCELLED"

    @property
    def is_final(self) -> bool:
        return self in (EventStatus.ENDED, EventStatus.CANCELLED)


_NEXT: dict[EventStatus, frozenset[EventStatus]] = {
    EventStatus.DRAFT: frozenset({EventStatus.SCHEDULED, EventStatus.CANCELLED}),
    EventStatus.SCHEDULED: frozenset({EventStatus.READY, EventStatus.LIVE, EventStatus.CANCELLED}),
    EventStatus.READY: frozenset({EventStatus.LIVE, EventStatus.CANCELLED}),
    EventStatus.LIVE: frozenset({EventStatus.ENDED, EventStatus.CANCELLED}),
    EventStatus.ENDED: frozenset(),
    EventStatus.CANCELLED: frozenset(),
}

# The verbs of the CLI and the HTTP API, each naming the status it moves to.
ACTIONS: dict[str, EventStatus] = {
    "schedule": EventStatus.SCHEDULED,
    "ready": EventStatus.READY,
    "start": EventStatus.LIVE,
    "end": EventStatus.ENDED,
    "cancel": EventStatus.CANCELLED,
}


def can_transition(current: EventStatus, target: EventStatus) -> bool:
    return target in _NEXT[current]


def sources_of(target: EventStatus) -> frozenset[EventStatus]:
    """Every status from which `target` may be reached in one step."""
    return frozenset(status for status, nexts in _NEXT.items() if target in nexts)
