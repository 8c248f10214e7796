"""Apply the numbered migrations of a dialect, once each, in order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

from livevent.store.database import Database

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def available(dialect: str) -> list[Migration]:
    folder = resources.files("livevent.store.migrations").joinpath(dialect)
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            number, _, rest = entry.name.partition("_")
            found.append(
                Migration(int(number), rest.removesuffix(".sql"), entry.read_text("utf-8"))
            )
    return sorted(found, key=lambda m: m.version)


async def applied_versions(database: Database) -> set[int]:
    async with database.read() as connection:
        exists = await connection.fetchval(
            "SELECT COUNT(*) FROM information_schema.tables"
            " WHERE table_name = 'schema_migrations' AND table_schema = current_schema()"
            if database.dialect == "postgresql"
            else "SELECT COUNT(*) FROM sqlite_master WHERE name = 'schema_migrations'"
        )
        if not exists:
            return set()
        rows = await connection.fetch("SELECT version FROM schema_migrations")
    return {int(row["version"]) for row in rows}


async def pending(database: Database) -> list[Migration]:
    done = await applied_versions(database)
    return [m for m in available(database.dialect) if m.version not in done]


async def migrate(database: Database) -> list[Migration]:
    """Apply what is missing in one transaction; returns what was applied."""
    async with database.write() as connection:
        lock = database.migration_lock()
        if lock:
            await connection.execute(lock)
        await connection.run_script(_CREATE_TABLE)
        rows = await connection.fetch("SELECT version FROM schema_migrations")
        done = {int(row["version"]) for row in rows}
        applied = []
        for migration in available(database.dialect):
            if migration.version in done:
                continue
            await connection.run_script(migration.sql)
            await connection.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                migration.version,
                migration.name,
                datetime.now(UTC).isoformat(timespec="seconds"),
            )
            applied.append(migration)
    return applied
