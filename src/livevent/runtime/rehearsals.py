"""How a runtime keeps rehearsals (live/rehearsal.py): staff who join one running on
another instance, and a rehearsal nobody speaks in any more, closed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from typing import Any, Protocol

from livevent.bus import Bus, keys
from livevent.errors import LiveventError
from livevent.http.sockets import CloseCode
from livevent.runtime.live.session import LiveSession
from livevent.settings import Settings

log = logging.getLogger(__name__)

CHECK_SECONDS = 1.0  # the idle watch's period


class RehearsingRuntime(Protocol):
    settings: Settings
    bus: Bus
    sessions: dict[int, LiveSession]

    async def rehearse(self, event_id: int, *, actor: str | None = None) -> LiveSession: ...

    def spawn(self, coroutine: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]: ...

    async def _release(self, event_id: int, session: LiveSession | None) -> None: ...


class Rehearsals:
    def __init__(self, runtime: RehearsingRuntime) -> None:
        self.runtime = runtime

    async def join(self, event_id: int) -> LiveSession | None:
        """The rehearsal under way for staff who listen (an interpreter hearing the floor),
        relayed from the instance that runs it; None when none runs anywhere."""
        runtime = self.runtime
        session = runtime.sessions.get(event_id)
        if session is not None:
            return session
        try:
            if await runtime.bus.get(keys.live_owner(event_id)) is None:
                return None  # a listener alone opens no rehearsal (nor its engines)
            return await runtime.rehearse(event_id)
        except LiveventError as error:
            log.info("event %s: cannot join its rehearsal: %s", event_id, error)
            return None

    async def close_when_idle(self, session: LiveSession) -> None:
        """Close the rehearsal once nobody has spoken in it for `rehearsal_idle_seconds`."""
        limit = self.runtime.settings.rehearsal_idle_seconds
        quiet_since = time.monotonic()
        while session.rehearsing and not session.closing:
            await asyncio.sleep(CHECK_SECONDS)  # the watch's period, not a synchronisation
            now = time.monotonic()
            if not session.idle:
                quiet_since = now
            elif now - quiet_since >= limit and session.rehearsing:
                # The runtime's task: closing cancels the session's, this one among them.
                closing = self.close(session, "the rehearsal is over")
                self.runtime.spawn(closing, name=f"rehearsal-over:{session.event_id}")
                return

    async def close(self, session: LiveSession, reason: str) -> None:
        """The rehearsal ends; the event stays as it was (SCHEDULED or READY)."""
        runtime = self.runtime
        if runtime.sessions.get(session.event_id) is session:
            del runtime.sessions[session.event_id]
        log.info("event %s: %s", session.event_id, reason)
        await runtime._release(session.event_id, session)
        await session.close(session.status, reason, CloseCode.GOING_AWAY, goes_on=False)
