"""How a runtime opens an event's session here, once however many ask at the same moment:
the owner's (it took the event's lock) or a relay's, which takes over when the owner is
gone. A session opened before the event is LIVE rehearses (live/rehearsal.py).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from livevent import logs
from livevent.bus import Bus, keys
from livevent.errors import LiveventError, NotStartable
from livevent.model import EventConfig, EventStatus
from livevent.runtime.cluster.duties import OwnerKit
from livevent.runtime.cluster.ownership import take_lock_when_free
from livevent.runtime.config import ConfigCache
from livevent.runtime.live.session import LiveSession
from livevent.runtime.rehearsals import Rehearsals
from livevent.runtime.speech.duties import load_ahead
from livevent.settings import Settings

log = logging.getLogger(__name__)

STARTABLE = (EventStatus.SCHEDULED, EventStatus.READY)
_NOT_STARTABLE = {
    EventStatus.DRAFT: ": schedule it first",
    EventStatus.ENDED: ": it is over",
    EventStatus.CANCELLED: ": it was cancelled",
}


def check_startable(config: EventConfig) -> None:
    """NotStartable, saying why, unless the event may go (or is) live."""
    if config.status not in (*STARTABLE, EventStatus.LIVE):
        raise NotStartable(
            f"event {config.id} is {config.status.value}{_NOT_STARTABLE.get(config.status, '')}",
            event_id=config.id,
            current_status=config.status.value,
        )


class OpeningRuntime(Protocol):
    settings: Settings
    bus: Bus
    instance: str
    cache: ConfigCache
    sessions: dict[int, LiveSession]
    rehearsals: Rehearsals
    kit: OwnerKit

    async def _release(self, event_id: int, session: LiveSession | None) -> None: ...


class CalledOff(LiveventError):
    """The event a listener waited for ended or was cancelled before it went live here."""

    def __init__(self, event_id: int, status: EventStatus) -> None:
        super().__init__(f"event {event_id} is {status.value}{_NOT_STARTABLE.get(status, '')}")
        self.event_id = event_id
        self.status = status


class Openings:
    def __init__(self, runtime: OpeningRuntime) -> None:
        self.runtime = runtime
        self._opening: dict[int, asyncio.Task[LiveSession]] = {}
        # Notified when a session opens here or goes live: listeners wait on it.
        self.changed = asyncio.Condition()

    async def opened(self, event_id: int, config: EventConfig | None = None) -> LiveSession:
        """The event's session here, opened once however many ask at the same moment
        (with `config` when the caller just read it fresh)."""
        session = self.runtime.sessions.get(event_id)
        if session is not None:
            return session
        opening = self._opening.get(event_id)
        if opening is None:
            opening = asyncio.create_task(self._open(event_id, config), name=f"open:{event_id}")
            self._opening[event_id] = opening
            opening.add_done_callback(lambda _: self._opening.pop(event_id, None))
        return await asyncio.shield(opening)

    async def notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def _open(self, event_id: int, config: EventConfig | None) -> LiveSession:
        logs.EVENT.set(event_id)  # this task's, and the session's tasks it creates
        runtime = self.runtime
        if config is None:
            config = await runtime.cache.get(event_id, fresh=True)
        check_startable(config)
        # One instance owns the event's pipelines; the others relay what it sends.
        owner = await runtime.bus.acquire(
            keys.live_owner(event_id), runtime.instance, runtime.settings.owner_lock_ttl
        )
        session = LiveSession(
            config=config,
            bus=runtime.bus,
            idle_pause=runtime.settings.channel_idle_pause,
            instance=runtime.instance,
            role="owner" if owner else "relay",
            kit=runtime.kit,
        )
        await session.open()
        if owner:
            await session.own()
        else:
            session.spawn(self._take_over_when_free(session), name=f"watch-owner:{event_id}")
            if runtime.settings.speech == "local":
                # A takeover then speaks at once, not after loading Whisper (seconds).
                ahead = load_ahead(runtime.kit.engines, config, runtime.settings)
                session.spawn(ahead, name=f"load-ahead:{event_id}")
        if session.rehearsing:
            session.spawn(runtime.rehearsals.close_when_idle(session), name=f"idle:{event_id}")
        runtime.sessions[event_id] = session
        await self.notify()
        log.info(
            "event %s is %s here as its %s, with %d channels",
            event_id,
            "rehearsing" if session.rehearsing else "live",
            session.role,
            len(config.channels),
        )
        return session

    async def _take_over_when_free(self, session: LiveSession) -> None:
        runtime = self.runtime
        key, ttl = keys.live_owner(session.event_id), runtime.settings.owner_lock_ttl
        await take_lock_when_free(runtime.bus, key, runtime.instance, ttl)
        if session.rehearsing and session.idle:
            await runtime.rehearsals.close(session, "the rehearsal is over")
            return
        if session.finishing or session.closing:
            # The owner let an ending event go: nothing to take over.
            await runtime._release(session.event_id, None)
            return
        log.warning("event %s: its owner is gone; taking it over", session.event_id)
        await session.promote()
        await session.own()
