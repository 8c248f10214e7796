"""Who an invitation is for: an existing user of the event's customer, or a new person
it creates (under the customer's hourly cap on new people)."""

from __future__ import annotations

import secrets

from pydantic import SecretStr

from livevent.auth.accounts import Accounts
from livevent.auth.caps import InvitationCaps, new_people_cap
from livevent.errors import Conflict, Forbidden, InvalidInput, NotFound
from livevent.model import Event, Role, User, UserCreate


async def find_invitee(
    accounts: Accounts,
    caps: InvitationCaps,
    event: Event,
    *,
    user_id: int | None,
    email: str | None,
    name: str | None,
) -> tuple[User, bool]:
    """The person invited, and whether this invitation created them."""
    if user_id is not None:
        try:
            user: User | None = await accounts.users.get(user_id)
        except NotFound:
            user = None
        # Another customer's user is as unknown here as one that does not exist.
        if user is None or user.customer_id != event.customer_id:
            raise NotFound(f"customer {event.customer_id} has no user {user_id}")
        return _invitable(user), False
    assert email is not None
    try:
        user = await accounts.find(email)
    except NotFound:
        return await _create(accounts, caps, event, email, name), True
    if user.customer_id != event.customer_id:
        raise Conflict(
            "this email belongs to an account another customer holds: use another",
            fields=["email"],
        )
    return _invitable(user), False


async def _create(
    accounts: Accounts, caps: InvitationCaps, event: Event, email: str, name: str | None
) -> User:
    if name is None:
        raise InvalidInput("a new person needs a name", fields=["name"])
    cap = new_people_cap(caps, event.customer_id)
    await cap.check(accounts.bus)
    # Invited people sign in with links; the password door stays shut until an
    # admin sets one (`livevent user password`).
    data = UserCreate(
        email=email,
        name=name,
        role=Role.SPEAKER,
        customer_id=event.customer_id,
        password=SecretStr(secrets.token_urlsafe(32)),  # the model wants one; never kept
    )
    user = await accounts.create_link_only_user(data)
    await cap.count(accounts.bus)
    return user


def _invitable(user: User) -> User:
    if user.role in (Role.ADMIN, Role.MANAGER):
        raise InvalidInput(
            f"{user.email} is a {user.role.value}: invite speakers and interpreters",
            fields=["user_id"],
        )
    if user.disabled:
        raise Forbidden(f"user {user.id} is disabled")
    return user
