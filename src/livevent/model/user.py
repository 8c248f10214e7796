"""Users, their roles and their per-event grants: validated values with no IO."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, model_validator

from livevent.model.event import MAX_EVENT_ID, MAX_ID, Name

# A practical check, not RFC 5322: one @, no spaces, a dot in the domain. The
# address is only an account name here; nothing is ever mailed to it.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024


def normalize_email(value: str) -> str:
    email = value.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise ValueError(f"{value!r} is not an email address")
    return email


Email = Annotated[str, AfterValidator(normalize_email)]


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    SPEAKER = "speaker"
    LISTENER = "listener"


class Capability(StrEnum):
    """What a grant lets its user do on one event."""

    MANAGE = "manage"  # change and run the event as its customer's manager would
    SPEAK = "speak"  # speak on the floor channel
    INTERPRET = "interpret"  # speak on one interpretation channel (`channel`)
    LISTEN = "listen"  # listen, also when the event is private


class Grant(BaseModel):
    """One thing one user may do on one event; interpreting names its channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event: int = Field(ge=1, le=MAX_EVENT_ID, description="the event's id")
    can: Capability
    channel: int | None = Field(None, ge=1, le=99, description="the channel interpreted")

    @model_validator(mode="after")
    def _channel_for_interpreters_only(self) -> Self:
        if self.can is Capability.INTERPRET and self.channel is None:
            raise ValueError("an interpret grant names its channel")
        if self.can is not Capability.INTERPRET and self.channel is not None:
            raise ValueError(f"a {self.can.value} grant names no channel")
        return self

    def __str__(self) -> str:
        where = f" channel {self.channel}" if self.channel is not None else ""
        return f"{self.can.value} event {self.event}{where}"


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    name: Name
    role: Role
    customer_id: int | None = Field(None, ge=1, le=MAX_ID)
    password: SecretStr = Field(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD)

    @model_validator(mode="after")
    def _managers_have_a_customer(self) -> Self:
        if self.role is Role.MANAGER and self.customer_id is None:
            raise ValueError("a manager belongs to a customer: give customer_id")
        return self


class User(BaseModel):
    """A stored user; the password hash never leaves the store module."""

    id: int
    email: str
    name: str
    role: Role
    customer_id: int | None
    disabled: bool = False
    generation: int = Field(0, description="grows when the password changes or access ends")
    created_at: datetime
    grants: list[Grant] = Field(default_factory=list)

    @property
    def subject(self) -> str:
        """The `sub` of this user's tokens."""
        return f"user:{self.id}"
