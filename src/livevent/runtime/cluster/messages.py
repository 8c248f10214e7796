"""The messages instances send each other on the bus, typed both ways like the sockets'.

On an event's booth channel (`live_booth`): a relay's `BoothCommand` for a speaker it
serves, the owner's `BoothState` of a channel after each change (and as the answer
to a command), and a new owner's `Resync`. One model writes each message and reads
it back; anything else on the channel is dropped, named in the log. Each instance's
`Heartbeat` (`instance:{name}:alive`) says it is alive, where it serves, and what
its spool holds.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError


class _BusMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=True)


class BoothCommand(_BusMessage):
    """A relay asks the owner: a speaker enters (active, or `standby`), hands over,
    mutes (`on`) or leaves. `request` names the command the owner's state answers."""

    op: Literal["enter", "handover", "mute", "leave"]
    language: str = Field(max_length=35)
    speaker: str = Field(max_length=64)
    request: str | None = Field(None, max_length=64)
    standby: bool = False
    resume: bool = False  # entering again after an owner changed: back to its place
    on: bool = False
    who: str | None = Field(None, max_length=200)  # the speaker's subject, for the console
    # Where the speaker is connected, so the owner frees their place if that instance
    # dies; and which token they came with, so the same token coming back takes it.
    instance: str | None = Field(None, max_length=200)
    token: str | None = Field(None, max_length=200)


class BoothState(_BusMessage):
    """The owner says who is active on a channel and whether it is muted."""

    op: Literal["state"] = "state"
    language: str = Field(max_length=35)
    active: str | None = None
    muted: bool = False
    request: str | None = Field(None, max_length=64)
    ok: bool = True
    # Where the active speaker is connected and the id of the token they came with: a
    # relay that takes the event over keeps their place for that token alone.
    instance: str | None = Field(None, max_length=200)
    token: str | None = Field(None, max_length=200)


class Resync(_BusMessage):
    """A new owner: every relay's speakers enter its booths again."""

    op: Literal["resync"] = "resync"


BoothMessage = Annotated[BoothCommand | BoothState | Resync, Field(discriminator="op")]
_booth_messages: TypeAdapter[BoothCommand | BoothState | Resync] = TypeAdapter(BoothMessage)


def read_booth_message(data: str | bytes) -> BoothCommand | BoothState | Resync:
    """The message, or ValueError saying why it is none of ours."""
    try:
        return _booth_messages.validate_json(data)
    except ValidationError as error:
        raise ValueError(f"not a booth message: {error.error_count()} problem(s)") from None


class Heartbeat(_BusMessage):
    """An instance is alive: where it serves, its events (and its role in each), its spool."""

    model_config = ConfigDict(extra="ignore", frozen=True)  # a newer instance may say more

    instance: str
    address: str | None = None
    peer: str | None = None  # where the others reach it directly (cluster/line.py)
    events: dict[str, str] = Field(default_factory=dict)
    spool: int = 0

    @classmethod
    def read(cls, data: str | bytes | None) -> Heartbeat | None:
        """The heartbeat, or None when there is none or it is unreadable."""
        if not data:
            return None
        try:
            return cls.model_validate_json(data)
        except ValidationError:
            return None
