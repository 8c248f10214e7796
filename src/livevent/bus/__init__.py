"""Buses carry change notifications, the config cache and live state between processes."""

from __future__ import annotations

from livevent.bus.base import (
    BinaryMessage,
    BinarySubscription,
    Bus,
    Message,
    PubSub,
    Subscription,
)
from livevent.bus.memory import MemoryBus
from livevent.errors import InvalidInput


def open_bus(url: str, *, prefix: str = "") -> Bus:
    """The bus for `url`: `memory://` (this process only) or `redis://HOST:PORT/DB`."""
    if url.startswith("memory://"):
        return MemoryBus(url)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from livevent.bus.redis import RedisBus

        return RedisBus(url, prefix=prefix)
    scheme = url.split("://", 1)[0] if "://" in url else url
    raise InvalidInput(f"unsupported bus URL scheme {scheme!r}: use memory:// or redis://")


__all__ = [
    "BinaryMessage",
    "BinarySubscription",
    "Bus",
    "MemoryBus",
    "Message",
    "PubSub",
    "Subscription",
    "open_bus",
]
