"""Events: validated values with no IO (their channels: channel.py)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from livevent.model.channel import (
    INTERPRETATION_HELP,
    Channel,
    ChannelKind,
    ChannelSpec,
    Interpretation,
    build_channels,
)
from livevent.model.customer import Customer
from livevent.model.language import LanguageTag
from livevent.model.status import EventStatus

# Event ids are shown to people and typed into URLs; keep them within what
# JavaScript numbers hold exactly so web pages never round them.
MAX_EVENT_ID = 2**53 - 1
# Every other integer that reaches the store stays within what both databases hold.
MAX_ID = 2**53 - 1

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (expected an IANA name such as Europe/Madrid)"
        ) from None
    return name


TimeZoneName = Annotated[str, AfterValidator(_check_timezone)]

# Far enough from datetime's year 1 and 9999 that no offset or time zone
# can push a moment out of range when it is converted.
_FIRST_YEAR, _LAST_YEAR = 1900, 9000
_NUMBER = re.compile(r"\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*")


def _check_moment(value: datetime) -> datetime:
    if not _FIRST_YEAR <= value.year <= _LAST_YEAR:
        raise ValueError(f"a date must fall between the years {_FIRST_YEAR} and {_LAST_YEAR}")
    return value


def _no_timestamps(value: object) -> object:
    # pydantic would read 0.5 or "1700000000" as seconds since 1970; a moment is ISO 8601.
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("a date and time is ISO 8601 text, such as 2026-12-01T10:00:00+01:00")
    return value


Moment = Annotated[datetime, BeforeValidator(_no_timestamps), AfterValidator(_check_moment)]


class GlossaryEntry(BaseModel):
    """A term the translation must not get wrong: kept as it is, or translated a fixed way."""

    model_config = ConfigDict(extra="forbid")

    term: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    translations: dict[LanguageTag, str] = Field(
        default_factory=dict,
        description="language -> fixed translation; a language left out keeps the term as is",
    )


class EventFields(BaseModel):
    """The mutable fields of an event, checked together.

    A start without an offset is read in the event's time zone.
    """

    model_config = ConfigDict(extra="forbid")

    name: Name
    starts_at: Moment = Field(description="start; without an offset it is read in `timezone`")
    ends_at: Moment | None = Field(None, description="planned end, after the start")
    timezone: TimeZoneName = Field("UTC", description="IANA time zone the event is shown in")
    source_language: LanguageTag = Field(description="original language spoken on the floor")
    channels: list[Channel] = Field(default_factory=list)
    max_listeners: int | None = Field(
        None, ge=1, le=1_000_000, description="listener cap, below the customer's"
    )
    public: bool = Field(True, description="listeners need no token to join")
    glossary: list[GlossaryEntry] = Field(
        default_factory=list, max_length=500, description="terms machine channels keep or fix"
    )
    interpretation: Interpretation | None = Field(
        None, description=INTERPRETATION_HELP + "; the deployment's setting when absent"
    )
    broadcast: bool = Field(
        True, description="its channels also go out as HLS (where the server broadcasts: hls)"
    )

    @model_validator(mode="after")
    def _localize_and_check(self) -> Self:
        zone = ZoneInfo(self.timezone)
        if self.starts_at.tzinfo is None:
            self.starts_at = self.starts_at.replace(tzinfo=zone)
        if self.ends_at is not None and self.ends_at.tzinfo is None:
            self.ends_at = self.ends_at.replace(tzinfo=zone)
        if self.ends_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("the event must end after it starts")
        return self


class EventCreate(BaseModel):
    """What a manager gives to create an event."""

    model_config = ConfigDict(extra="forbid")

    id: int | None = Field(None, ge=1, le=MAX_EVENT_ID, description="chosen id; random when absent")
    customer_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="owning customer; the default one when absent"
    )
    name: Name
    starts_at: Moment
    ends_at: Moment | None = None
    timezone: TimeZoneName = "UTC"
    source_language: LanguageTag
    channels: list[ChannelSpec] = Field(default_factory=list)
    max_listeners: int | None = Field(None, ge=1, le=1_000_000)
    public: bool = True
    glossary: list[GlossaryEntry] = Field(default_factory=list, max_length=500)
    interpretation: Interpretation | None = None
    broadcast: bool = True

    def fields(self) -> EventFields:
        """The stored fields this request produces, validated together."""
        return EventFields(
            name=self.name,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            timezone=self.timezone,
            source_language=self.source_language,
            channels=build_channels(self.source_language, self.channels),
            max_listeners=self.max_listeners,
            public=self.public,
            glossary=self.glossary,
            interpretation=self.interpretation,
            broadcast=self.broadcast,
        )


class EventCopy(BaseModel):
    """A new DRAFT like an existing event: its channels, glossary, limits and settings."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = Field(None, description="the copy's name; the original's + (copy)")
    starts_at: Moment | None = Field(
        None, description="the copy's start (its planned end moves with it); the original's"
    )

    def create(self, event: Event) -> EventCreate:
        """The request that creates the copy of `event`."""
        shift = self.starts_at - event.starts_at if self.starts_at is not None else None
        ends_at = event.ends_at + shift if event.ends_at and shift is not None else event.ends_at
        return EventCreate(
            customer_id=event.customer_id,
            name=self.name or f"{event.name} (copy)"[:200],
            starts_at=self.starts_at or event.starts_at,
            ends_at=ends_at,
            timezone=event.timezone,
            source_language=event.source_language,
            channels=[ChannelSpec(**c.model_dump()) for c in event.channels],
            max_listeners=event.max_listeners,
            public=event.public,
            glossary=event.glossary,
            interpretation=event.interpretation,
            broadcast=event.broadcast,
        )


class EventPatch(BaseModel):
    """A partial update: only the fields present change."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    starts_at: Moment | None = None
    ends_at: Moment | None = None
    timezone: TimeZoneName | None = None
    source_language: LanguageTag | None = None
    channels: list[ChannelSpec] | None = None
    max_listeners: int | None = Field(None, ge=1, le=1_000_000)
    public: bool | None = None
    glossary: list[GlossaryEntry] | None = Field(None, max_length=500)
    interpretation: Interpretation | None = None
    broadcast: bool | None = None

    def apply(self, event: Event) -> EventFields:
        """The event's fields after this patch, validated as a whole."""
        changes = {name: getattr(self, name) for name in self.model_fields_set}
        nullable = {"ends_at", "max_listeners", "interpretation"}
        for name, value in list(changes.items()):
            if value is None and name not in nullable:
                raise ValueError(f"{name} cannot be removed")
        current = event.fields().model_dump()
        merged = {**current, **{k: v for k, v in changes.items() if k != "channels"}}
        if "channels" in changes:
            specs: list[Any] = changes["channels"]
        else:
            # The floor channel follows the original language when that changes.
            source = merged["source_language"]
            specs = [
                c.model_copy(update={"language": source}) if c.kind is ChannelKind.FLOOR else c
                for c in event.channels
            ]
        merged["channels"] = build_channels(
            merged["source_language"], specs, previous=event.channels
        )
        if "timezone" in changes and "starts_at" not in changes:
            merged["starts_at"] = event.starts_at
        return EventFields(**merged)


def live_change_problem(event: Event, fields: EventFields) -> str | None:
    """Why a LIVE event cannot take these fields, or None.

    Listeners are on its channels: a channel may be added or relabelled, but not
    removed or turned into another language or kind, and the floor stays put.
    """
    if fields.source_language != event.source_language:
        return "the original language of a live event cannot change"
    new = {channel.number: channel for channel in fields.channels}
    for channel in event.channels:
        kept = new.get(channel.number)
        if kept is None:
            return f"channel {channel.number} ({channel.language}) cannot be removed while live"
        if (kept.language, kept.kind) != (channel.language, channel.kind):
            return f"channel {channel.number} cannot change language or kind while live"
    return None


class Event(EventFields):
    """An event as stored: the configuration the live runtime runs."""

    model_config = ConfigDict(extra="ignore")

    id: int
    customer_id: int
    status: EventStatus
    version: int = Field(ge=1, description="grows by one at every change")
    created_at: datetime
    updated_at: datetime

    def fields(self) -> EventFields:
        return EventFields(**self.model_dump(include=set(EventFields.model_fields)))

    def channel(self, key: int | str) -> Channel | None:
        """The channel with this number or language tag."""
        for channel in self.channels:
            if channel.number == key or channel.language == key:
                return channel
        return None

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(ZoneInfo(self.timezone))


class EventPage(BaseModel):
    """One page of a filtered event list."""

    items: list[Event]
    total: int = Field(description="events matching the filter, over all pages")
    limit: int
    offset: int


class EventFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    statuses: list[EventStatus] = Field(default_factory=list)
    customer_id: int | None = Field(None, ge=1, le=MAX_ID)
    starts_from: Moment | None = None
    starts_before: Moment | None = None
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000_000)


class Limits(BaseModel):
    max_listeners: int = Field(
        description="listeners the event admits: its own cap or its customer's"
    )
    max_live_events: int = Field(description="the customer's concurrent LIVE events")


class EventConfig(Event):
    """What the live runtime needs to run an event: the event, its languages and its limits."""

    languages: list[str] = Field(description="the original language first, then the others")
    limits: Limits

    def moved(self, event: Event) -> EventConfig:
        """This config after a status move: the event as it is now, the same limits."""
        return EventConfig(**event.model_dump(), languages=self.languages, limits=self.limits)

    @classmethod
    def of(cls, event: Event, customer: Customer) -> EventConfig:
        caps = [customer.max_listeners_per_event]
        if event.max_listeners is not None:
            caps.append(event.max_listeners)
        languages = [event.source_language] + [
            c.language for c in event.channels if c.language != event.source_language
        ]
        return cls(
            **event.model_dump(),
            languages=languages,
            limits=Limits(max_listeners=min(caps), max_live_events=customer.max_live_events),
        )
