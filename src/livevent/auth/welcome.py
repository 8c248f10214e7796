"""A new manager, made in the console, chooses their own password through a one-time link.

An admin (any customer) or a manager (their own) adds a manager by email and name.
The account is made with no password at all (passwords.LINK_ONLY), and the answer
holds a welcome link (`/signin#welcome=...`, valid `invite_link_ttl`) for the one who
added them to hand over. Opening it, the new manager picks a password; the link is
spent then, and only then: a password the rules refuse leaves it working. Nobody
but the new manager ever knows the password, and only a hash of the code is kept.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from livevent.auth.accounts import Accounts
from livevent.auth.invitations import code_hash
from livevent.errors import Conflict, Unauthorized
from livevent.model import Role, User, UserCreate
from livevent.model.event import MAX_ID, Name
from livevent.model.user import MAX_PASSWORD, MIN_PASSWORD, Email
from livevent.store.links import SignInLinkStore

WELCOME = "welcome"  # the links' purpose
WELCOME_PATH = "/signin#welcome="
_CODE_BYTES = 32
# Not an event: a welcome link opens an account, not a channel.
_NO_EVENT = 0


class NewManager(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    name: Name
    customer_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="their customer (an admin's choice; a manager's own)"
    )


class Welcome(BaseModel):
    user: User
    link: str = Field(description="the one-time link where they choose their password")
    expires_at: datetime
    message: str


class WelcomeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=20, max_length=200)
    password: SecretStr = Field(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD)


class Welcomes:
    def __init__(self, accounts: Accounts, links: SignInLinkStore, *, ttl: int) -> None:
        self.accounts = accounts
        self.links = links
        self.ttl = ttl

    async def add_manager(
        self, data: NewManager, customer_id: int, *, base_url: str, actor: str
    ) -> Welcome:
        person = UserCreate(
            email=data.email,
            name=data.name,
            role=Role.MANAGER,
            customer_id=customer_id,
            password=SecretStr(secrets.token_urlsafe(32)),  # the model wants one; never kept
        )
        user = await self.accounts.create_link_only_user(person)
        await self.accounts.users.changes.note(
            user, actor=actor, change=f"added as a manager of customer {customer_id}"
        )
        return await self._welcome(user, base_url=base_url, actor=actor)

    async def renew(self, user: User, *, base_url: str, actor: str) -> Welcome:
        """A new welcome link for a manager who has not chosen a password yet; the links
        made before die (a lost link is no dead end, and only one works at a time)."""
        if user.role is not Role.MANAGER or user.disabled:
            raise Conflict(f"{user.name} is no active manager: welcome links are for managers")
        if not await self.accounts.signs_in_by_links_only(user):
            raise Conflict(f"{user.name} has chosen a password: no welcome link is needed")
        await self.links.forget(user_id=user.id, purpose=WELCOME)
        await self.accounts.users.changes.note(user, actor=actor, change="a new welcome link")
        return await self._welcome(user, base_url=base_url, actor=actor)

    async def _welcome(self, user: User, *, base_url: str, actor: str) -> Welcome:
        code = secrets.token_urlsafe(_CODE_BYTES)
        expires_at = datetime.now(UTC) + timedelta(seconds=self.ttl)
        await self.links.add(
            code_hash(code),
            user_id=user.id,
            event_id=_NO_EVENT,
            channel=0,
            created_by=actor,
            expires_at=expires_at,
            purpose=WELCOME,
        )
        return Welcome(
            user=user,
            link=f"{base_url.rstrip('/')}{WELCOME_PATH}{code}",
            expires_at=expires_at,
            message=f"{user.name} may manage customer {user.customer_id}'s events: send them"
            " this link; it works once, to choose their password.",
        )

    async def choose_password(self, request: WelcomeRequest) -> User:
        """Spend the link and set the password (already checked against the rules)."""
        refused = Unauthorized("this welcome link is not valid (used, expired or mistyped)")
        spent = await self.links.spend(code_hash(request.code), WELCOME)
        if spent is None:
            raise refused
        user = await self.accounts.users.get(spent.user_id)
        if user.disabled:
            raise refused
        # Only an account still without a password: one set since (by the CLI, say) is
        # its owner's, and whoever holds an old link must not take it over.
        password = request.password.get_secret_value()
        if not await self.accounts.choose_first_password(
            user.id, password, actor=f"user:{user.id}"
        ):
            raise refused
        return user
