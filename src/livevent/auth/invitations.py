"""Inviting a speaker or interpreter to one event and channel, with a one-time sign-in link.

An invitation picks (or creates) a user of the event's customer, grants it the
floor or one interpretation channel, and hands back a link whose code works once,
until it expires (`invite_link_ttl`, a week by default). The code travels in the
link's fragment (`/signin#code=...`): browsers never send a fragment to a server,
so it stays out of access logs, proxies and link previewers, and only the hash
of the code is stored. docs/security.md says why a link and not a long token.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from livevent.auth.accounts import Accounts, TokenPair
from livevent.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from livevent.model import Capability, ChannelKind, Event, Grant, Role, User, UserCreate
from livevent.model.event import MAX_ID, Name
from livevent.model.user import Email
from livevent.store.links import SignInLinkStore

SIGN_IN_PATH = "/signin"
# 32 random bytes: guessing a live code is out of reach, whatever the rate limits.
_CODE_BYTES = 32


class InvitationRequest(BaseModel):
    """Who to invite (an existing user, or an email and name for a new one) and where."""

    model_config = ConfigDict(extra="forbid")

    channel: int = Field(ge=1, le=99, description="the channel they will speak on")
    user_id: int | None = Field(None, ge=1, le=MAX_ID, description="an existing user")
    email: Email | None = Field(None, description="a new (or existing) user's email")
    name: Name | None = Field(None, description="a new user's name")

    @model_validator(mode="after")
    def _one_person(self) -> Self:
        if (self.user_id is None) == (self.email is None):
            raise ValueError("give either user_id or email (and name), not both")
        return self


class Invitation(BaseModel):
    user: User
    grant: Grant
    link: str = Field(description="the one-time sign-in link to hand to the person")
    expires_at: datetime


class LinkSignIn(TokenPair):
    next: str = Field(description="the page the link leads to (the speak page)")


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def grant_for(event: Event, channel_number: int) -> Grant:
    channel = event.channel(channel_number)
    if channel is None:
        raise InvalidInput(f"event {event.id} has no channel {channel_number}", fields=["channel"])
    if channel.kind is ChannelKind.FLOOR:
        return Grant(event=event.id, can=Capability.SPEAK)
    if channel.kind is ChannelKind.MACHINE:
        raise InvalidInput(
            f"channel {channel_number} is a machine channel: nobody speaks on it",
            fields=["channel"],
        )
    return Grant(event=event.id, can=Capability.INTERPRET, channel=channel_number)


class Invitations:
    def __init__(self, accounts: Accounts, links: SignInLinkStore, *, ttl: int) -> None:
        self.accounts = accounts
        self.links = links
        self.ttl = ttl

    async def invite(
        self, event: Event, request: InvitationRequest, *, base_url: str, actor: str
    ) -> Invitation:
        if event.status.is_final:
            raise Conflict(f"event {event.id} is {event.status.value}: nobody can speak at it now")
        grant = grant_for(event, request.channel)
        user = await self._person(event, request)
        user = await self.accounts.grant(user.id, grant)
        code = secrets.token_urlsafe(_CODE_BYTES)
        expires_at = datetime.now(UTC) + timedelta(seconds=self.ttl)
        await self.links.add(
            code_hash(code),
            user_id=user.id,
            event_id=event.id,
            channel=request.channel,
            created_by=actor,
            expires_at=expires_at,
        )
        link = f"{base_url.rstrip('/')}{SIGN_IN_PATH}#code={code}"
        return Invitation(user=user, grant=grant, link=link, expires_at=expires_at)

    async def sign_in(self, code: str) -> LinkSignIn:
        """Spend a link: tokens for its user, and where to go. One message for every refusal."""
        spent = await self.links.spend(code_hash(code))
        refused = Unauthorized("this sign-in link is not valid (used, expired or mistyped)")
        if spent is None:
            raise refused
        try:
            user = await self.accounts.users.get(spent.user_id)
        except NotFound:
            raise refused from None
        if user.disabled:
            raise refused
        pair = self.accounts.tokens_for(user)
        return LinkSignIn(**pair.model_dump(), next=f"/speak/{spent.event_id}/{spent.channel}")

    async def _person(self, event: Event, request: InvitationRequest) -> User:
        if request.user_id is not None:
            try:
                user = await self.accounts.users.get(request.user_id)
            except NotFound:
                user = None
            # Another customer's user is as unknown here as one that does not exist.
            if user is None or user.customer_id != event.customer_id:
                raise NotFound(f"customer {event.customer_id} has no user {request.user_id}")
            return self._invitable(user)
        assert request.email is not None
        try:
            user = await self.accounts.find(request.email)
        except NotFound:
            return await self._create(event, request)
        if user.customer_id != event.customer_id:
            raise Conflict(
                "this email belongs to an account another customer holds: use another",
                fields=["email"],
            )
        return self._invitable(user)

    async def _create(self, event: Event, request: InvitationRequest) -> User:
        if request.name is None:
            raise InvalidInput("a new person needs a name", fields=["name"])
        assert request.email is not None
        # Invited people sign in with links; a password nobody knows keeps the
        # password door shut until an admin sets one (`livevent user password`).
        data = UserCreate(
            email=request.email,
            name=request.name,
            role=Role.SPEAKER,
            customer_id=event.customer_id,
            password=SecretStr(secrets.token_urlsafe(32)),
        )
        return await self.accounts.create_user(data)

    @staticmethod
    def _invitable(user: User) -> User:
        if user.role in (Role.ADMIN, Role.MANAGER):
            raise InvalidInput(
                f"{user.email} is a {user.role.value}: invite speakers and interpreters",
                fields=["user_id"],
            )
        if user.disabled:
            raise Forbidden(f"user {user.id} is disabled")
        return user
