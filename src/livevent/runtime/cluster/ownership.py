"""The owner lock of a live event: one instance runs its pipelines, the others relay.

The owner renews the lock several times per TTL; a relay watches it and takes it
once it has been free for longer than the owner's renewal period, so that a live
owner re-takes a lock wiped by a Redis restart before anyone else does. Every
instance also beats its heart on the bus, so the others know it is alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from livevent.aio import raise_if_cancelled
from livevent.bus import Bus, keys
from livevent.errors import LiveventError
from livevent.runtime.cluster.messages import Heartbeat

WATCH_PERIOD = 0.2


async def hold_lock(bus: Bus, key: str, holder: str, ttl: float) -> None:
    """Renew the lock until another holder has it; returns then (step aside)."""
    while True:
        raise_if_cancelled()
        await asyncio.sleep(ttl / 6)  # several renewals per TTL ride out a slow one
        try:
            if await bus.renew(key, holder, ttl):
                continue
            # Lost (a Redis restart wiped it, or we stalled): take it back if free.
            if await bus.acquire(key, holder, ttl):
                continue
        except LiveventError:
            continue  # the bus is down: nobody else can take it either; keep serving
        return


async def take_lock_when_free(bus: Bus, key: str, holder: str, ttl: float) -> None:
    """Watch the lock; return once it was free for a grace period and is ours.

    A lock found free right after the bus came back (a Redis restart keeps nothing) is
    not an owner's death: the owner, still serving, takes it back as soon as it reaches
    the bus again. Then the grace is a whole TTL, so the owner wins and nobody moves.
    """
    grace = ttl / 6 + WATCH_PERIOD
    free_since: float | None = None
    after_outage = False
    while True:
        raise_if_cancelled()
        await asyncio.sleep(WATCH_PERIOD)  # the watch period
        try:
            if await bus.get(key) is not None:
                free_since, after_outage = None, False
                continue
            now = time.monotonic()
            free_since = free_since or now
            wait = ttl + grace if after_outage else grace
            if now - free_since >= wait and await bus.acquire(key, holder, ttl):
                return
        except LiveventError:
            free_since, after_outage = None, True


async def heartbeat(
    bus: Bus, instance: str, describe: Callable[[], Heartbeat], *, ttl: float
) -> None:
    """Say every second that this instance is alive (its listeners count) and what it serves."""
    while True:
        raise_if_cancelled()
        with contextlib.suppress(LiveventError):
            await bus.put(keys.instance_alive(instance), describe().to_json(), ttl=ttl)
        await asyncio.sleep(1.0)  # the heartbeat period
