"""Giving a user a grant on an event, with the rule that keeps customers apart.

A user of one customer gets a grant on another customer's event only when an
admin asks for exactly that (`across_customers`), and that is written in the
event's history. The event's customer then sees the person among its people and
can remove them (api/people.py).
"""

from __future__ import annotations

from livevent.auth.accounts import Accounts
from livevent.errors import Forbidden
from livevent.model import Grant, User
from livevent.store import EventStore


async def add_grant(
    accounts: Accounts,
    store: EventStore,
    user: User,
    grant: Grant,
    *,
    actor: str,
    across_customers: bool = False,
) -> User:
    """`user` with `grant` added; Forbidden for another customer's event unless asked."""
    event = await store.get_event(grant.event)
    foreign = user.customer_id is not None and user.customer_id != event.customer_id
    if foreign and not across_customers:
        raise Forbidden(
            f"user {user.email} belongs to customer {user.customer_id} and event {event.id}"
            f" to customer {event.customer_id}: an admin grants across customers explicitly"
        )
    granted = await accounts.grant(user.id, grant)
    if foreign:
        await store.annotate(
            event.id,
            actor=actor,
            change=f"granted user {user.id} <{user.email}> of customer {user.customer_id}"
            f" across customers: {grant}",
        )
    return granted
