"""SQLite through aiosqlite: the embedded default, one file and no server.

WAL lets readers run beside the single writer; writes take `BEGIN IMMEDIATE`
so a second process (the CLI beside a running server) waits on the busy
timeout instead of failing half-way through a transaction.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any

import aiosqlite

from livevent.errors import InvalidInput, Unavailable
from livevent.files import private_file
from livevent.store.database import Connection, Database, Row, UniqueViolation

BUSY_TIMEOUT_MS = 10_000

# aiosqlite logs every statement with its parameters at DEBUG: password hashes, link
# digests, the stream keys of outputs. Whatever level the application logs at, never.
logging.getLogger("aiosqlite").setLevel(logging.INFO)


@lru_cache(maxsize=256)
def _adapt_sql(sql: str) -> str:
    # `$3` -> `?3`: SQLite's numbered parameters bind by position like asyncpg's.
    return re.sub(r"\$(\d+)", r"?\1", sql)


def format_timestamp(moment: datetime) -> str:
    """UTC with fixed width, so text order is time order in range queries."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _adapt(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return value


def sqlite_path(url: str) -> Path:
    """`sqlite:///relative.db` or `sqlite:////absolute/path.db`, as SQLAlchemy spells them."""
    if not url.startswith("sqlite:///"):
        raise InvalidInput(f"SQLite URLs look like sqlite:///path/to/file.db, not {url!r}")
    path = url.removeprefix("sqlite:///")
    if not path or path == ":memory:":
        raise InvalidInput("the SQLite store needs a file path (sqlite:///path/to/file.db)")
    return Path(path)


class SQLiteConnection(Connection):
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        try:
            # One trip to aiosqlite's thread per statement: the hops, not SQLite,
            # are most of the cost of a small query.
            rows = await self._connection.execute_fetchall(
                _adapt_sql(sql), [_adapt(a) for a in args]
            )
        except sqlite3.IntegrityError as error:
            raise _integrity(error) from error
        except sqlite3.OperationalError as error:
            raise Unavailable(f"SQLite error: {error}") from error
        return [dict(row) for row in rows]

    async def execute(self, sql: str, *args: Any) -> None:
        await self.fetch(sql, *args)

    async def run_script(self, script: str) -> None:
        # executescript() would COMMIT first; run the statements one by one instead.
        for statement in split_statements(script):
            await self._connection.execute(statement)


def split_statements(script: str) -> list[str]:
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        statements.append(pending.strip())
    return [s for s in statements if s.strip(" ;\n")]


def _integrity(error: sqlite3.IntegrityError) -> Exception:
    if "UNIQUE" in str(error):
        return UniqueViolation(str(error))
    return InvalidInput(f"the store refused the change: {error}")


class SQLiteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.path = sqlite_path(url)
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        # One writer connection shared by the coroutines of this process; the
        # lock keeps their transactions from interleaving on it.
        self._write_lock = asyncio.Lock()

    async def _connect(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(
            self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000
        )
        connection.row_factory = sqlite3.Row
        await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await connection.execute("PRAGMA journal_mode = WAL")
        await connection.execute("PRAGMA synchronous = NORMAL")
        await connection.execute("PRAGMA foreign_keys = ON")
        return connection

    async def open(self) -> None:
        try:
            private_file(self.path)  # SQLite gives its -wal and -shm files the same mode
            self._writer = await self._connect()
            self._reader = await self._connect()
        except (OSError, sqlite3.Error) as error:
            await self.close()
            raise Unavailable(f"cannot open the SQLite store {self.path}: {error}") from error

    async def close(self) -> None:
        for connection in (self._reader, self._writer):
            if connection is not None:
                await connection.close()
        self._reader = self._writer = None

    def _require(self, connection: aiosqlite.Connection | None) -> aiosqlite.Connection:
        if connection is None:
            raise Unavailable("the SQLite store is not open")
        return connection

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        yield SQLiteConnection(self._require(self._reader))

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Connection]:
        writer = self._require(self._writer)
        async with self._write_lock:
            try:
                await writer.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                raise Unavailable(f"the SQLite store {self.path} is busy: {error}") from error
            try:
                yield SQLiteConnection(writer)
            except BaseException:
                await writer.execute("ROLLBACK")
                raise
            else:
                await writer.execute("COMMIT")

    def migration_lock(self) -> str | None:
        return None  # BEGIN IMMEDIATE already keeps other writers out.
