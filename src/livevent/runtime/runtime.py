"""The live runtime: runs events, never invents their configuration.

    async with LiveRuntime(settings) as runtime:
        session = await runtime.start(123457)
        ...
        await runtime.stop(123457)

It reads configs through the cache, moves events to LIVE and ENDED through the event service,
keeps live state on the bus only, and listens on `events`: a change invalidates the cache, a
cancellation stops the session and tells its listeners why.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import socket
from collections.abc import Coroutine
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Any, Self

from livevent.auth.signing import line_token, verifier_for
from livevent.auth.tokens import TokenVerifier
from livevent.bus import Bus, MemoryBus, keys, open_bus
from livevent.errors import Conflict, LiveventError, NotStartable
from livevent.events.service import EventService
from livevent.http.sockets import CloseCode
from livevent.model import EventConfig, EventStatus
from livevent.runtime.cluster.duties import OwnerKit
from livevent.runtime.cluster.line import LineDialer
from livevent.runtime.cluster.messages import Heartbeat
from livevent.runtime.cluster.ownership import heartbeat
from livevent.runtime.config import ConfigCache
from livevent.runtime.endings import Endings
from livevent.runtime.engines import Engines
from livevent.runtime.following import EventFollower
from livevent.runtime.live.session import LiveSession
from livevent.runtime.opening import STARTABLE, CalledOff, Openings, check_startable
from livevent.runtime.rehearsals import Rehearsals
from livevent.runtime.storage.gateway import EventGateway, open_gateway
from livevent.runtime.storage.recording import expire_recordings
from livevent.runtime.storage.spool import spool_path
from livevent.runtime.storage.transcripts import TranscriptWriter
from livevent.settings import Settings

log = logging.getLogger(__name__)


class LiveRuntime:
    def __init__(
        self,
        settings: Settings,
        *,
        bus: Bus | None = None,
        service: EventService | None = None,
        gateway: EventGateway | None = None,
        verifier: TokenVerifier | None = None,
    ) -> None:
        self.settings = settings
        self._given_bus = bus
        self._given_service = service
        self._given_gateway = gateway
        self.sessions: dict[int, LiveSession] = {}
        self._stack = AsyncExitStack()
        self._tasks: set[asyncio.Task[None]] = set()
        self.bus: Bus
        self.service: EventService | None = None
        self.gateway: EventGateway
        self.cache: ConfigCache
        self.engines = Engines(settings.engine_options)
        self.verifier = verifier or verifier_for(settings)
        self.instance = settings.instance_name or f"{socket.gethostname()}:{os.getpid()}"
        self.address: str | None = None  # where this instance serves, for `livevent stats`
        self.peer_url: str | None = None  # where the other instances reach it (cluster/line.py)
        self.awaited: collections.Counter[int] = collections.Counter()
        # Events that ended or were cancelled while listeners here waited for them.
        self.called_off: dict[int, EventStatus] = {}
        self._endings = Endings(self)
        self.rehearsals = Rehearsals(self)
        self.openings = Openings(self)

    async def __aenter__(self) -> Self:
        try:
            await self._open()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def _open(self) -> None:
        settings = self.settings
        if self._given_bus is not None:
            self.bus = self._given_bus
        else:
            self.bus = open_bus(settings.redis_url, prefix=settings.redis_prefix)
            self._stack.push_async_callback(self.bus.aclose)
        if self._given_gateway is not None:
            self.gateway, self.service = self._given_gateway, self._given_service
        else:
            self.gateway, self.service = await open_gateway(
                settings, self._stack, self.bus, self._given_service
            )
        # Segments spooled for one store never drain into another.
        store = self.service.store.database.url if self.service else settings.database_url
        spool = spool_path(settings.spool_dir, settings.event_service_url or store)
        self.transcripts = await self._stack.enter_async_context(
            TranscriptWriter.running(spool, self.gateway.record)
        )
        dialer = LineDialer(
            bus=self.bus,
            instance=self.instance,
            token=lambda event_id: line_token(settings, event_id),
        )
        self._stack.push_async_callback(dialer.aclose)
        self.kit = OwnerKit(
            settings=settings,
            bus=self.bus,
            engines=self.engines,
            record=self.transcripts.record,
            instance=self.instance,
            lost=self._lost,
            outputs=self.gateway.outputs,
            dialer=dialer,
        )
        self.cache = ConfigCache(
            bus=self.bus,
            gateway=self.gateway,
            l1_ttl=settings.config_local_ttl,
            l2_ttl=settings.config_cache_ttl,
        )
        subscription = await self.bus.subscribe(keys.EVENTS_CHANNEL)
        self._stack.push_async_callback(subscription.aclose)
        self._stack.push_async_callback(self.engines.aclose)
        follower = EventFollower(self)
        self.spawn(follower.follow(subscription), name="runtime:events")
        ttl = max(5.0, settings.owner_lock_ttl * 2)
        beating = heartbeat(self.bus, self.instance, lambda: heartbeat_of(self), ttl=ttl)
        self.spawn(beating, name="runtime:heartbeat")
        days = settings.recordings_retention_days
        self.spawn(expire_recordings(settings.recordings_dir, days), name="runtime:retention")
        if isinstance(self.bus, MemoryBus) and not self._given_bus:
            # An in-process bus hears nothing from other processes: watch the
            # store instead, so a cancellation from the CLI still stops us.
            self.spawn(follower.watch_statuses(), name="runtime:status-watch")

    def spawn(self, coroutine: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def end(
        self, event_id: int, *, reason: str | None = None, actor: str | None = None
    ) -> asyncio.Task[None]:
        """`stop` in a task of the runtime's own: a request or a socket that asked for
        the end may go away while the channels finish; the ending goes on."""
        return self.spawn(self.stop(event_id, reason=reason, actor=actor), name=f"end:{event_id}")

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self, *, end_events: bool = False) -> None:
        """Close every session: end the events (`end_events`) or leave them LIVE for a restart."""
        if end_events:
            # Every event's channels finish their last sentences side by side.
            stopping = [
                self.stop(event_id, reason="the live runtime stopped")
                for event_id, session in self.sessions.items()
                if not session.rehearsing
            ]
            await asyncio.gather(*stopping, return_exceptions=True)
        for event_id in list(self.sessions):
            await self.leave(event_id, reason="the server is restarting")
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(LiveventError):
            await self.bus.delete(keys.instance_alive(self.instance))
        await self._stack.aclose()

    async def leave(self, event_id: int, *, reason: str) -> None:
        """Stop serving a live event here; it goes on (another instance takes it over)."""
        session = self.sessions.pop(event_id, None)
        if session is None:
            return
        if session.role == "owner":
            await self._endings.keep_what_was_said(session)
            await self._release(event_id, session)
        await session.close(session.status, reason, CloseCode.GOING_AWAY, goes_on=True)

    async def start(self, event_id: int, *, actor: str | None = None) -> LiveSession:
        """Take the event LIVE (the organizer's act; the history names `actor`) and return
        its session here: a rehearsal under way turns live, nobody reconnects. An event
        already live is joined (a relay of its owner, or its owner after a restart)."""
        session = self.sessions.get(event_id)
        if session is not None and not session.rehearsing:
            return session
        config = await self.cache.get(event_id, fresh=True)
        check_startable(config)
        if config.status in STARTABLE:
            config = await self._move_live(config, actor)
        session = await self.openings.opened(event_id, config)
        if await session.go_live(config):
            log.info("event %s went live (its rehearsal is over)", event_id)
        await self.openings.notify()
        return session

    async def rehearse(self, event_id: int, *, actor: str | None = None) -> LiveSession:
        """The event's session here: a rehearsal until the organizer goes live (a speaker
        joining early waits in it), or the live session once it is."""
        session = self.sessions.get(event_id) or await self.openings.opened(event_id)
        if session.rehearsing:
            log.info("event %s: %s rehearses", event_id, actor or "someone")
        return session

    async def _move_live(self, config: EventConfig, actor: str | None) -> EventConfig:
        try:
            reason = "live session started"
            moved = await self.gateway.act(config.id, "start", reason=reason, actor=actor)
        except Conflict:
            # Taken live meanwhile (another instance, another click): that is the wish.
            config = await self.cache.get(config.id, fresh=True)
            if config.status is not EventStatus.LIVE:
                raise
            return config
        return config.moved(moved)

    async def _release(self, event_id: int, session: LiveSession | None) -> None:
        if session is not None:
            await session.duties.release()
            return
        with contextlib.suppress(LiveventError):
            await self.bus.release(keys.live_owner(event_id), self.instance)

    def _lost(self, event_id: int) -> None:
        """Another instance holds the event's lock now: our listeners move there."""
        session = self.sessions.pop(event_id, None)
        if session is not None:
            reason = "moved to another server"
            closing = session.close(session.status, reason, CloseCode.GOING_AWAY, goes_on=True)
            self.spawn(closing, name=f"step-aside:{event_id}")

    async def wait_for_session(self, event_id: int) -> LiveSession:
        """The event's session, once it starts here or (scale-out) on another instance."""
        self.awaited[event_id] += 1
        try:
            async with self.openings.changed:
                await self.openings.changed.wait_for(
                    lambda: self._live_here(event_id) or event_id in self.called_off
                )
            status = self.called_off.get(event_id)
            if status is not None:
                raise CalledOff(event_id, status)
        finally:
            self.awaited[event_id] -= 1
            if self.awaited[event_id] <= 0:
                del self.awaited[event_id]
                self.called_off.pop(event_id, None)
        return self.sessions[event_id]

    def _live_here(self, event_id: int) -> bool:
        session = self.sessions.get(event_id)
        return session is not None and not session.rehearsing

    async def stop(
        self, event_id: int, *, reason: str | None = None, actor: str | None = None
    ) -> None:
        """End the event: the floor stops, channels finish their last sentences, then
        ENDED; listeners told, live keys cleaned; `actor` is audited (endings.py)."""
        session = self.sessions.get(event_id)
        if session is not None and session.rehearsing:
            raise NotStartable(
                f"event {event_id} is rehearsing, not live: nothing to end (a rehearsal"
                " closes when its speakers leave)",
                event_id=event_id,
                current_status=session.status.value,
            )
        await self._endings.stop(event_id, reason=reason, actor=actor)

    async def finish(self, event_id: int, status: EventStatus) -> None:
        """The event service says the event is over: ended, its channels finish first
        (cancelled, at once); then the session closes and says why. Listeners waiting
        for it to start are told it will not."""
        if event_id in self.awaited and not self._live_here(event_id):
            self.called_off[event_id] = status
            await self.openings.notify()
        await self._endings.finish(event_id, status)

    def closing(self, event_id: int) -> bool:
        """The event's session here is writing its last files before it closes."""
        return self._endings.is_closing(event_id)


def heartbeat_of(runtime: LiveRuntime) -> Heartbeat:
    """What an instance's heartbeat says: where it serves, which events, its spool."""
    return Heartbeat(
        instance=runtime.instance,
        address=runtime.address,
        peer=runtime.peer_url,
        events={str(e): s.role for e, s in runtime.sessions.items()},
        spool=runtime.transcripts.waiting,
    )
