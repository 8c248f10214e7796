"""Hourly caps on what invitations do: counted on the bus once a thing is done, so a
refused request (a typo, a 404, a 409) costs nobody a place."""

from __future__ import annotations

from dataclasses import dataclass

from livevent.bus import Bus, keys
from livevent.errors import TooManyAttempts

HOUR = 3600


@dataclass(frozen=True, slots=True)
class InvitationCaps:
    """Per customer and hour: invitations sent, and people they create (a password hash each)."""

    invitations_per_hour: int = 200
    new_people_per_hour: int = 50
    # One person given one event to run is not the whole customer: their own, smaller cap.
    per_delegate_per_hour: int = 30


@dataclass(frozen=True, slots=True)
class HourlyCap:
    """One counter with its cap (0: none) and what a refusal says."""

    key: str
    cap: int
    refusal: str

    async def check(self, bus: Bus) -> None:
        """TooManyAttempts when the hour already holds `cap`."""
        if self.cap <= 0:
            return
        if int(await bus.get(self.key) or 0) >= self.cap:
            retry_after = await bus.ttl(self.key) or HOUR
            raise TooManyAttempts(self.refusal, retry_after=max(1, int(retry_after)))

    async def count(self, bus: Bus) -> None:
        if self.cap > 0:
            await bus.incr_window(self.key, HOUR)


def invitation_caps(
    caps: InvitationCaps, customer_id: int, delegate: str | None
) -> list[HourlyCap]:
    """The caps an invitation counts against: its customer's, and a delegate's own."""
    found = [
        HourlyCap(
            keys.rate_customer(customer_id, "invitations"),
            caps.invitations_per_hour,
            f"this customer has reached its {caps.invitations_per_hour} invitations an hour",
        )
    ]
    if delegate is not None:
        found.append(
            HourlyCap(
                keys.rate_delegate(delegate, "invitations"),
                caps.per_delegate_per_hour,
                f"you have reached your {caps.per_delegate_per_hour} invitations an hour",
            )
        )
    return found


def new_people_cap(caps: InvitationCaps, customer_id: int) -> HourlyCap:
    return HourlyCap(
        keys.rate_customer(customer_id, "new-people"),
        caps.new_people_per_hour,
        f"this customer has reached its {caps.new_people_per_hour} new people an hour",
    )
