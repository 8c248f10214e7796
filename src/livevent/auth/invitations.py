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
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from livevent.auth.accounts import Accounts, TokenPair
from livevent.auth.caps import InvitationCaps, invitation_caps
from livevent.auth.grants import add_grant
from livevent.auth.invitees import find_invitee
from livevent.auth.mail import Mailer
from livevent.errors import (
    AlreadyExists,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthorized,
    Unavailable,
)
from livevent.model import Capability, ChannelKind, Event, Grant, User
from livevent.model.event import MAX_ID, Name
from livevent.model.user import Email
from livevent.settings import Settings
from livevent.store import EventStore

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


Delivery = Literal["link", "mail", "account"]


class Invitation(BaseModel):
    user: User
    grant: Grant
    delivery: Delivery = Field(
        description="link: `link` is for the inviter to hand over (a new person);"
        " mail: it went to the person's address; account: they already have an account"
        " and sign in with it, no link is made"
    )
    link: str | None = Field(None, description="the one-time sign-in link (delivery: link)")
    sent_to: str | None = Field(None, description="where the link was mailed (delivery: mail)")
    expires_at: datetime | None = Field(None, description="when an unused link stops working")
    message: str = Field(description="what happened, in words for the console")


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
    """Invite people to an event's channels, and spend the links that sign them in."""

    def __init__(
        self,
        accounts: Accounts,
        store: EventStore,
        *,
        ttl: int,
        mailer: Mailer | None = None,
        caps: InvitationCaps | None = None,
        public_url: str | None = None,
    ) -> None:
        self.accounts = accounts
        self.store = store
        self.links = store.links
        self.ttl = ttl
        self.mailer = mailer
        self.caps = caps or InvitationCaps()
        # Mail leaves the server: its links name the configured address, never a Host
        # header the inviter chose.
        self.public_url = public_url

    @classmethod
    def from_settings(cls, settings: Settings, accounts: Accounts, store: EventStore) -> Self:
        caps = InvitationCaps(
            invitations_per_hour=settings.invitations_per_customer_per_hour,
            new_people_per_hour=settings.new_people_per_customer_per_hour,
            per_delegate_per_hour=settings.invitations_per_delegate_per_hour,
        )
        mailer = Mailer.from_settings(settings)
        return cls(
            accounts,
            store,
            ttl=settings.invite_link_ttl,
            mailer=mailer,
            caps=caps,
            public_url=settings.public_url,
        )

    async def invite(
        self,
        event: Event,
        request: InvitationRequest,
        *,
        base_url: str,
        actor: str,
        delegate: str | None = None,
    ) -> Invitation:
        """Invite someone; `delegate` names the caller when they hold only this event's
        `manage` grant (not the customer's manager nor an admin): they invite by email,
        under a cap of their own. Only invitations made are counted."""
        if event.status.is_final:
            raise Conflict(f"event {event.id} is {event.status.value}: nobody can speak at it now")
        if delegate is not None and request.user_id is not None:
            raise Forbidden(
                "invite by email: the customer's directory of people is its managers' only",
                fields=["user_id"],
            )
        grant = grant_for(event, request.channel)
        caps = invitation_caps(self.caps, event.customer_id, delegate)
        for cap in caps:
            await cap.check(self.accounts.bus)
        invitation = await self._invite(event, request, grant, base_url=base_url, actor=actor)
        for cap in caps:
            await cap.count(self.accounts.bus)
        return invitation

    async def _invite(
        self, event: Event, request: InvitationRequest, grant: Grant, *, base_url: str, actor: str
    ) -> Invitation:
        user, created = await find_invitee(
            self.accounts, self.caps, event,
            user_id=request.user_id, email=request.email, name=request.name,
        )  # fmt: skip
        # A person invitations made signs in with links only: asked again, they get a new
        # one (a lost link is no dead end), and the links not yet spent die.
        by_link = created or await self.accounts.signs_in_by_links_only(user)
        again = by_link and grant in user.grants
        if grant in user.grants and not by_link:
            raise AlreadyExists(
                f"{user.name} already may {_doing(grant)} and signs in with their own"
                " password: no link is needed"
            )
        if again:
            await self.links.forget(user_id=user.id, event_id=event.id)
        else:
            user = await add_grant(self.accounts, self.store, user, grant, actor=actor)
        try:
            invitation = await self._deliver(
                event, user, grant, request.channel, by_link=by_link, base_url=base_url, actor=actor
            )
        except Exception:
            if not again:
                await self.accounts.revoke(user.id, grant)  # not invited: nothing half-done
            raise
        change = f"{'a new link for' if again else 'invited'} user {user.id} <{user.email}>"
        await self.store.annotate(event.id, actor=actor, change=f"{change} to {grant}")
        if again:
            invitation.message += " The link made before no longer works."
        # What the person holds elsewhere is not the inviter's to see: the grant made only.
        invitation.user = invitation.user.model_copy(update={"grants": [grant]})
        return invitation

    async def _deliver(
        self,
        event: Event,
        user: User,
        grant: Grant,
        channel: int,
        *,
        by_link: bool,
        base_url: str,
        actor: str,
    ) -> Invitation:
        if self.mailer is not None:
            return await self._mail(event, user, grant, channel, base_url=base_url, actor=actor)
        if not by_link:
            # A link would sign its holder in as this person: the inviter gets none.
            return Invitation(
                user=user,
                grant=grant,
                delivery="account",
                message=f"{user.name} already has an account: they may now {_doing(grant)}"
                " and sign in as they usually do.",
            )
        link, expires_at = await self._link(user, grant, channel, base_url=base_url, actor=actor)
        return Invitation(
            user=user,
            grant=grant,
            delivery="link",
            link=link,
            expires_at=expires_at,
            message=f"{user.name} is invited: send them this link; it signs them in once.",
        )

    async def sign_in(self, code: str) -> LinkSignIn:
        """Spend a link: a session for what it granted, and where to go.

        One message for every refusal, so a guesser learns nothing: unknown, spent,
        expired, or its grant gone (removed, cancelled, ended, deleted).
        """
        spent = await self.links.spend(code_hash(code))
        refused = Unauthorized("this sign-in link is not valid (used, expired or mistyped)")
        if spent is None:
            raise refused
        try:
            user = await self.accounts.users.get(spent.user_id)
            event = await self.store.get_event(spent.event_id)
            grant = grant_for(event, spent.channel)
        except (NotFound, InvalidInput):
            raise refused from None
        if user.disabled or not await self.grant_stands(user, grant):
            raise refused
        pair = self.accounts.tokens_for(user, scope=grant)
        return LinkSignIn(**pair.model_dump(), next=f"/speak/{spent.event_id}/{spent.channel}")

    async def grant_stands(self, user: User, grant: Grant) -> bool:
        """Whether a link's session may go on: the grant still held, its event not over."""
        if grant not in user.grants:
            return False
        try:
            event = await self.store.get_event(grant.event)
        except NotFound:
            return False
        return not event.status.is_final

    async def remove(self, event: Event, user: User, *, actor: str) -> None:
        """Take back everything `user` holds on `event`, and the links not yet spent."""
        granted = [g for g in user.grants if g.event == event.id]
        for grant in granted:
            await self.accounts.revoke(user.id, grant)
        await self.links.forget(user_id=user.id, event_id=event.id)
        taken = ", ".join(str(g) for g in granted)
        await self.store.annotate(
            event.id, actor=actor, change=f"removed user {user.id} <{user.email}>: {taken}"
        )

    async def _link(
        self, user: User, grant: Grant, channel: int, *, base_url: str, actor: str
    ) -> tuple[str, datetime]:
        code = secrets.token_urlsafe(_CODE_BYTES)
        expires_at = datetime.now(UTC) + timedelta(seconds=self.ttl)
        await self.links.add(
            code_hash(code),
            user_id=user.id,
            event_id=grant.event,
            channel=channel,
            created_by=actor,
            expires_at=expires_at,
        )
        return f"{base_url.rstrip('/')}{SIGN_IN_PATH}#code={code}", expires_at

    async def _mail(
        self, event: Event, user: User, grant: Grant, channel: int, *, base_url: str, actor: str
    ) -> Invitation:
        assert self.mailer is not None
        if self.public_url is None:
            raise Unavailable(
                "invitations are mailed with links to public_url, and it is not set:"
                " set public_url (LIVEVENT_PUBLIC_URL)"
            )
        base_url = self.public_url
        link, expires_at = await self._link(user, grant, channel, base_url=base_url, actor=actor)
        body = (
            f'Hello {user.name},\n\nyou are invited to {_doing(grant)} at "{event.name}"'
            f" ({event.starts_at:%Y-%m-%d %H:%M} UTC).\n\nThis link signs you in for that,"
            f" once, until {expires_at:%Y-%m-%d %H:%M} UTC:\n\n{link}\n\n"
            "If you did not expect this, ignore it.\n"
        )
        try:
            await self.mailer.send(user.email, f"Your invitation: {event.name}", body)
        except Exception:
            await self.links.discard(code_hash(link.rpartition("#code=")[2]))
            raise
        return Invitation(
            user=user,
            grant=grant,
            delivery="mail",
            sent_to=user.email,
            expires_at=expires_at,
            message=f"{user.name} is invited: a sign-in link went to {user.email}.",
        )


def _doing(grant: Grant) -> str:
    if grant.can is Capability.INTERPRET:
        return f"interpret on channel {grant.channel}"
    return "speak on the floor"
