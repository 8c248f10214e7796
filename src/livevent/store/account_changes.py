"""An account's history: who added it, made it a new link, set its password, disabled it.

Apart from the users table (no foreign key), so the trail outlives the account.
"""

from __future__ import annotations

from datetime import UTC, datetime

from livevent.model import User
from livevent.model.audit import AccountChange
from livevent.store.database import Database


class AccountChanges:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def note(self, user: User, *, actor: str, change: str) -> None:
        """A row of the account's history: who did what to it."""
        async with self.database.write() as connection:
            await connection.execute(
                "INSERT INTO account_changes (user_id, customer_id, actor, change, at)"
                " VALUES ($1, $2, $3, $4, $5)",
                user.id,
                user.customer_id,
                actor,
                change,
                datetime.now(UTC),
            )

    async def history(self, user_id: int) -> list[AccountChange]:
        async with self.database.read() as connection:
            rows = await connection.fetch(
                "SELECT user_id, actor, change, at FROM account_changes"
                " WHERE user_id = $1 ORDER BY id",
                user_id,
            )
        return [AccountChange.model_validate(dict(row)) for row in rows]
