"""The bus seam: publish/subscribe now; cache, live state and counters join it later."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self


@dataclass(slots=True, frozen=True)
class Message:
    channel: str
    data: str


class Subscription(Protocol):
    """Messages of the subscribed channels, in order, until closed."""

    def __aiter__(self) -> AsyncIterator[Message]: ...

    async def get(self) -> Message:
        """The next message; wrap it in `asyncio.timeout()` to bound the wait."""
        ...

    async def aclose(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class PubSub(Protocol):
    """At-most-once delivery: a subscriber that is not connected misses the message."""

    async def publish(self, channel: str, data: str) -> int:
        """Send `data` to the channel's subscribers; returns how many received it."""
        ...

    async def subscribe(self, *channels: str) -> Subscription: ...

    async def aclose(self) -> None: ...
