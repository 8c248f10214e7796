"""The in-memory bus: one process, no server, the same contract as Redis."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from livevent.bus.base import BinaryMessage, Message

log = logging.getLogger(__name__)

# A subscriber that falls this far behind loses messages rather than growing
# without bound; Redis drops slow pub/sub clients in the same spirit.
SUBSCRIBER_QUEUE = 10_000
_BINARY = "\x00bytes:"

M = TypeVar("M", Message, BinaryMessage)


class MemorySubscription(Generic[M]):
    def __init__(self, bus: MemoryBus, channels: tuple[str, ...]) -> None:
        self._bus = bus
        self.channels = channels
        self.queue: asyncio.Queue[M] = asyncio.Queue(SUBSCRIBER_QUEUE)
        self.dropped = 0
        self.closed = False

    def deliver(self, message: M) -> bool:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped += 1
            return False
        return True

    async def get(self) -> M:
        return await self.queue.get()

    async def __aiter__(self) -> AsyncIterator[M]:
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
    """Every operation completes without awaiting anything, so each is atomic."""

    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self._subscribers: defaultdict[str, set[MemorySubscription[Any]]] = defaultdict(set)
        self._values: dict[str, Any] = {}
        self._expiry: dict[str, float] = {}

    # -- pub/sub ----------------------------------------------------------------

    async def publish(self, channel: str, data: str) -> int:
        message = Message(channel, data)
        return sum(sub.deliver(message) for sub in list(self._subscribers.get(channel, ())))

    async def subscribe(self, *channels: str) -> MemorySubscription[Message]:
        subscription: MemorySubscription[Message] = MemorySubscription(self, channels)
        for channel in channels:
            self._subscribers[channel].add(subscription)
        return subscription

    async def publish_bytes(self, channel: str, data: bytes) -> int:
        message = BinaryMessage(channel, data)
        subscribers = list(self._subscribers.get(_BINARY + channel, ()))
        return sum(sub.deliver(message) for sub in subscribers)

    async def subscribe_bytes(self, *channels: str) -> MemorySubscription[BinaryMessage]:
        # Binary channels live apart from text ones, as on Redis's second connection.
        subscription: MemorySubscription[BinaryMessage] = MemorySubscription(
            self, tuple(_BINARY + channel for channel in channels)
        )
        for channel in subscription.channels:
            self._subscribers[channel].add(subscription)
        return subscription

    def unsubscribe(self, subscription: MemorySubscription[Any]) -> None:
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

    async def ping(self) -> None:
        return None

    # -- keys -------------------------------------------------------------------

    def _live(self, key: str) -> Any:
        expires = self._expiry.get(key)
        if expires is not None and expires <= time.monotonic():
            self._values.pop(key, None)
            self._expiry.pop(key, None)
        return self._values.get(key)

    def _typed(self, key: str, kind: type) -> Any:
        value = self._live(key)
        if value is None:
            value = self._values[key] = kind()
        elif not isinstance(value, kind):
            raise TypeError(f"key {key!r} holds a {type(value).__name__}, not a {kind.__name__}")
        return value

    def _drop_if_empty(self, key: str) -> None:
        if not self._values.get(key):
            self._values.pop(key, None)
            self._expiry.pop(key, None)

    async def get(self, key: str) -> str | None:
        value = self._live(key)
        return value if isinstance(value, str) else None

    async def put(self, key: str, value: str, *, ttl: float | None = None) -> None:
        self._values[key] = value
        if ttl is None:
            self._expiry.pop(key, None)
        else:
            self._expiry[key] = time.monotonic() + ttl

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._values.pop(key, None)
            self._expiry.pop(key, None)

    async def ttl(self, key: str) -> float | None:
        if self._live(key) is None or key not in self._expiry:
            return None
        return max(0.0, self._expiry[key] - time.monotonic())

    async def hset(self, key: str, mapping: Mapping[str, str | int | float]) -> None:
        fields: dict[str, str] = self._typed(key, dict)
        fields.update({name: str(value) for name, value in mapping.items()})

    async def hdel(self, key: str, *fields: str) -> None:
        values: dict[str, str] = self._typed(key, dict)
        for field in fields:
            values.pop(field, None)
        self._drop_if_empty(key)

    async def hgetall(self, key: str) -> dict[str, str]:
        value = self._live(key)
        return dict(value) if isinstance(value, dict) else {}

    async def sadd(self, key: str, *members: str) -> int:
        values: set[str] = self._typed(key, set)
        before = len(values)
        values.update(members)
        return len(values) - before

    async def srem(self, key: str, *members: str) -> int:
        values: set[str] = self._typed(key, set)
        before = len(values)
        values.difference_update(members)
        self._drop_if_empty(key)
        return before - len(values)

    async def smembers(self, key: str) -> set[str]:
        value = self._live(key)
        return set(value) if isinstance(value, set) else set()

    async def incr_window(self, key: str, window: float) -> int:
        value = self._live(key)
        count = (int(value) if isinstance(value, str) else 0) + 1
        self._values[key] = str(count)
        if count == 1:
            self._expiry[key] = time.monotonic() + window
        return count

    # -- ownership --------------------------------------------------------------

    async def acquire(self, key: str, owner: str, ttl: float) -> bool:
        if self._live(key) is not None:
            return False
        await self.put(key, owner, ttl=ttl)
        return True

    async def renew(self, key: str, owner: str, ttl: float) -> bool:
        if self._live(key) != owner:
            return False
        self._expiry[key] = time.monotonic() + ttl
        return True

    async def release(self, key: str, owner: str) -> bool:
        if self._live(key) != owner:
            return False
        await self.delete(key)
        return True

    # -- shared counters --------------------------------------------------------

    async def hincr_shared(
        self, key: str, share: str, field: str, amount: int, *, limit: int | None = None
    ) -> bool:
        total: dict[str, str] = self._typed(key, dict)
        own: dict[str, str] = self._typed(share, dict)
        if limit is not None and amount > 0:
            if sum(int(value) for value in total.values()) >= limit:
                return False
        total[field] = str(max(0, int(total.get(field, 0)) + amount))
        own[field] = str(max(0, int(own.get(field, 0)) + amount))
        return True

    async def reconcile_share(self, key: str, share: str, counts: Mapping[str, int]) -> None:
        total: dict[str, str] = self._typed(key, dict)
        own: dict[str, str] = self._typed(share, dict)
        for field in set(own) | set(counts):
            wanted = int(counts.get(field, 0))
            if field in own and int(own[field]) == wanted:
                continue
            difference = wanted - int(own.get(field, 0))
            total[field] = str(max(0, int(total.get(field, 0)) + difference))
            own[field] = str(wanted)

    async def retire_share(self, key: str, share: str) -> None:
        own = self._live(share)
        if isinstance(own, dict):
            total: dict[str, str] = self._typed(key, dict)
            for field, value in own.items():
                total[field] = str(max(0, int(total.get(field, 0)) - int(value)))
        await self.delete(share)
