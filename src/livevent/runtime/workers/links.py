"""The two bytes channels between an owner and its event's speech worker, as both ends
use them: an outbox published in order (at most once: a full one drops, never blocks
the loop), and a subscription read until it ends."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from livevent.aio import raise_if_cancelled
from livevent.bus import BinarySubscription, Bus
from livevent.errors import LiveventError


def post(outbox: asyncio.Queue[bytes], data: bytes) -> bool:
    """Queue `data` for the bus; False when the outbox is full (it is dropped)."""
    try:
        outbox.put_nowait(data)
    except asyncio.QueueFull:
        return False
    return True


async def publish_all(bus: Bus, channel: str, outbox: asyncio.Queue[bytes]) -> None:
    """Publish what is posted, in order, for ever; a bus outage loses what it meets."""
    while True:
        raise_if_cancelled()
        data = await outbox.get()
        with contextlib.suppress(LiveventError):
            await bus.publish_bytes(channel, data)
        outbox.task_done()


async def read_all(subscription: BinarySubscription, apply: Callable[[bytes], None]) -> None:
    """Apply each message of `subscription` until it ends; it is closed then."""
    try:
        async for message in subscription:
            apply(message.data)
    finally:
        await subscription.aclose()
