"""The source of truth: events, customers and the audit trail, on SQLite or PostgreSQL."""

from livevent.store.database import Database
from livevent.store.opening import database_for, open_store
from livevent.store.store import EventStore

__all__ = ["Database", "EventStore", "database_for", "open_store"]
