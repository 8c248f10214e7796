"""The event service: the store's changes, announced on the bus.

The CLI and the HTTP API both go through here, so every change, wherever it
comes from, is published on the `events` channel after it is committed.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from livevent.bus import Bus, keys, open_bus
from livevent.errors import Conflict, InvalidInput, LiveventError, NotFound
from livevent.model import (
    ACTIONS,
    Customer,
    CustomerCreate,
    Event,
    EventConfig,
    EventCopy,
    EventCreate,
    EventFilter,
    EventPatch,
    EventStatus,
    StatusChange,
    TranscriptSegment,
)
from livevent.model.ids import parse_id
from livevent.model.output import Output, OutputCreate, OutputTarget
from livevent.settings import Settings
from livevent.store import EventStore, open_store
from livevent.store.outputs import OUTPUTS_PER_EVENT
from livevent.store.store import SYSTEM_ACTOR

log = logging.getLogger(__name__)


class EventService:
    def __init__(self, *, store: EventStore, bus: Bus, default_customer: str = "default") -> None:
        self.store = store
        self.bus = bus
        self.default_customer = default_customer

    async def _announce(self, event_id: int, change: str) -> None:
        # The change is committed already; a bus outage must not turn it into
        # an error. Readers fall back on the config cache's TTL.
        try:
            await self.bus.delete(keys.event_config(event_id))
            await self.bus.publish(keys.EVENTS_CHANNEL, keys.event_change(event_id, change))
        except LiveventError as error:
            log.warning("could not announce event %s %s: %s", event_id, change, error)

    # -- customers ------------------------------------------------------------

    async def create_customer(self, data: CustomerCreate) -> Customer:
        return await self.store.create_customer(data)

    async def list_customers(self) -> list[Customer]:
        return await self.store.list_customers()

    async def get_customer(self, customer_id: int) -> Customer:
        return await self.store.get_customer(customer_id)

    async def ensure_customer(self, name: str) -> Customer:
        """The customer with this name, created with default limits if missing."""
        return await self.store.ensure_customer(name)

    async def resolve_customer(self, name_or_id: str | int | None) -> Customer:
        """A customer by id or name; None means the default customer (created if needed)."""
        if name_or_id is None:
            return await self.store.ensure_customer(self.default_customer)
        if isinstance(name_or_id, int):
            return await self.store.get_customer(name_or_id)
        customer_id = parse_id(name_or_id)
        if customer_id is not None:
            return await self.store.get_customer(customer_id)
        found = await self.store.find_customer(name_or_id)
        if found is None:
            raise NotFound(f"customer {name_or_id!r} does not exist")
        return found

    # -- events ---------------------------------------------------------------

    async def create_event(self, data: EventCreate, *, actor: str) -> Event:
        customer = await self.resolve_customer(data.customer_id)
        event = await self.store.create_event(data, customer_id=customer.id, actor=actor)
        await self._announce(event.id, "CREATED")
        return event

    async def duplicate_event(self, event_id: int, copy: EventCopy, *, actor: str) -> Event:
        """A new DRAFT like `event_id` (the organizer's next session, next year's edition)."""
        return await self.create_event(copy.create(await self.get_event(event_id)), actor=actor)

    async def get_event(self, event_id: int) -> Event:
        return await self.store.get_event(event_id)

    async def get_config(self, event_id: int) -> EventConfig:
        """The event with its languages and effective limits, as the runtime caches it."""
        event = await self.store.get_event(event_id)
        customer = await self.store.get_customer(event.customer_id)
        return EventConfig.of(event, customer)

    async def list_events(self, query: EventFilter | None = None) -> tuple[list[Event], int]:
        return await self.store.list_events(query)

    async def history(self, event_id: int) -> list[StatusChange]:
        return await self.store.history(event_id)

    async def update_event(
        self,
        event_id: int,
        patch: EventPatch,
        *,
        expected_version: int | None = None,
        actor: str = SYSTEM_ACTOR,
    ) -> Event:
        event = await self.store.update_event(
            event_id, patch, expected_version=expected_version, actor=actor
        )
        await self._announce(event.id, "UPDATED")
        return event

    async def transition(
        self,
        event_id: int,
        target: EventStatus,
        *,
        actor: str,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> Event:
        event = await self.store.transition(
            event_id, target, actor=actor, reason=reason, expected_version=expected_version
        )
        await self._announce(event.id, target.value)
        return event

    async def act(
        self,
        event_id: int,
        action: str,
        *,
        actor: str,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> Event:
        """A transition by its verb: schedule, ready, start, end or cancel."""
        target = ACTIONS.get(action)
        if target is None:
            raise InvalidInput(f"unknown action {action!r}: use one of {', '.join(ACTIONS)}")
        return await self.transition(
            event_id, target, actor=actor, reason=reason, expected_version=expected_version
        )

    async def add_transcript_segment(self, segment: TranscriptSegment) -> None:
        await self.store.add_transcript_segment(segment)

    async def transcript(self, event_id: int) -> list[TranscriptSegment]:
        return await self.store.transcript(event_id)

    # -- outputs: channels pushed to streaming platforms -------------------------------

    async def add_output(self, event_id: int, data: OutputCreate, *, actor: str) -> Output:
        """Push a channel of the event to a platform's ingest (from now, if it is live)."""
        event = await self.get_event(event_id)
        if event.status in (EventStatus.ENDED, EventStatus.CANCELLED):
            raise Conflict(f"event {event_id} is {event.status.value}: nothing more to push")
        if data.channel not in {channel.language for channel in event.channels}:
            raise InvalidInput(f"event {event_id} has no channel {data.channel}")
        if await self.store.outputs.count(event_id) >= OUTPUTS_PER_EVENT:
            raise InvalidInput(f"an event pushes to at most {OUTPUTS_PER_EVENT} addresses")
        output = await self.store.outputs.add(event_id, data, actor=actor)
        await self._announce(event_id, "OUTPUTS")
        return output

    async def list_outputs(self, event_id: int) -> list[Output]:
        await self.get_event(event_id)  # a 404 for an event that is not there
        return await self.store.outputs.of_event(event_id)

    async def output_targets(self, event_id: int) -> list[OutputTarget]:
        """The outputs with their whole addresses: for the runtime that pushes them."""
        return await self.store.outputs.targets(event_id)

    async def remove_output(self, event_id: int, output_id: int) -> Output:
        output = await self.store.outputs.remove(event_id, output_id)
        await self._announce(event_id, "OUTPUTS")
        return output

    async def delete_event(self, event_id: int, *, actor: str = SYSTEM_ACTOR) -> None:
        await self.store.delete_event(event_id, actor=actor)
        await self._announce(event_id, "DELETED")


@asynccontextmanager
async def open_service(
    settings: Settings, *, bus: Bus | None = None
) -> AsyncIterator[EventService]:
    """The event service on the store and bus the settings name, closed on exit."""
    own_bus = bus is None
    bus = bus or open_bus(settings.redis_url, prefix=settings.redis_prefix)
    try:
        store = await open_store(settings.database_url, pool_size=settings.database_pool_size)
        try:
            yield EventService(store=store, bus=bus, default_customer=settings.default_customer)
        finally:
            await store.aclose()
    finally:
        if own_bus:
            await bus.aclose()
