"""A durable first-in first-out queue on local disk, for what must reach the store.

What was shown to listeners must end up in the store even if this process dies
while the store is away (SIGKILL, an OOM kill, a reboot). So it is appended here,
committed and synced to disk, before it is shown, and removed once the store has
it. The file is SQLite in WAL mode with `synchronous = FULL`: a commit has reached
the disk when `append` returns, and several processes on one host may share the
file (they wait on each other's locks, never corrupt it). Whoever drains it writes
with an idempotency key, so an entry written twice (stored, then a crash before it
was removed) is stored once.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from livevent.files import private_file
from livevent.store.database import redact_url

BUSY_TIMEOUT_MS = 10_000


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    kind: str
    body: str


def spool_path(folder: Path, store: str) -> Path:
    """One file per store, so two deployments on one host never drain into each other's."""
    digest = hashlib.sha256(redact_url(store).encode()).hexdigest()[:16]
    return folder / f"spool-{digest}.sqlite3"


class Spool:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._connection: aiosqlite.Connection | None = None

    async def open(self) -> None:
        private_file(self.path)
        connection = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await connection.execute("PRAGMA journal_mode = WAL")
            # FULL: each commit syncs the WAL, so an append survives a power cut too.
            await connection.execute("PRAGMA synchronous = FULL")
            await connection.execute(
                "CREATE TABLE IF NOT EXISTS entries ("
                " id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, body TEXT NOT NULL)"
            )
        except BaseException:
            await connection.close()
            raise
        self._connection = connection

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    @property
    def _db(self) -> aiosqlite.Connection:
        if self._connection is None:
            raise RuntimeError("the spool is not open")
        return self._connection

    async def append(self, kind: str, body: str) -> None:
        """Return once the entry is on disk."""
        await self._db.execute("INSERT INTO entries (kind, body) VALUES (?, ?)", (kind, body))

    async def head(self, limit: int = 100) -> list[Entry]:
        """The oldest entries, in the order they were appended."""
        async with self._db.execute(
            "SELECT id, kind, body FROM entries ORDER BY id LIMIT ?", (limit,)
        ) as cursor:
            return [Entry(*row) async for row in cursor]

    async def remove(self, entry_id: int) -> None:
        await self._db.execute("DELETE FROM entries WHERE id = ?", (entry_id,))

    async def count(self) -> int:
        async with self._db.execute("SELECT count(*) FROM entries") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0


async def count_waiting(path: Path) -> int:
    """What waits in a spool file, for `livevent doctor` (0 when there is no file)."""
    if not await asyncio.to_thread(path.exists):
        return 0
    spool = Spool(path)
    await spool.open()
    try:
        return await spool.count()
    finally:
        await spool.close()
