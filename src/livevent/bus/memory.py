"""The in-memory bus: one process, no server, same behaviour as the Redis one."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Self

from livevent.bus.base import Message

log = logging.getLogger(__name__)

# A subscriber that falls this far behind loses messages rather than growing
# without bound; Redis drops slow pub/sub clients in the same spirit.
SUBSCRIBER_QUEUE = 10_000


class MemorySubscription:
    def __init__(self, bus: MemoryBus, channels: tuple[str, ...]) -> None:
        self._bus = bus
        self.channels = channels
        self.queue: asyncio.Queue[Message] = asyncio.Queue(SUBSCRIBER_QUEUE)
        self.dropped = 0
        self.closed = False

    def deliver(self, message: Message) -> bool:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped += 1
            return False
        return True

    async def get(self) -> Message:
        return await self.queue.get()

    async def __aiter__(self) -> AsyncIterator[Message]:
        while not self.closed:
            yield await self.queue.get()

    async def aclose(self) -> None:
        self.closed = True
        self._bus.unsubscribe(self)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class MemoryBus:
    def __init__(self) -> None:
        self._subscribers: defaultdict[str, set[MemorySubscription]] = defaultdict(set)

    async def publish(self, channel: str, data: str) -> int:
        message = Message(channel, data)
        return sum(sub.deliver(message) for sub in list(self._subscribers.get(channel, ())))

    async def subscribe(self, *channels: str) -> MemorySubscription:
        subscription = MemorySubscription(self, channels)
        for channel in channels:
            self._subscribers[channel].add(subscription)
        return subscription

    def unsubscribe(self, subscription: MemorySubscription) -> None:
        for channel in subscription.channels:
            subscribers = self._subscribers.get(channel)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._subscribers[channel]

    async def aclose(self) -> None:
        for subscribers in list(self._subscribers.values()):
            for subscription in list(subscribers):
                await subscription.aclose()
