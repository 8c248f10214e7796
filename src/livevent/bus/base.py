"""The bus seam: pub/sub, a cache with TTLs, hashes, sets and windowed counters.

Two backends implement it, `memory://` (one process) and `redis://`; one
contract test suite runs against both. Keys are built by `livevent.bus.keys`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self


@dataclass(slots=True, frozen=True)
class Message:
    channel: str
    data: str


@dataclass(slots=True, frozen=True)
class BinaryMessage:
    channel: str
    data: bytes


class BinarySubscription(Protocol):
    """Binary messages (encoded audio, as it was sent) of the subscribed channels."""

    def __aiter__(self) -> AsyncIterator[BinaryMessage]: ...

    async def get(self) -> BinaryMessage: ...

    async def aclose(self) -> None: ...


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

    async def subscribe(self, *channels: str) -> Subscription:
        """Subscribed when this returns: later messages on these channels arrive."""
        ...

    async def publish_bytes(self, channel: str, data: bytes) -> int:
        """`publish` for bytes, passed on as they are (audio between instances)."""
        ...

    async def subscribe_bytes(self, *channels: str) -> BinarySubscription:
        """`subscribe` for channels that carry bytes."""
        ...

    async def aclose(self) -> None: ...


class Bus(PubSub, Protocol):
    """Pub/sub plus the shared state of live events (Redis in production)."""

    url: str

    async def ping(self) -> None:
        """Raise `Unavailable` when the backend does not answer."""
        ...

    async def get(self, key: str) -> str | None: ...

    async def put(self, key: str, value: str, *, ttl: float | None = None) -> None: ...

    async def delete(self, *keys: str) -> None: ...

    async def hset(self, key: str, mapping: Mapping[str, str | int | float]) -> None: ...

    async def hdel(self, key: str, *fields: str) -> None: ...

    async def hgetall(self, key: str) -> dict[str, str]: ...

    async def sadd(self, key: str, *members: str) -> int: ...

    async def srem(self, key: str, *members: str) -> int: ...

    async def smembers(self, key: str) -> set[str]: ...

    async def incr_window(self, key: str, window: float) -> int:
        """Count one more in a window that starts at the first count and lasts `window` s.

        The expiry is set in the same atomic step as the first increment, so a
        crash between the two cannot leave a counter that never expires.
        """
        ...

    async def ttl(self, key: str) -> float | None:
        """Seconds until `key` expires; None when it has no expiry or does not exist."""
        ...

    # -- ownership: one instance runs an event's pipelines -------------------------

    async def acquire(self, key: str, owner: str, ttl: float) -> bool:
        """Take `key` for `owner` for `ttl` s unless someone holds it (SET NX PX)."""
        ...

    async def renew(self, key: str, owner: str, ttl: float) -> bool:
        """Extend `owner`'s hold on `key`; False when it lost it (expired, taken, wiped)."""
        ...

    async def release(self, key: str, owner: str) -> bool:
        """Let go of `key` if `owner` holds it."""
        ...

    # -- counters that add up across instances --------------------------------------

    async def hincr_shared(
        self, key: str, share: str, field: str, amount: int, *, limit: int | None = None
    ) -> bool:
        """Add `amount` to `field` of the total `key` and of this instance's `share`.

        Both change in one atomic step. With `limit`, an increment is refused
        (False) when the total's fields already sum to it. Neither goes below 0.
        """
        ...

    async def reconcile_share(self, key: str, share: str, counts: Mapping[str, int]) -> None:
        """Make this instance's share equal `counts`, moving the total by the difference.

        Run every second by each instance: after a Redis restart wiped both, the
        total is rebuilt from every instance's own connections.
        """
        ...

    async def retire_share(self, key: str, share: str) -> None:
        """Take a dead instance's share out of the total, and delete the share."""
        ...
