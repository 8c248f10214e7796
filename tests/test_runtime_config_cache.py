"""ConfigCache on its own: memory (L1), the bus (L2), one load for many askers."""

from __future__ import annotations

import asyncio

import pytest

from livevent.bus import MemoryBus, keys
from livevent.events import EventService
from livevent.model import ChannelKind, ChannelSpec, EventCreate, EventPatch
from livevent.runtime.config import ConfigCache
from livevent.runtime.storage.gateway import LocalGateway

pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)


async def new_event(service: EventService) -> int:
    event = await service.create_event(
        EventCreate(
            name="Cache",
            starts_at="2026-12-01T10:00Z",
            source_language="en-US",
            channels=[ChannelSpec(language="es-ES", kind=ChannelKind.HUMAN)],
        ),
        actor="test",
    )
    return event.id


def cache_of(service: EventService, bus: MemoryBus) -> tuple[ConfigCache, LocalGateway]:
    gateway = LocalGateway(service)
    return ConfigCache(bus=bus, gateway=gateway, l1_ttl=60, l2_ttl=60), gateway


async def test_memory_then_the_bus_then_the_store(service: EventService, bus: MemoryBus) -> None:
    event_id = await new_event(service)
    one, one_gateway = cache_of(service, bus)
    first = await one.get(event_id)
    assert (await one.get(event_id)) is first  # L1: the same object, no load
    assert one_gateway.loads == 1 and one.stats.l1_hits == 1

    # Another instance shares the bus: it reads L2, and never the store.
    two, two_gateway = cache_of(service, bus)
    assert await two.get(event_id) == first
    assert two_gateway.loads == 0 and two.stats.l2_hits == 1

    await two.get(event_id, fresh=True)  # skips both caches
    assert two_gateway.loads == 1


async def test_many_askers_at_once_cost_one_load(service: EventService, bus: MemoryBus) -> None:
    event_id = await new_event(service)
    cache, gateway = cache_of(service, bus)
    configs = await asyncio.gather(*(cache.get(event_id) for _ in range(50)))
    assert gateway.loads == 1
    assert all(config == configs[0] for config in configs)


async def test_a_change_is_seen_after_forget(service: EventService, bus: MemoryBus) -> None:
    event_id = await new_event(service)
    cache, gateway = cache_of(service, bus)
    await cache.get(event_id)
    await service.update_event(event_id, EventPatch(name="Renamed"), actor="test")
    # The service dropped L2 when it published the change; the runtime drops L1.
    cache.forget(event_id)
    assert (await cache.get(event_id)).name == "Renamed"
    assert gateway.loads == 2


async def test_an_unreadable_cached_config_is_replaced(
    service: EventService, bus: MemoryBus
) -> None:
    event_id = await new_event(service)
    await bus.put(keys.event_config(event_id), "{not json", ttl=60)
    cache, gateway = cache_of(service, bus)
    assert (await cache.get(event_id)).id == event_id
    assert gateway.loads == 1
    assert "not json" not in (await bus.get(keys.event_config(event_id)) or "")
