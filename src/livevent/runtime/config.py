"""Event config, cache-aside in two levels: in-process (L1), then the bus (L2, Redis).

A miss at both levels goes to the event service once, however many callers
wait on it (single flight), so ten thousand listeners joining at once cost
one read of the store. `events` messages invalidate both levels everywhere.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass

from pydantic import ValidationError

from livevent.bus import Bus, keys
from livevent.errors import LiveventError
from livevent.model import EventConfig
from livevent.runtime.storage.gateway import EventGateway

log = logging.getLogger(__name__)


@dataclass(slots=True)
class CacheStats:
    l1_hits: int = 0
    l2_hits: int = 0
    loads: int = 0


class ConfigCache:
    def __init__(
        self,
        *,
        bus: Bus,
        gateway: EventGateway,
        l1_ttl: float = 5.0,
        l2_ttl: float = 60.0,
    ) -> None:
        self.bus = bus
        self.gateway = gateway
        self.l1_ttl = l1_ttl
        self.l2_ttl = l2_ttl
        self.stats = CacheStats()
        self._l1: dict[int, tuple[float, EventConfig]] = {}
        self._inflight: dict[int, asyncio.Future[EventConfig]] = {}

    async def get(self, event_id: int, *, fresh: bool = False) -> EventConfig:
        """The event's config; `fresh` skips both caches (and refills them)."""
        if not fresh:
            cached = self._l1.get(event_id)
            if cached is not None and cached[0] > time.monotonic():
                self.stats.l1_hits += 1
                return cached[1]
        pending = self._inflight.get(event_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[EventConfig] = asyncio.get_running_loop().create_future()
        self._inflight[event_id] = future
        try:
            config = await self._fill(event_id, fresh=fresh)
        except BaseException as error:
            if not future.done():
                future.set_exception(error)
                future.exception()  # the waiters, if any, see it; nobody else must
            raise
        else:
            future.set_result(config)
            return config
        finally:
            del self._inflight[event_id]

    async def _fill(self, event_id: int, *, fresh: bool) -> EventConfig:
        key = keys.event_config(event_id)
        if not fresh:
            try:
                raw = await self.bus.get(key)
            except LiveventError as error:  # Redis down: go to the source
                log.warning("config cache L2 unavailable: %s", error)
                raw = None
            if raw is not None:
                try:
                    config = EventConfig.model_validate_json(raw)
                except ValidationError:
                    log.warning("dropping an unreadable cached config for event %s", event_id)
                else:
                    self.stats.l2_hits += 1
                    self._remember(event_id, config)
                    return config
        self.stats.loads += 1
        config = await self.gateway.load(event_id)
        try:
            # ~10% jitter so that keys written together do not expire together.
            ttl = self.l2_ttl * random.uniform(0.9, 1.1)
            await self.bus.put(key, config.model_dump_json(), ttl=ttl)
        except LiveventError as error:
            log.warning("config cache L2 unavailable: %s", error)
        self._remember(event_id, config)
        return config

    def _remember(self, event_id: int, config: EventConfig) -> None:
        self._l1[event_id] = (time.monotonic() + self.l1_ttl, config)

    def forget(self, event_id: int) -> None:
        """Drop L1 (the event service already dropped L2 when it published the change)."""
        self._l1.pop(event_id, None)
