"""Tokens from code, with the rules of `livevent token create`: a role, the events it
names (or `"*"`), a speaker's channel, a manager's customer, and a lifetime.

    from livevent import tokens

    speaker = tokens.issue(settings, role="speaker", event=123457, channel=1, ttl="2h")
    organizer = tokens.issue(settings, role="manager", customer=3)

Signed HS256 with the deployment's `auth_secret`, for its `auth_audience` and
`auth_issuer`, as the CLI signs them. A token is a credential: never log it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from livevent.auth import Role, issuer_for, parse_duration
from livevent.errors import InvalidInput
from livevent.model.ids import parse_event_id
from livevent.settings import Settings

__all__ = ["Role", "issue", "parse_events"]

Events = int | str | Iterable[int | str] | None


def parse_events(values: Events) -> list[int] | Literal["*"]:
    """`123457`, `"123457"`, `[1, 2]` or `"*"` -> the events a token names."""
    if values is None:
        return []
    items = [values] if isinstance(values, int | str) else list(values)
    if "*" in items:
        return "*"
    events = []
    for value in items:
        event_id = parse_event_id(str(value))
        if event_id is None:
            raise InvalidInput(f"an event is an event id or *, not {value!r}")
        events.append(event_id)
    return events


def issue(
    settings: Settings,
    *,
    role: Role | str,
    event: Events = None,
    channel: int | None = None,
    customer: int | None = None,
    sub: str = "library",
    ttl: int | str = 3600,
) -> str:
    """A signed access token; InvalidInput names what is wrong (a role, an id, a lifetime)."""
    try:
        parsed_role = Role(role)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise InvalidInput(f"a role is one of {roles}, not {role!r}") from None
    seconds = parse_duration(ttl) if isinstance(ttl, str) else ttl
    if seconds <= 0:
        raise InvalidInput(f"a token lives a positive number of seconds, not {ttl!r}")
    if channel is not None and channel < 1:
        raise InvalidInput(f"channels are numbered from 1, not {channel}")
    if customer is not None and customer < 1:
        raise InvalidInput(f"a customer id is a positive integer, not {customer}")
    return issuer_for(settings).issue(
        sub=sub,
        role=parsed_role,
        ttl=seconds,
        customer=customer,
        events=parse_events(event),
        channel=channel,
    )
