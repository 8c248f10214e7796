"""Buses carry change notifications between the parts of livevent (and, later, live state)."""

from __future__ import annotations

from livevent.bus.base import Message, PubSub, Subscription
from livevent.bus.memory import MemoryBus
from livevent.errors import InvalidInput


def open_bus(url: str) -> PubSub:
    """The bus for `url`: `memory://` is the in-process one."""
    if url.startswith("memory://"):
        return MemoryBus()
    scheme = url.split("://", 1)[0] if "://" in url else url
    raise InvalidInput(f"unsupported bus URL scheme {scheme!r}: use memory://")


__all__ = ["MemoryBus", "Message", "PubSub", "Subscription", "open_bus"]
