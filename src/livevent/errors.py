"""The exceptions livevent raises, all under one root.

    LiveventError
    ├── InvalidInput            the caller sent something that can never succeed as sent
    │   ├── BadRequest          malformed rather than invalid: unreadable JSON, a bad header
    │   └── UnknownSetting      a configuration file names a setting that does not exist
    ├── NotFound                an event, customer or channel that does not exist
    ├── Conflict                valid input that clashes with the stored state
    │   ├── AlreadyExists       an id or unique name is taken
    │   ├── VersionConflict     optimistic locking: someone changed the event first
    │   ├── InvalidTransition   the status machine refuses the move
    │   ├── PreconditionRequired  an update without the version it applies to
    │   ├── NotStartable        the event is not in a status a live session starts from
    │   └── LimitReached    a customer's or event's limit (live events, listeners)
    ├── Unauthorized            no credentials, or ones that do not verify
    ├── Forbidden               verified credentials that do not grant this
    ├── TooManyAttempts         too many tries in a window (logins); retry later
    └── Unavailable             a backing service (store, bus) cannot be reached

The CLI (`livevent.cli._utilities`) and the HTTP layer (`livevent.http.problems`, and
`livevent.http.sockets` for sockets) each translate this tree into exit codes, problem+json
answers and close codes, in one place each.
"""

from __future__ import annotations

from typing import Any


class LiveventError(Exception):
    """Root of every error livevent raises on purpose."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message


class InvalidInput(LiveventError):
    """The request can never succeed as sent: fix the input."""


class BadRequest(InvalidInput):
    """Malformed rather than invalid: unreadable JSON, a header or query value of the wrong form."""


class UnknownSetting(InvalidInput):
    """A configuration file names a setting livevent does not have."""


class NotFound(LiveventError):
    """The thing asked for does not exist."""


class Conflict(LiveventError):
    """Valid input that clashes with what is stored."""


class AlreadyExists(Conflict):
    """An id or unique name is already taken."""


class VersionConflict(Conflict):
    """The event changed since the version the caller read."""

    def __init__(self, event_id: int, expected: int, actual: int) -> None:
        super().__init__(
            f"event {event_id} is at version {actual}, not {expected}: read it again and retry",
            event_id=event_id,
            expected_version=expected,
            current_version=actual,
        )


class InvalidTransition(Conflict):
    """The status machine does not allow this move."""

    def __init__(self, event_id: int, current: str, target: str) -> None:
        super().__init__(
            f"event {event_id} cannot go from {current} to {target}",
            event_id=event_id,
            current_status=current,
            target_status=target,
        )


class PreconditionRequired(Conflict):
    """An update must name the version it applies to."""


class NotStartable(Conflict):
    """The event is not in a status a live session can start from."""


class LimitReached(Conflict):
    """A limit of the customer or the event would be exceeded."""


class Unauthorized(LiveventError):
    """Missing, forged, expired or otherwise unusable credentials."""


class Forbidden(LiveventError):
    """Good credentials that do not grant what was asked."""


class Unavailable(LiveventError):
    """A backing service (store or bus) cannot be reached."""


class TooManyAttempts(LiveventError):
    """Too many tries in a window (logins): come back after `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after
