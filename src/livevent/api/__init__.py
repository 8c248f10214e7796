"""The event service's HTTP API under /api: events, channels, customers, OpenAPI."""

from livevent.api.app import create_app

__all__ = ["create_app"]
