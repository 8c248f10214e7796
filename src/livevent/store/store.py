"""The event store: events and their audit trail (customers, users and transcripts beside).

Every change runs in one write transaction that first reads (and, on
PostgreSQL, locks) the row it changes, then writes it back with its version
and status in the WHERE clause: two concurrent updates of one event cannot
both win, and a transition is checked against the state it moves from.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from pydantic import ValidationError

from livevent.errors import (
    AlreadyExists,
    Conflict,
    InvalidTransition,
    NotFound,
    VersionConflict,
)
from livevent.model import (
    Event,
    EventCreate,
    EventFields,
    EventPatch,
    EventStatus,
    can_transition,
)
from livevent.model.changes import describe_changes
from livevent.model.event import live_change_problem
from livevent.model.validation import invalid
from livevent.store import migrate as migrations
from livevent.store.audit import AuditRecords
from livevent.store.customers import CustomerRecords
from livevent.store.database import Connection, Database
from livevent.store.event_reads import EVENT_COLUMNS, EventReads, event_of
from livevent.store.links import SignInLinkStore
from livevent.store.outputs import OutputStore
from livevent.store.transcripts import TranscriptRecords
from livevent.store.users import UserStore

# Random ids are short enough to read out loud and type on a phone; the range
# is large enough that a retry or two covers collisions.
RANDOM_ID_RANGE = (100_000, 999_999)
_RANDOM_ID_TRIES = 20
# Who the audit trail names when a caller of the library names nobody.
SYSTEM_ACTOR = "system"


def _now() -> datetime:
    return datetime.now(UTC)


def _channels_json(fields: EventFields) -> list[dict[str, Any]]:
    return [channel.model_dump(mode="json") for channel in fields.channels]


def _glossary_json(fields: EventFields) -> list[dict[str, Any]]:
    return [entry.model_dump(mode="json") for entry in fields.glossary]


def _stored(fields: EventFields) -> tuple[Any, ...]:
    """The values of columns name .. glossary, in their order in both statements."""
    return (
        fields.name,
        fields.starts_at,
        fields.ends_at,
        fields.timezone,
        fields.source_language,
        _channels_json(fields),
        fields.max_listeners,
        fields.public,
        _glossary_json(fields),
    )


class EventStore(EventReads, CustomerRecords, TranscriptRecords, AuditRecords):
    """The source of truth. Open it with `open_store(url)` or `async with`."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.users = UserStore(database)
        self.links = SignInLinkStore(database)
        self.outputs = OutputStore(database)

    async def __aenter__(self) -> Self:
        await self.database.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.database.close()

    @property
    def dialect(self) -> str:
        return self.database.dialect

    # -- schema ---------------------------------------------------------------

    async def migrate(self) -> list[str]:
        """Bring the schema up to date; returns the names of the migrations applied."""
        applied = await migrations.migrate(self.database)
        return [f"{m.version:04d}_{m.name}" for m in applied]

    async def pending_migrations(self) -> list[str]:
        return [f"{m.version:04d}_{m.name}" for m in await migrations.pending(self.database)]

    async def ping(self) -> None:
        async with self.database.read() as connection:
            await connection.fetchval("SELECT 1")

    # -- events: changes ------------------------------------------------------

    async def create_event(self, data: EventCreate, *, customer_id: int, actor: str) -> Event:
        try:
            fields = data.fields()
        except (ValidationError, ValueError) as error:
            raise invalid(error) from None
        now = _now()
        async with self.database.write() as connection:
            if (
                await connection.fetchval("SELECT id FROM customers WHERE id = $1", customer_id)
                is None
            ):
                raise NotFound(f"customer {customer_id} does not exist", customer_id=customer_id)
            candidates: Sequence[int] = (
                [data.id]
                if data.id is not None
                else [
                    secrets.SystemRandom().randint(*RANDOM_ID_RANGE)
                    for _ in range(_RANDOM_ID_TRIES)
                ]
            )
            row = None
            for candidate in candidates:
                if await connection.fetchval(
                    "SELECT id FROM deleted_events WHERE id = $1", candidate
                ):
                    if data.id is not None:
                        raise AlreadyExists(
                            f"event id {candidate} belonged to a deleted event and is never reused",
                            event_id=candidate,
                        )
                    continue
                row = await connection.fetchrow(
                    f"INSERT INTO events ({EVENT_COLUMNS}) VALUES"
                    " ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13, $13, $14, $15)"
                    f" ON CONFLICT (id) DO NOTHING RETURNING {EVENT_COLUMNS}",
                    candidate,
                    customer_id,
                    *_stored(fields),
                    EventStatus.DRAFT,
                    now,
                    fields.interpretation,
                    fields.broadcast,
                )
                if row is not None:
                    break
            if row is None:
                if data.id is not None:
                    raise AlreadyExists(f"event {data.id} already exists", event_id=data.id)
                raise Conflict("no free event id found; give one with an explicit id")
            event = event_of(row)
            await self._audit(connection, event.id, None, EventStatus.DRAFT, actor, None, now)
        return event

    async def update_event(
        self,
        event_id: int,
        patch: EventPatch,
        *,
        expected_version: int | None = None,
        actor: str = SYSTEM_ACTOR,
    ) -> Event:
        """Apply `patch`; with `expected_version`, only if nobody changed the event since.

        What changed is audited with `actor`, in the same transaction.
        """
        now = _now()
        async with self.database.write() as connection:
            current = await self._locked(connection, event_id)
            if expected_version is not None and expected_version != current.version:
                raise VersionConflict(event_id, expected_version, current.version)
            if current.status.is_final:
                raise Conflict(
                    f"event {event_id} is {current.status} and can no longer be changed",
                    event_id=event_id,
                    current_status=current.status,
                )
            try:
                fields = patch.apply(current)
            except (ValidationError, ValueError) as error:
                raise invalid(error) from None
            problem = (
                live_change_problem(current, fields) if current.status is EventStatus.LIVE else None
            )
            if problem is not None:
                raise Conflict(f"event {event_id} is LIVE: {problem}", event_id=event_id)
            row = await connection.fetchrow(
                "UPDATE events SET name = $3, starts_at = $4, ends_at = $5, timezone = $6,"
                " source_language = $7, channels = $8, max_listeners = $9, public = $10,"
                " glossary = $11, version = version + 1, updated_at = $12, interpretation = $13,"
                " broadcast = $14"
                f" WHERE id = $1 AND version = $2 RETURNING {EVENT_COLUMNS}",
                event_id,
                current.version,
                *_stored(fields),
                now,
                fields.interpretation,
                fields.broadcast,
            )
            if row is None:  # only reachable without row locks; kept as the last guard
                raise VersionConflict(event_id, current.version, current.version + 1)
            change = describe_changes(current, fields)
            if change is not None:
                await self._audit(
                    connection, event_id, current.status, current.status, actor, None, now, change
                )
        return event_of(row)

    async def transition(
        self,
        event_id: int,
        target: EventStatus,
        *,
        actor: str,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> Event:
        """Move the event to `target` if the status machine allows it from where it is."""
        now = _now()
        async with self.database.write() as connection:
            current = await self._locked(connection, event_id)
            if expected_version is not None and expected_version != current.version:
                raise VersionConflict(event_id, expected_version, current.version)
            if not can_transition(current.status, target):
                raise InvalidTransition(event_id, current.status, target)
            if target is EventStatus.LIVE:
                await self._check_live_limit(connection, current)
            row = await connection.fetchrow(
                "UPDATE events SET status = $3, version = version + 1, updated_at = $4"
                f" WHERE id = $1 AND status = $2 RETURNING {EVENT_COLUMNS}",
                event_id,
                current.status,
                target,
                now,
            )
            if row is None:  # only reachable without row locks; kept as the last guard
                raise InvalidTransition(event_id, current.status, target)
            await self._audit(connection, event_id, current.status, target, actor, reason, now)
        return event_of(row)

    async def delete_event(self, event_id: int, *, actor: str = SYSTEM_ACTOR) -> None:
        """Remove a DRAFT event; anything scheduled or later is cancelled instead.

        A tombstone keeps who deleted it, its audit trail, and its id out of use for good.
        """
        async with self.database.write() as connection:
            current = await self._locked(connection, event_id)
            if current.status is not EventStatus.DRAFT:
                raise Conflict(
                    f"event {event_id} is {current.status}; only DRAFT events can be deleted"
                    " (cancel it instead)",
                    event_id=event_id,
                    current_status=current.status,
                )
            history = [
                change.model_dump(mode="json")
                for change in await self._history(connection, event_id)
            ]
            await connection.execute(
                "INSERT INTO deleted_events (id, customer_id, name, actor, deleted_at, history)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                event_id,
                current.customer_id,
                current.name,
                actor,
                _now(),
                history,
            )
            await connection.execute("DELETE FROM events WHERE id = $1", event_id)

    async def _locked(self, connection: Connection, event_id: int) -> Event:
        row = await connection.fetchrow(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE id = $1{self.database.lock_rows}",
            event_id,
        )
        if row is None:
            raise NotFound(f"event {event_id} does not exist", event_id=event_id)
        return event_of(row)
