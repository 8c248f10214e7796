"""livevent: multilingual live events with floor, human and machine interpretation channels.

The library that the `livevent` command and the HTTP API are built on::

    from livevent import EventCreate, load_settings, open_service

    async with open_service(load_settings()) as service:
        event = await service.create_event(
            EventCreate(name="Keynote", starts_at="2026-12-01T10:00+01:00",
                        source_language="ca-ES", channels=[{"language": "en-US"}]),
            actor="me",
        )
"""

from livevent import tokens
from livevent.__about__ import __version__
from livevent.api import create_app
from livevent.bus import Bus, MemoryBus, Message, PubSub, Subscription, open_bus
from livevent.errors import (
    AlreadyExists,
    BadRequest,
    Conflict,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    LimitReached,
    LiveventError,
    NotFound,
    NotStartable,
    PreconditionRequired,
    TooManyAttempts,
    Unauthorized,
    Unavailable,
    UnknownSetting,
    VersionConflict,
)
from livevent.events.service import EventService, open_service
from livevent.model import (
    Channel,
    ChannelKind,
    ChannelSpec,
    Customer,
    CustomerCreate,
    Event,
    EventConfig,
    EventCreate,
    EventFilter,
    EventPage,
    EventPatch,
    EventStatus,
    Limits,
    StatusChange,
)
from livevent.runtime import LiveRuntime, LiveSession
from livevent.server import create_runtime_app
from livevent.settings import Settings, load_settings
from livevent.store import EventStore, open_store

__all__ = [
    "AlreadyExists",
    "BadRequest",
    "Bus",
    "Channel",
    "ChannelKind",
    "ChannelSpec",
    "Conflict",
    "Customer",
    "CustomerCreate",
    "Event",
    "EventConfig",
    "EventCreate",
    "EventFilter",
    "EventPage",
    "EventPatch",
    "EventService",
    "EventStatus",
    "EventStore",
    "Forbidden",
    "InvalidInput",
    "InvalidTransition",
    "LimitReached",
    "Limits",
    "LiveRuntime",
    "LiveSession",
    "LiveventError",
    "MemoryBus",
    "Message",
    "NotFound",
    "NotStartable",
    "PreconditionRequired",
    "PubSub",
    "Settings",
    "StatusChange",
    "Subscription",
    "TooManyAttempts",
    "Unauthorized",
    "Unavailable",
    "UnknownSetting",
    "VersionConflict",
    "__version__",
    "create_app",
    "create_runtime_app",
    "load_settings",
    "open_bus",
    "open_service",
    "open_store",
    "tokens",
]
