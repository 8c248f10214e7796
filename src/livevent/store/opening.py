"""Opening the store a URL names: SQLite (migrated on first use) or PostgreSQL."""

from __future__ import annotations

from livevent.errors import InvalidInput, Unavailable
from livevent.store.database import Database
from livevent.store.store import EventStore


def database_for(url: str, *, pool_size: int = 10) -> Database:
    """The database configuration that the URL's scheme names."""
    if url.startswith("sqlite:"):
        from livevent.store.sqlite import SQLiteDatabase

        return SQLiteDatabase(url)
    if url.startswith(("postgresql:", "postgres:", "postgresql+asyncpg:")):
        from livevent.store.postgres import PostgresDatabase

        return PostgresDatabase(url, pool_size=pool_size)
    raise InvalidInput(
        f"unsupported database URL {url.split('://', 1)[0]!r}:"
        " use sqlite:///PATH or postgresql://HOST/DB"
    )


async def open_store(url: str, *, pool_size: int = 10, migrate: bool | None = None) -> EventStore:
    """Open the store at `url`, ready to use.

    SQLite is migrated on first use (it is the zero-setup default); PostgreSQL
    is migrated by `livevent db migrate` and refused until it has been, unless
    `migrate=True`.
    """
    store = EventStore(database_for(url, pool_size=pool_size))
    await store.database.open()
    try:
        if migrate or (migrate is None and store.dialect == "sqlite"):
            await store.migrate()
        elif migrate is None:
            missing = await store.pending_migrations()
            if missing:
                raise Unavailable(
                    f"the database at {store.database.describe()} lacks migrations"
                    f" {', '.join(missing)}: run `livevent db migrate`"
                )
    except BaseException:
        await store.aclose()
        raise
    return store
