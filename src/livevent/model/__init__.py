"""The domain model: events, channels, customers and the status machine, free of IO."""

from livevent.model.event import (
    MAX_CHANNELS,
    Channel,
    ChannelKind,
    ChannelSpec,
    Customer,
    CustomerCreate,
    Event,
    EventConfig,
    EventCreate,
    EventFields,
    EventFilter,
    EventPage,
    EventPatch,
    Limits,
    StatusChange,
    build_channels,
)
from livevent.model.language import LanguageTag, language_name, normalize_language
from livevent.model.status import ACTIONS, EventStatus, can_transition, sources_of

__all__ = [
    "ACTIONS",
    "MAX_CHANNELS",
    "Channel",
    "ChannelKind",
    "ChannelSpec",
    "Customer",
    "CustomerCreate",
    "Event",
    "EventConfig",
    "EventCreate",
    "EventFields",
    "EventFilter",
    "EventPage",
    "EventPatch",
    "EventStatus",
    "LanguageTag",
    "Limits",
    "StatusChange",
    "build_channels",
    "can_transition",
    "language_name",
    "normalize_language",
    "sources_of",
]
