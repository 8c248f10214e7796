"""PostgreSQL through an asyncpg pool: the production store."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from enum import Enum
from typing import Any

import asyncpg

from livevent.errors import InvalidInput, Unavailable
from livevent.store.database import Connection, Database, Row, UniqueViolation

# The server went away or refuses us for now (shutting down, starting up, a
# network cut): the store is unavailable, which is not the caller's fault.
_LOST = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
)

# Any constant works; it only has to be the same for every livevent migrator.
_MIGRATION_LOCK_KEY = 0x6C697665


def _adapt(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


async def _init_connection(connection: asyncpg.Connection) -> None:
    await connection.set_type_codec(
        "jsonb",
        encoder=lambda value: json.dumps(value, separators=(",", ":")),
        decoder=json.loads,
        schema="pg_catalog",
    )


class PostgresConnection(Connection):
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        try:
            rows = await self._connection.fetch(sql, *[_adapt(a) for a in args])
        except asyncpg.UniqueViolationError as error:
            raise UniqueViolation(str(error)) from error
        except asyncpg.IntegrityConstraintViolationError as error:
            raise InvalidInput(f"the store refused the change: {error}") from error
        return [dict(row) for row in rows]

    async def execute(self, sql: str, *args: Any) -> None:
        await self.fetch(sql, *args)

    async def run_script(self, script: str) -> None:
        await self._connection.execute(script)


class PostgresDatabase(Database):
    dialect = "postgresql"
    lock_rows = " FOR UPDATE"

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        super().__init__(url.replace("postgresql+asyncpg://", "postgresql://", 1))
        self.pool_size = pool_size
        self._pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self.url,
                min_size=1,
                max_size=self.pool_size,
                init=_init_connection,
                command_timeout=30,
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            raise Unavailable(
                f"cannot connect to PostgreSQL at {self.describe()}: {error}"
            ) from error

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    def _require(self) -> asyncpg.Pool:
        if self._pool is None:
            raise Unavailable("the PostgreSQL store is not open")
        return self._pool

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        try:
            async with self._require().acquire() as connection:
                yield PostgresConnection(connection)
        except _LOST as error:
            raise Unavailable(f"lost PostgreSQL at {self.describe()}: {error}") from error

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Connection]:
        try:
            async with self._require().acquire() as connection, connection.transaction():
                yield PostgresConnection(connection)
        except _LOST as error:
            raise Unavailable(f"lost PostgreSQL at {self.describe()}: {error}") from error

    def migration_lock(self) -> str | None:
        return f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})"
