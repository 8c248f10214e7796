"""The seam between the store's SQL and each database: one configuration per dialect.

Queries are written once, with PostgreSQL's `$1` placeholders; each dialect
adapts them and their parameters. Driver errors are wrapped here, where they
enter, so the store above sees only these and livevent's own errors.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, ClassVar

Row = Mapping[str, Any]


class UniqueViolation(Exception):
    """An INSERT or UPDATE broke a unique constraint."""


class Connection(ABC):
    """One connection, inside a transaction when it came from `Database.write()`."""

    @abstractmethod
    async def fetch(self, sql: str, *args: Any) -> list[Row]: ...

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, *args: Any) -> Any:
        row = await self.fetchrow(sql, *args)
        return None if row is None else next(iter(row.values()))

    @abstractmethod
    async def execute(self, sql: str, *args: Any) -> None: ...

    @abstractmethod
    async def run_script(self, script: str) -> None:
        """Run several statements (a migration) inside the current transaction."""


class Database(ABC):
    """A database reached by URL: connections for reading and transactions for writing."""

    dialect: ClassVar[str]
    # Appended to a SELECT inside a write transaction to lock the rows it reads.
    lock_rows: ClassVar[str] = ""

    def __init__(self, url: str) -> None:
        self.url = url

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    def read(self) -> AbstractAsyncContextManager[Connection]:
        """A connection for reads; every statement sees committed data only."""

    @abstractmethod
    def write(self) -> AbstractAsyncContextManager[Connection]:
        """A transaction, committed when the block ends and rolled back on error."""

    @abstractmethod
    def migration_lock(self) -> str | None:
        """SQL that keeps two migrators apart inside their transactions, if needed."""

    def describe(self) -> str:
        """The URL without its password, for messages."""
        return redact_url(self.url)


def redact_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, location = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{location}" if ":" in credentials else url
