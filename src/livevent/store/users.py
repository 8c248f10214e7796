"""Users and their per-event grants, on the same `Database` as the events.

The password hash is stored and handed to the login code, and nowhere else:
`User` has no field for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from livevent.errors import AlreadyExists, NotFound
from livevent.model import Grant, User, UserCreate
from livevent.model.user import Capability
from livevent.store.account_changes import AccountChanges
from livevent.store.database import Connection, Database, Row, UniqueViolation

_USER_COLUMNS = "id, email, name, role, customer_id, disabled, generation, created_at"


@dataclass(frozen=True, slots=True)
class Credentials:
    """What login needs of a user: who, and the hash to check a password against."""

    user: User
    password_hash: str


def _now() -> datetime:
    return datetime.now(UTC)


class UserStore:
    def __init__(self, database: Database) -> None:
        self.database = database
        self.changes = AccountChanges(database)

    async def create(self, data: UserCreate, *, password_hash: str) -> User:
        now = _now()
        try:
            async with self.database.write() as connection:
                if data.customer_id is not None:
                    found = await connection.fetchval(
                        "SELECT id FROM customers WHERE id = $1", data.customer_id
                    )
                    if found is None:
                        raise NotFound(f"customer {data.customer_id} does not exist")
                row = await connection.fetchrow(
                    "INSERT INTO users (email, name, role, customer_id, password_hash,"
                    " disabled, created_at)"
                    f" VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_USER_COLUMNS}",
                    data.email,
                    data.name,
                    data.role.value,
                    data.customer_id,
                    password_hash,
                    False,
                    now,
                )
        except UniqueViolation:
            raise AlreadyExists(f"a user with email {data.email} already exists") from None
        assert row is not None
        return User.model_validate(row)

    async def get(self, user_id: int) -> User:
        async with self.database.read() as connection:
            row = await connection.fetchrow(
                f"SELECT {_USER_COLUMNS} FROM users WHERE id = $1", user_id
            )
            if row is None:
                raise NotFound(f"user {user_id} does not exist")
            return await self._with_grants(connection, row)

    async def find(self, email: str) -> User:
        async with self.database.read() as connection:
            row = await connection.fetchrow(
                f"SELECT {_USER_COLUMNS} FROM users WHERE email = $1", email.strip().lower()
            )
            if row is None:
                raise NotFound(f"no user has the email {email}")
            return await self._with_grants(connection, row)

    async def credentials(self, email: str) -> Credentials | None:
        """The user and the hash to check a password against; None for no such user."""
        async with self.database.read() as connection:
            row = await connection.fetchrow(
                f"SELECT {_USER_COLUMNS}, password_hash FROM users WHERE email = $1",
                email.strip().lower(),
            )
            if row is None:
                return None
            user = await self._with_grants(connection, row)
        return Credentials(user, row["password_hash"])

    async def list_users(self, *, customer_id: int | None = None) -> list[User]:
        async with self.database.read() as connection:
            if customer_id is None:
                rows = await connection.fetch(f"SELECT {_USER_COLUMNS} FROM users ORDER BY email")
            else:
                rows = await connection.fetch(
                    f"SELECT {_USER_COLUMNS} FROM users WHERE customer_id = $1 ORDER BY email",
                    customer_id,
                )
            # A customer's directory shows what its people hold on its own events only:
            # another customer's events are that customer's business.
            ids = [row["id"] for row in rows]
            grants = await self._grants(connection, ids, within_customer=customer_id)
        return [User.model_validate({**row, "grants": grants.get(row["id"], [])}) for row in rows]

    async def holding(self, event_id: int) -> list[User]:
        """Every user with a grant on this event, whichever customer they belong to."""
        async with self.database.read() as connection:
            rows = await connection.fetch(
                f"SELECT {_USER_COLUMNS} FROM users WHERE id IN"
                " (SELECT user_id FROM user_grants WHERE event_id = $1) ORDER BY email",
                event_id,
            )
            grants = await self._grants(connection, [row["id"] for row in rows])
        return [User.model_validate({**row, "grants": grants.get(row["id"], [])}) for row in rows]

    async def set_password(
        self, user_id: int, *, password_hash: str, replacing: str | None = None
    ) -> bool:
        """A new password also ends every refresh token issued before it, and every welcome
        link not yet spent (a link must not outlive the reason it was made: no password).
        With `replacing`, only while the stored hash is still that one; False when not.
        """
        async with self.database.write() as connection:
            await self._require(connection, user_id)
            changed = await connection.fetchval(
                "UPDATE users SET password_hash = $1, generation = generation + 1"
                " WHERE id = $2 AND (CAST($3 AS TEXT) IS NULL OR password_hash = $3) RETURNING id",
                password_hash,
                user_id,
                replacing,
            )
            if changed is not None:
                await self._forget_welcomes(connection, user_id)
        return changed is not None

    async def set_disabled(self, user_id: int, disabled: bool) -> None:
        async with self.database.write() as connection:
            await self._require(connection, user_id)
            await connection.execute(
                "UPDATE users SET disabled = $1, generation = generation + 1 WHERE id = $2",
                disabled,
                user_id,
            )
            await self._forget_welcomes(connection, user_id)

    async def _forget_welcomes(self, connection: Connection, user_id: int) -> None:
        await connection.execute(
            "DELETE FROM sign_in_links WHERE user_id = $1 AND purpose = 'welcome'"
            " AND used_at IS NULL",
            user_id,
        )

    async def delete(self, user_id: int) -> None:
        async with self.database.write() as connection:
            await self._require(connection, user_id)
            await connection.execute("DELETE FROM users WHERE id = $1", user_id)

    async def grant(self, user_id: int, grant: Grant) -> User:
        async with self.database.write() as connection:
            await self._require(connection, user_id)
            found = await connection.fetchval("SELECT id FROM events WHERE id = $1", grant.event)
            if found is None:
                raise NotFound(f"event {grant.event} does not exist", event_id=grant.event)
            try:
                await connection.execute(
                    "INSERT INTO user_grants (user_id, event_id, capability, channel, created_at)"
                    " VALUES ($1, $2, $3, $4, $5)",
                    user_id,
                    grant.event,
                    grant.can.value,
                    grant.channel or 0,
                    _now(),
                )
            except UniqueViolation:
                raise AlreadyExists(f"user {user_id} already may {grant}") from None
        return await self.get(user_id)

    async def revoke(self, user_id: int, grant: Grant) -> User:
        async with self.database.write() as connection:
            await self._require(connection, user_id)
            held = await connection.fetchval(
                "SELECT user_id FROM user_grants WHERE user_id = $1 AND event_id = $2"
                " AND capability = $3 AND channel = $4",
                user_id,
                grant.event,
                grant.can.value,
                grant.channel or 0,
            )
            if held is None:
                raise NotFound(f"user {user_id} has no grant to {grant}")
            await connection.execute(
                "DELETE FROM user_grants WHERE user_id = $1 AND event_id = $2"
                " AND capability = $3 AND channel = $4",
                user_id,
                grant.event,
                grant.can.value,
                grant.channel or 0,
            )
        return await self.get(user_id)

    async def use_refresh_token(self, user_id: int, jti: str, expires_at: datetime) -> bool:
        """Mark a refresh token used; False when it already was (a copy is being replayed).

        A replay signs the user out everywhere: its generation moves on, so every
        refresh token it holds, the thief's and the user's, stops working.
        """
        now = _now()
        try:
            async with self.database.write() as connection:
                await connection.execute(
                    "DELETE FROM used_refresh_tokens WHERE expires_at < $1", now
                )
                await connection.execute(
                    "INSERT INTO used_refresh_tokens (jti, user_id, used_at, expires_at)"
                    " VALUES ($1, $2, $3, $4)",
                    jti,
                    user_id,
                    now,
                    expires_at,
                )
        except UniqueViolation:
            async with self.database.write() as connection:
                await connection.execute(
                    "UPDATE users SET generation = generation + 1 WHERE id = $1", user_id
                )
            return False
        return True

    async def _require(self, connection: Connection, user_id: int) -> None:
        found = await connection.fetchval(
            f"SELECT id FROM users WHERE id = $1{self.database.lock_rows}", user_id
        )
        if found is None:
            raise NotFound(f"user {user_id} does not exist")

    async def _with_grants(self, connection: Connection, row: Row) -> User:
        grants = await self._grants(connection, [row["id"]])
        data = {key: row[key] for key in _USER_COLUMNS.split(", ")}
        return User.model_validate({**data, "grants": grants.get(row["id"], [])})

    async def _grants(
        self, connection: Connection, user_ids: list[int], *, within_customer: int | None = None
    ) -> dict[int, list[Grant]]:
        if not user_ids:
            return {}
        marks = ", ".join(f"${n}" for n in range(1, len(user_ids) + 1))
        within = ""
        arguments: list[int] = list(user_ids)
        if within_customer is not None:
            arguments.append(within_customer)
            within = (
                f" AND event_id IN (SELECT id FROM events WHERE customer_id = ${len(arguments)})"
            )
        rows = await connection.fetch(
            "SELECT user_id, event_id, capability, channel FROM user_grants"
            f" WHERE user_id IN ({marks}){within} ORDER BY event_id, capability, channel",
            *arguments,
        )
        grants: dict[int, list[Grant]] = {}
        for row in rows:
            grant = Grant(
                event=row["event_id"],
                can=Capability(row["capability"]),
                channel=row["channel"] or None,
            )
            grants.setdefault(row["user_id"], []).append(grant)
        return grants
