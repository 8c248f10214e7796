"""The audit trail of events: every status move and edit, and what a deletion leaves."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from livevent.model.status import EventStatus


class StatusChange(BaseModel):
    """One audit row: who changed the event, when and why.

    A status move has different `from_status` and `to_status`; an edit keeps the
    status and says in `change` which fields it changed, old and new.
    """

    event_id: int
    from_status: EventStatus | None
    to_status: EventStatus
    actor: str
    reason: str | None
    change: str | None = Field(None, description="the fields an edit changed, old -> new")
    at: datetime


class DeletedEvent(BaseModel):
    """The trace a deleted DRAFT leaves; its id is never given to another event."""

    id: int
    customer_id: int
    name: str
    actor: str
    deleted_at: datetime
    history: list[StatusChange]


class AccountChange(BaseModel):
    """One row of an account's history: a manager added, a link made, a password set."""

    user_id: int
    actor: str
    change: str
    at: datetime
