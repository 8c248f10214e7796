"""The event service: events, channels and customers, their rules, and transcript exports."""

from livevent.events.service import EventService, open_service

__all__ = ["EventService", "open_service"]
