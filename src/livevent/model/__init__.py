"""The domain model: events, channels, customers and the status machine, free of IO."""

from livevent.model.audit import DeletedEvent, StatusChange
from livevent.model.channel import (
    MAX_CHANNELS,
    Channel,
    ChannelKind,
    ChannelSpec,
    build_channels,
)
from livevent.model.customer import Customer, CustomerCreate
from livevent.model.event import (
    Event,
    EventConfig,
    EventCopy,
    EventCreate,
    EventFields,
    EventFilter,
    EventPage,
    EventPatch,
    GlossaryEntry,
    Limits,
)
from livevent.model.language import LanguageTag, language_name, normalize_language
from livevent.model.status import ACTIONS, EventStatus, can_transition, sources_of
from livevent.model.transcript import TranscriptSegment
from livevent.model.user import (
    Capability,
    Email,
    Grant,
    Role,
    User,
    UserCreate,
    normalize_email,
)

__all__ = [
    "ACTIONS",
    "MAX_CHANNELS",
    "Capability",
    "Channel",
    "ChannelKind",
    "ChannelSpec",
    "Customer",
    "CustomerCreate",
    "DeletedEvent",
    "Email",
    "Event",
    "EventConfig",
    "EventCopy",
    "EventCreate",
    "EventFields",
    "EventFilter",
    "EventPage",
    "EventPatch",
    "EventStatus",
    "GlossaryEntry",
    "Grant",
    "LanguageTag",
    "Limits",
    "Role",
    "StatusChange",
    "TranscriptSegment",
    "User",
    "UserCreate",
    "build_channels",
    "can_transition",
    "language_name",
    "normalize_email",
    "normalize_language",
    "sources_of",
]
