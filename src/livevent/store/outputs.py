"""Where each live event's channels are pushed (model/output.py): the addresses, kept
whole for the runtime, shown redacted to everyone else."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr

from livevent.errors import NotFound
from livevent.model.output import Output, OutputCreate, OutputTarget, push_target
from livevent.store.database import Database

OUTPUTS_PER_EVENT = 20


class OutputStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def add(self, event_id: int, data: OutputCreate, *, actor: str) -> Output:
        async with self.database.write() as connection:
            row = await connection.fetchrow(
                "INSERT INTO event_outputs (event_id, channel, url, created_by, created_at)"
                " VALUES ($1, $2, $3, $4, $5)"
                " RETURNING id, event_id, channel, url, created_by, created_at",
                event_id,
                data.channel,
                data.url.get_secret_value(),
                actor,
                datetime.now(UTC),
            )
        assert row is not None
        return _output(dict(row))

    async def count(self, event_id: int) -> int:
        async with self.database.read() as connection:
            value = await connection.fetchval(
                "SELECT COUNT(*) FROM event_outputs WHERE event_id = $1", event_id
            )
        return int(value or 0)

    async def of_event(self, event_id: int) -> list[Output]:
        return [_output(row) for row in await self._rows(event_id)]

    async def targets(self, event_id: int) -> list[OutputTarget]:
        """The whole addresses: for the runtime that pushes them, nobody else."""
        return [
            OutputTarget(**_output(row).model_dump(), url=SecretStr(str(row["url"])))
            for row in await self._rows(event_id)
        ]

    async def remove(self, event_id: int, output_id: int) -> Output:
        async with self.database.write() as connection:
            row = await connection.fetchrow(
                "DELETE FROM event_outputs WHERE id = $1 AND event_id = $2"
                " RETURNING id, event_id, channel, url, created_by, created_at",
                output_id,
                event_id,
            )
        if row is None:
            raise NotFound(f"event {event_id} has no output {output_id}")
        return _output(dict(row))

    async def _rows(self, event_id: int) -> list[dict[str, Any]]:
        async with self.database.read() as connection:
            rows = await connection.fetch(
                "SELECT id, event_id, channel, url, created_by, created_at FROM event_outputs"
                " WHERE event_id = $1 ORDER BY id",
                event_id,
            )
        return [dict(row) for row in rows]


def _output(row: dict[str, Any]) -> Output:
    return Output(
        id=row["id"],
        event_id=row["event_id"],
        channel=row["channel"],
        target=push_target(str(row["url"])),
        created_by=row["created_by"],
        created_at=row["created_at"],
    )
