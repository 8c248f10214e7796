"""One-time sign-in links, kept by the hash of their code on the same `Database`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from livevent.store.database import Database


@dataclass(frozen=True, slots=True)
class SpentLink:
    """What a link was for, once it has been used."""

    user_id: int
    event_id: int
    channel: int


class SignInLinkStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def add(
        self,
        code_hash: str,
        *,
        user_id: int,
        event_id: int,
        channel: int,
        created_by: str,
        expires_at: datetime,
        purpose: str = "invitation",
    ) -> None:
        now = datetime.now(UTC)
        async with self.database.write() as connection:
            # Spent and expired links are kept a day for the curious, then go.
            await connection.execute(
                "DELETE FROM sign_in_links WHERE expires_at < $1",
                datetime.fromtimestamp(now.timestamp() - 86400, UTC),
            )
            await connection.execute(
                "INSERT INTO sign_in_links (code_hash, user_id, event_id, channel, created_by,"
                " created_at, expires_at, purpose) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                code_hash,
                user_id,
                event_id,
                channel,
                created_by,
                now,
                expires_at,
                purpose,
            )

    async def spend(self, code_hash: str, purpose: str = "invitation") -> SpentLink | None:
        """Use a link: what it was for, or None when it is unknown, spent or expired.

        One statement marks it used only if it was not, so two tabs opening the same
        link at once sign in one of them.
        """
        now = datetime.now(UTC)
        async with self.database.write() as connection:
            row = await connection.fetchrow(
                "UPDATE sign_in_links SET used_at = $1"
                " WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1"
                " AND purpose = $3 RETURNING user_id, event_id, channel",
                now,
                code_hash,
                purpose,
            )
        if row is None:
            return None
        return SpentLink(user_id=row["user_id"], event_id=row["event_id"], channel=row["channel"])

    async def forget(
        self, *, user_id: int, event_id: int | None = None, purpose: str | None = None
    ) -> int:
        """Drop a person's unspent links: to an event (they were removed from it), or of
        one kind (a new one replaces them)."""
        conditions = ["user_id = $1", "used_at IS NULL"]
        arguments: list[int | str] = [user_id]
        for column, value in (("event_id", event_id), ("purpose", purpose)):
            if value is not None:
                arguments.append(value)
                conditions.append(f"{column} = ${len(arguments)}")
        async with self.database.write() as connection:
            rows = await connection.fetch(
                f"DELETE FROM sign_in_links WHERE {' AND '.join(conditions)} RETURNING code_hash",
                *arguments,
            )
        return len(rows)

    async def discard(self, code_hash: str) -> None:
        """Take back a link that was never handed out (its mail could not be sent)."""
        async with self.database.write() as connection:
            await connection.execute("DELETE FROM sign_in_links WHERE code_hash = $1", code_hash)
