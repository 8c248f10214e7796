"""The in-memory bus, and the service announcing every change on `events`."""

from __future__ import annotations

import asyncio

from livevent.bus import MemoryBus, keys
from livevent.events.service import EventService
from livevent.model import EventCreate, EventPatch, EventStatus


async def test_memory_pubsub_delivers_in_order_to_each_subscriber() -> None:
    bus = MemoryBus()
    first = await bus.subscribe("a", "b")
    second = await bus.subscribe("a")
    assert await bus.publish("a", "1") == 2
    assert await bus.publish("b", "2") == 1
    assert await bus.publish("c", "3") == 0
    assert [(await first.get()).data, (await first.get()).data] == ["1", "2"]
    assert (await second.get()).data == "1"
    await second.aclose()
    assert await bus.publish("a", "4") == 1


def test_event_change_keys_round_trip() -> None:
    assert keys.event_change(123457, "CANCELLED") == "event:123457:CANCELLED"
    assert keys.parse_event_change("event:123457:CANCELLED") == (123457, "CANCELLED")
    for junk in ("event:x:UPDATED", "event:1", "hello", "event:1:"):
        assert keys.parse_event_change(junk) is None


async def test_every_change_is_announced(service: EventService, bus: MemoryBus) -> None:
    async with await bus.subscribe(keys.EVENTS_CHANNEL) as subscription:
        event = await service.create_event(
            EventCreate(name="x", starts_at="2026-12-01T10:00Z", source_language="en-US"),
            actor="t",
        )
        await service.update_event(event.id, EventPatch(name="y"))
        await service.act(event.id, "schedule", actor="t")
        await service.act(event.id, "cancel", actor="t", reason="because")
        seen = []
        async with asyncio.timeout(2):
            for _ in range(4):
                seen.append((await subscription.get()).data)
    assert seen == [
        f"event:{event.id}:CREATED",
        f"event:{event.id}:UPDATED",
        f"event:{event.id}:{EventStatus.SCHEDULED}",
        f"event:{event.id}:{EventStatus.CANCELLED}",
    ]
