"""How a runtime ends its events: stopped here (`stop`) or over in the store (`finish`).

Ending is where nothing said may be lost: the owner lets its channels finish what
the floor said (live/ending.py), drains the last transcript segments, moves the
event to ENDED while it still holds the lock (relays hear it before they could take
over), then closes the session. A relay asks the store and follows the owner.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from livevent.bus import Bus
from livevent.errors import Conflict, LiveventError
from livevent.model import EventStatus
from livevent.runtime.live import ending
from livevent.runtime.live.session import LiveSession
from livevent.runtime.storage.gateway import EventGateway
from livevent.runtime.storage.transcripts import TranscriptWriter
from livevent.runtime.wire import Ending
from livevent.settings import Settings

log = logging.getLogger(__name__)

# The last transcript segments reach the store first, for at most this long.
DRAIN_SECONDS = 5.0
# Leaving for a restart, what was said is made final for at most this long.
HANDOVER_SECONDS = 1.5


class EndingRuntime(Protocol):
    settings: Settings
    bus: Bus
    instance: str
    sessions: dict[int, LiveSession]
    gateway: EventGateway
    transcripts: TranscriptWriter

    async def _release(self, event_id: int, session: LiveSession | None) -> None: ...


class Endings:
    def __init__(self, runtime: EndingRuntime) -> None:
        self.runtime = runtime
        # Sessions out of `sessions` but not yet closed: their last transcript segments
        # and recordings are being written (the console says "ending" meanwhile).
        self.closing: dict[int, LiveSession] = {}

    async def stop(self, event_id: int, *, reason: str | None, actor: str | None) -> None:
        runtime = self.runtime
        session = runtime.sessions.get(event_id)
        if session is not None and (session.finishing or session.closing):
            await session.ended.wait()  # someone else is ending it
            return
        if session is not None and session.role == "relay":
            # The owner finishes the channels once it hears ENDED; this session
            # follows it and closes when the owner lets the event go.
            await self._end_in_store(event_id, reason, actor)
            await self.finish(event_id, EventStatus.ENDED)  # unless the bus told us first
            await session.ended.wait()
            return
        if session is not None:
            await self._wind_down(session)
            self.closing[event_id] = session
        runtime.sessions.pop(event_id, None)
        try:
            await self._drain()
            # ENDED while the lock is held: relays hear it before they could take over.
            await self._end_in_store(event_id, reason, actor)
        finally:
            await runtime._release(event_id, session)
            if session is not None:
                await session.close(EventStatus.ENDED, reason)
            self.closing.pop(event_id, None)

    async def finish(self, event_id: int, status: EventStatus) -> None:
        runtime = self.runtime
        session = runtime.sessions.get(event_id)
        if session is None or session.finishing or session.closing:
            return
        if status is EventStatus.ENDED:
            await self._wind_down(session)
        if runtime.sessions.get(event_id) is not session:
            return  # closed meanwhile
        del runtime.sessions[event_id]
        self.closing[event_id] = session
        try:
            if session.role == "owner":
                await self._drain()
            await runtime._release(event_id, session)
            reason = None
            with contextlib.suppress(LiveventError):
                change = await runtime.gateway.last_change(event_id)
                reason = change.reason if change is not None else None
            log.info("event %s is %s (%s): closing its session", event_id, status.value, reason)
            await session.close(status, reason)
        finally:
            self.closing.pop(event_id, None)

    def is_closing(self, event_id: int) -> bool:
        return event_id in self.closing

    async def keep_what_was_said(self, session: LiveSession) -> None:
        """Leaving a live event for a restart: the sentence under way (the floor's, an
        interpreter's) is made final and reaches the transcript before another instance
        takes over. Bounded: listeners wait for the new owner meanwhile."""
        pipeline = session.pipeline
        if pipeline is None:
            return
        session.stop_hearing()
        if not await ending.until_true(lambda: not pipeline.busy, HANDOVER_SECONDS):
            # A starved machine's decode outlasts the bound: the words heard so far are
            # final as they are, rather than the sentence lost with this instance.
            await pipeline.settle()
        await self._drain(HANDOVER_SECONDS)

    async def _drain(self, limit: float = DRAIN_SECONDS) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(limit):
                await self.runtime.transcripts.drained()

    async def _end_in_store(self, event_id: int, reason: str | None, actor: str | None) -> None:
        try:
            await self.runtime.gateway.act(event_id, "end", reason=reason, actor=actor)
        except Conflict as error:
            log.info("event %s not moved to ENDED: %s", event_id, error)

    async def _wind_down(self, session: LiveSession) -> None:
        """Every channel finishes what it was saying (live/ending.py)."""
        settings = self.runtime.settings
        machine, human = settings.finish_machine_seconds, settings.finish_human_seconds
        # The speakers here: finish the sentence, off air after the interpreters' grace.
        session.notes.tell_here(Ending(seconds=human))
        if session.role == "owner":
            took = await ending.finish_speaking(
                session, machine_seconds=machine, human_seconds=human
            )
            log.info("event %s: channels finished in %.1f s", session.event_id, took)
        else:
            await ending.owner_lets_go(
                session,
                self.runtime.bus,
                self.runtime.instance,
                machine_seconds=machine,
                human_seconds=human,
            )
