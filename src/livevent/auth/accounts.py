"""Users who sign in: password logins, refresh, and the users' grants in their tokens.

A login answers the same way, after the same work, whether the email is an
account or not: an unknown email is checked against a decoy hash, counts
towards its own lockout, and gets the same message. Attempts per email are
counted before the password is checked (one atomic step on the bus), so
concurrent guesses cannot get past the limit; a success clears the count.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from livevent.auth.passwords import LINK_ONLY, decoy_hash, hash_password, verify_password
from livevent.auth.signing import issuer_for, verifier_for
from livevent.auth.tokens import TokenIssuer, TokenVerifier
from livevent.bus import Bus, keys
from livevent.errors import NotFound, TooManyAttempts, Unauthorized
from livevent.model import Grant, Role, User, UserCreate
from livevent.model.ids import parse_id
from livevent.settings import Settings
from livevent.store.users import UserStore

WRONG_CREDENTIALS = "wrong email or password"
# Whether a link's session may go on: its user still holds the grant, on an event not over.
ScopeCheck = Callable[[User, Grant], Awaitable[bool]]


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int = Field(description="seconds the access token is good for")
    refresh_expires_in: int = Field(description="seconds the refresh token is good for")


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    access_ttl: int = 900
    refresh_ttl: int = 14 * 86400
    failures_per_account: int = 5
    lockout_seconds: int = 900
    attempts_per_ip_per_minute: int = 30


def _email_key(email: str) -> str:
    # Hashed so that the bus holds no addresses.
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return keys.login_attempts(digest)


class Accounts:
    def __init__(
        self,
        *,
        users: UserStore,
        bus: Bus,
        issuer: TokenIssuer,
        verifier: TokenVerifier,
        policy: LoginPolicy | None = None,
    ) -> None:
        self.users = users
        self.bus = bus
        self.issuer = issuer
        self.verifier = verifier
        self.policy = policy or LoginPolicy()

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        users: UserStore,
        bus: Bus,
        verifier: TokenVerifier | None = None,
    ) -> Accounts:
        issuer = issuer_for(settings)
        policy = LoginPolicy(
            access_ttl=settings.access_token_ttl,
            refresh_ttl=settings.refresh_token_ttl,
            failures_per_account=settings.login_failures_per_account,
            lockout_seconds=settings.login_lockout_seconds,
            attempts_per_ip_per_minute=settings.login_attempts_per_ip_per_minute,
        )
        verifier = verifier or verifier_for(settings)
        return cls(users=users, bus=bus, issuer=issuer, verifier=verifier, policy=policy)

    # -- managing users ---------------------------------------------------------

    async def create_user(self, data: UserCreate) -> User:
        password_hash = await hash_password(data.password.get_secret_value())
        return await self.users.create(data, password_hash=password_hash)

    async def create_link_only_user(self, data: UserCreate) -> User:
        """A person who signs in with invitation links alone (no password opens it)."""
        return await self.users.create(data, password_hash=LINK_ONLY)

    async def signs_in_by_links_only(self, user: User) -> bool:
        credentials = await self.users.credentials(user.email)
        return credentials is not None and credentials.password_hash == LINK_ONLY

    async def set_password(self, user_id: int, password: str, *, actor: str = "cli") -> None:
        await self.users.set_password(user_id, password_hash=await hash_password(password))
        await self.users.changes.note(
            await self.users.get(user_id), actor=actor, change="password set"
        )

    async def choose_first_password(self, user_id: int, password: str, *, actor: str) -> bool:
        """Set a password only while the account has none (it signs in by links alone)."""
        chosen = await self.users.set_password(
            user_id, password_hash=await hash_password(password), replacing=LINK_ONLY
        )
        if chosen:
            user = await self.users.get(user_id)
            await self.users.changes.note(user, actor=actor, change="chose their password")
        return chosen

    async def find(self, email: str) -> User:
        return await self.users.find(email)

    async def list_users(self, *, customer_id: int | None = None) -> list[User]:
        return await self.users.list_users(customer_id=customer_id)

    async def set_disabled(self, user_id: int, disabled: bool, *, actor: str = "cli") -> None:
        await self.users.set_disabled(user_id, disabled)
        change = "disabled" if disabled else "enabled"
        await self.users.changes.note(await self.users.get(user_id), actor=actor, change=change)

    async def delete(self, user_id: int) -> None:
        await self.users.delete(user_id)

    async def grant(self, user_id: int, grant: Grant) -> User:
        return await self.users.grant(user_id, grant)

    async def revoke(self, user_id: int, grant: Grant) -> User:
        return await self.users.revoke(user_id, grant)

    # -- signing in ---------------------------------------------------------------

    async def login(self, email: str, password: str, *, address: str = "-") -> TokenPair:
        await self._limit_address(address)
        key = _email_key(email)
        attempts = await self.bus.incr_window(key, self.policy.lockout_seconds)
        if attempts > self.policy.failures_per_account:
            retry_after = await self.bus.ttl(key) or self.policy.lockout_seconds
            raise TooManyAttempts(
                "too many failed logins for this email: try again later",
                retry_after=max(1, int(retry_after)),
            )
        credentials = await self.users.credentials(email)
        # No account, or one no password opens: the same work, so timing tells nothing.
        usable = credentials is not None and credentials.password_hash != LINK_ONLY
        password_hash = credentials.password_hash if usable and credentials else decoy_hash()
        matches = await verify_password(password_hash, password)
        if credentials is None or not matches or credentials.user.disabled:
            raise Unauthorized(WRONG_CREDENTIALS)
        await self.bus.delete(key)
        return self.tokens_for(credentials.user)

    async def refresh(
        self, refresh_token: str, *, scope_alive: ScopeCheck | None = None
    ) -> TokenPair:
        """A new pair for a good refresh token of a user who still may sign in.

        A link's session (`scope`) stays that narrow, and ends with its grant:
        `scope_alive` says whether it still stands (without it, it never does).
        """
        claims = self.verifier.verify(refresh_token, expect="refresh")
        prefix, _, raw_id = claims.sub.partition(":")
        user_id = parse_id(raw_id)
        if prefix != "user" or user_id is None:
            raise Unauthorized("this refresh token does not belong to a user")
        try:
            user = await self.users.get(user_id)
        except NotFound:
            raise Unauthorized("the user of this refresh token no longer exists") from None
        if user.disabled:
            raise Unauthorized("this user is disabled")
        if claims.gen != user.generation:
            raise Unauthorized("this refresh token was revoked (password or access changed)")
        # Rotation with reuse detection (OAuth 2.0 Security BCP): each refresh token
        # works once; a second use means a copy, and signs the user out everywhere.
        expires = datetime.fromtimestamp(claims.exp, UTC)
        if claims.scope is not None and (
            scope_alive is None or not await scope_alive(user, claims.scope)
        ):
            raise Unauthorized("the invitation this session came from has ended")
        if not await self.users.use_refresh_token(user.id, claims.jti, expires):
            raise Unauthorized("this refresh token was already used: sign in again")
        return self.tokens_for(user, scope=claims.scope)

    def tokens_for(self, user: User, *, scope: Grant | None = None) -> TokenPair:
        """An access token with the user's grants, and a refresh token.

        With `scope`, both carry that one grant instead, as a speaker: a sign-in
        link opens what its invitation granted, never the account behind it.
        """
        role = Role.SPEAKER if scope is not None else user.role
        access = self.issuer.issue(
            sub=user.subject,
            role=role,
            ttl=self.policy.access_ttl,
            customer=user.customer_id,
            grants=[scope] if scope is not None else user.grants,
            scope=scope,
        )
        refresh = self.issuer.issue(
            sub=user.subject,
            role=role,
            ttl=self.policy.refresh_ttl,
            typ="refresh",
            generation=user.generation,
            scope=scope,
        )
        return TokenPair(
            access_token=access,
            refresh_token=refresh,
            expires_in=self.policy.access_ttl,
            refresh_expires_in=self.policy.refresh_ttl,
        )

    async def _limit_address(self, address: str) -> None:
        per_minute = self.policy.attempts_per_ip_per_minute
        if per_minute <= 0:
            return
        key = keys.rate_ip(address) + ":login"
        if await self.bus.incr_window(key, 60) > per_minute:
            retry_after = await self.bus.ttl(key) or 60
            raise TooManyAttempts(
                f"more than {per_minute} logins a minute from your address",
                retry_after=max(1, int(retry_after)),
            )
