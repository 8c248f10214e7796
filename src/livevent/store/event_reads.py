"""The read half of `EventStore`: one event, a page of them, and live counts (a mixin)."""

from __future__ import annotations

import json
from typing import Any

from livevent.errors import LimitReached, NotFound
from livevent.model import Event, EventFilter, EventStatus
from livevent.store.database import Connection, Database, Row

EVENT_COLUMNS = (
    "id, customer_id, name, starts_at, ends_at, timezone, source_language, channels,"
    " max_listeners, public, glossary, status, version, created_at, updated_at, interpretation,"
    " broadcast"
)


def event_of(row: Row) -> Event:
    data = dict(row)
    for column in ("channels", "glossary"):
        if isinstance(data[column], str):
            data[column] = json.loads(data[column])
    return Event.model_validate(data)


class EventReads:
    database: Database

    async def get_event(self, event_id: int) -> Event:
        async with self.database.read() as connection:
            row = await connection.fetchrow(
                f"SELECT {EVENT_COLUMNS} FROM events WHERE id = $1", event_id
            )
        if row is None:
            raise NotFound(f"event {event_id} does not exist", event_id=event_id)
        return event_of(row)

    async def list_events(self, query: EventFilter | None = None) -> tuple[list[Event], int]:
        """One page of events ordered by start, and how many match in all."""
        query = query or EventFilter()
        where: list[str] = []
        args: list[Any] = []

        def arg(value: Any) -> str:
            args.append(value)
            return f"${len(args)}"

        if query.statuses:
            where.append(f"status IN ({', '.join(arg(s) for s in query.statuses)})")
        if query.customer_id is not None:
            where.append(f"customer_id = {arg(query.customer_id)}")
        if query.starts_from is not None:
            where.append(f"starts_at >= {arg(query.starts_from)}")
        if query.starts_before is not None:
            where.append(f"starts_at < {arg(query.starts_before)}")
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        async with self.database.read() as connection:
            total = await connection.fetchval(f"SELECT COUNT(*) FROM events{clause}", *args)
            rows = await connection.fetch(
                f"SELECT {EVENT_COLUMNS} FROM events{clause}"
                f" ORDER BY starts_at, id LIMIT {arg(query.limit)} OFFSET {arg(query.offset)}",
                *args,
            )
        return [event_of(row) for row in rows], int(total)

    async def count_live_events(self, customer_id: int) -> int:
        async with self.database.read() as connection:
            count = await connection.fetchval(
                "SELECT COUNT(*) FROM events WHERE customer_id = $1 AND status = $2",
                customer_id,
                EventStatus.LIVE,
            )
        return int(count)

    async def _check_live_limit(self, connection: Connection, event: Event) -> None:
        """Refuse a start past the customer's concurrent LIVE events.

        The customer's row is locked (PostgreSQL) or the whole store is
        (SQLite's BEGIN IMMEDIATE), so two starts cannot both see room for one.
        """
        row = await connection.fetchrow(
            "SELECT name, max_live_events FROM customers WHERE id = $1" + self.database.lock_rows,
            event.customer_id,
        )
        assert row is not None
        live = await connection.fetchval(
            "SELECT COUNT(*) FROM events WHERE customer_id = $1 AND status = $2",
            event.customer_id,
            EventStatus.LIVE,
        )
        if int(live) >= int(row["max_live_events"]):
            raise LimitReached(
                f"customer {row['name']!r} already has {live} live event(s), its limit;"
                f" end one before starting event {event.id}",
                event_id=event.id,
                customer_id=event.customer_id,
                limit=int(row["max_live_events"]),
            )
