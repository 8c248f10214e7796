"""The runtime follows the event service: a change notice on the bus forgets the cached
config, ends a session whose event was cancelled or ended, lets a live session take a
changed config, and starts relaying an event that went live elsewhere while listeners
here wait for it. Without a shared bus, it polls the store instead.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Coroutine
from typing import Any, Protocol

from livevent.bus import Subscription, keys
from livevent.errors import LiveventError, NotFound
from livevent.model import EventStatus
from livevent.runtime.config import ConfigCache
from livevent.runtime.live.session import LiveSession
from livevent.runtime.rehearsals import Rehearsals
from livevent.runtime.storage.gateway import EventGateway

log = logging.getLogger(__name__)


class Followed(Protocol):
    """What the follower needs of its runtime (runtime.py)."""

    cache: ConfigCache
    gateway: EventGateway
    sessions: dict[int, LiveSession]
    awaited: collections.Counter[int]

    rehearsals: Rehearsals

    async def start(self, event_id: int, *, actor: str | None = None) -> LiveSession: ...

    async def finish(self, event_id: int, status: EventStatus) -> None: ...

    def spawn(self, coroutine: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]: ...


class EventFollower:
    def __init__(self, runtime: Followed) -> None:
        self.runtime = runtime

    async def follow(self, subscription: Subscription) -> None:
        async for message in subscription:
            parsed = keys.parse_event_change(message.data)
            if parsed is None:
                log.warning("ignoring an unreadable message on %s", keys.EVENTS_CHANNEL)
                continue
            event_id, change = parsed
            self.runtime.cache.forget(event_id)
            if change in (EventStatus.CANCELLED.value, EventStatus.ENDED.value):
                # Ending lets the channels finish (seconds): other events' news goes on.
                finishing = self.runtime.finish(event_id, EventStatus(change))
                self.runtime.spawn(finishing, name=f"finish:{event_id}")
            elif event_id in self.runtime.sessions:
                self.runtime.spawn(self._reconfigure(event_id), name=f"reconfigure:{event_id}")
            elif event_id in self.runtime.awaited:
                # Listeners here wait for an event another instance may have started.
                self.runtime.spawn(self._join_if_live(event_id), name=f"join:{event_id}")

    async def _reconfigure(self, event_id: int) -> None:
        """A live event changed (a channel added, a label): its session follows."""
        session = self.runtime.sessions.get(event_id)
        try:
            config = await self.runtime.cache.get(event_id, fresh=True)
            if session is None:
                return
            kept = {channel.language for channel in config.channels}
            if session.rehearsing and config.status is EventStatus.LIVE:
                await self.runtime.start(event_id)  # the organizer went live elsewhere
            elif session.rehearsing and set(session.channels) - kept:
                # A channel removed before the start: speakers rejoin a fresh rehearsal.
                await self.runtime.rehearsals.close(session, "the event's channels changed")
                return
            elif config.status is not EventStatus.LIVE and not session.rehearsing:
                return
            await session.reconfigure(config)
        except LiveventError as error:
            log.warning("event %s changed, but its session could not follow: %s", event_id, error)

    async def _join_if_live(self, event_id: int) -> None:
        try:
            config = await self.runtime.cache.get(event_id, fresh=True)
            if config.status is EventStatus.LIVE:
                await self.runtime.start(event_id)
        except LiveventError as error:
            log.warning("event %s went live elsewhere; cannot relay it: %s", event_id, error)

    async def watch_statuses(self) -> None:
        while True:
            await asyncio.sleep(1.0)  # the polling period of the fallback watch
            await self._watch_awaited()
            for event_id in list(self.runtime.sessions):
                try:
                    config = await self.runtime.gateway.load(event_id)
                except NotFound:
                    await self.runtime.finish(event_id, EventStatus.CANCELLED)
                    continue
                except LiveventError as error:
                    log.warning("status watch: %s", error)
                    continue
                if config.status in (EventStatus.CANCELLED, EventStatus.ENDED):
                    self.runtime.cache.forget(event_id)
                    finishing = self.runtime.finish(event_id, config.status)
                    self.runtime.spawn(finishing, name=f"finish:{event_id}")
                elif config.status is EventStatus.LIVE and self._rehearsing(event_id):
                    # Taken live from another process (`livevent event start`).
                    self.runtime.cache.forget(event_id)
                    self.runtime.spawn(self._reconfigure(event_id), name=f"live:{event_id}")

    async def _watch_awaited(self) -> None:
        """Events listeners here wait for: one cancelled elsewhere lets them go."""
        for event_id in [e for e in self.runtime.awaited if e not in self.runtime.sessions]:
            try:
                config = await self.runtime.gateway.load(event_id)
            except LiveventError:
                continue
            if config.status in (EventStatus.CANCELLED, EventStatus.ENDED):
                self.runtime.cache.forget(event_id)
                await self.runtime.finish(event_id, config.status)

    def _rehearsing(self, event_id: int) -> bool:
        session = self.runtime.sessions.get(event_id)
        return session is not None and session.rehearsing
