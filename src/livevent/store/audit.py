"""The audit trail in the store: every status change and edit of an event, and who made
it; a deleted event leaves a tombstone with its history."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from livevent.errors import NotFound
from livevent.model import DeletedEvent, EventStatus, StatusChange
from livevent.store.database import Connection, Database


class AuditRecords:
    """The audit half of `EventStore` (a mixin: one store, one database)."""

    database: Database

    async def history(self, event_id: int) -> list[StatusChange]:
        async with self.database.read() as connection:
            changes = await self._history(connection, event_id)
            known = changes or await connection.fetchval(
                "SELECT 1 FROM events WHERE id = $1", event_id
            )
        if not known:
            raise NotFound(f"event {event_id} does not exist", event_id=event_id)
        return changes

    async def _history(self, connection: Connection, event_id: int) -> list[StatusChange]:
        rows = await connection.fetch(
            "SELECT event_id, from_status, to_status, actor, reason, change, at"
            " FROM event_status_changes WHERE event_id = $1 ORDER BY id",
            event_id,
        )
        return [StatusChange.model_validate(dict(row)) for row in rows]

    async def annotate(self, event_id: int, *, actor: str, change: str) -> None:
        """A row that moves nothing: who did what around the event (invited, removed)."""
        async with self.database.write() as connection:
            status = await connection.fetchval("SELECT status FROM events WHERE id = $1", event_id)
            if status is None:
                raise NotFound(f"event {event_id} does not exist", event_id=event_id)
            current = EventStatus(status)
            at = datetime.now(UTC)
            await self._audit(connection, event_id, current, current, actor, None, at, change)

    async def deleted_event(self, event_id: int) -> DeletedEvent | None:
        """The trace a deleted event left, or None when no event with this id was deleted."""
        async with self.database.read() as connection:
            row = await connection.fetchrow(
                "SELECT id, customer_id, name, actor, deleted_at, history"
                " FROM deleted_events WHERE id = $1",
                event_id,
            )
        if row is None:
            return None
        data = dict(row)
        if isinstance(data["history"], str):
            data["history"] = json.loads(data["history"])
        return DeletedEvent.model_validate(data)

    async def _audit(
        self,
        connection: Connection,
        event_id: int,
        from_status: EventStatus | None,
        to_status: EventStatus,
        actor: str,
        reason: str | None,
        at: datetime,
        change: str | None = None,
    ) -> None:
        await connection.execute(
            "INSERT INTO event_status_changes"
            " (event_id, from_status, to_status, actor, reason, at, change)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)",
            event_id,
            from_status,
            to_status,
            actor,
            reason,
            at,
            change,
        )
