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
import json
import logging
import os
import socket
from collections.abc import Coroutine
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Any, Self

from livevent import logs
from livevent.aio import raise_if_cancelled
from livevent.auth.signing import verifier_for
from livevent.auth.tokens import TokenVerifier
from livevent.bus import Bus, MemoryBus, Subscription, keys, open_bus
from livevent.errors import Conflict, LiveventError, NotFound, NotStartable
from livevent.events.service import EventService
from livevent.http.sockets import CloseCode
from livevent.model import ChannelKind, EventStatus
from livevent.runtime.cluster.ownership import hold_lock, take_lock_when_free
from livevent.runtime.config import ConfigCache
from livevent.runtime.engines import Engines
from livevent.runtime.live.session import LiveSession
from livevent.runtime.speech import MachinePipeline
from livevent.runtime.storage.gateway import EventGateway, open_gateway
from livevent.runtime.storage.recording import EventRecorder, expire_recordings
from livevent.runtime.storage.spool import spool_path
from livevent.runtime.storage.transcripts import TranscriptWriter
from livevent.settings import Settings

log = logging.getLogger(__name__)

STARTABLE = (EventStatus.SCHEDULED, EventStatus.READY)


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
        self._starting: dict[int, asyncio.Task[LiveSession]] = {}
        self._started = asyncio.Condition()
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
        self._awaited: collections.Counter[int] = collections.Counter()

    # -- lifecycle ------------------------------------------------------------------

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
        self.cache = ConfigCache(
            bus=self.bus,
            gateway=self.gateway,
            l1_ttl=settings.config_local_ttl,
            l2_ttl=settings.config_cache_ttl,
        )
        subscription = await self.bus.subscribe(keys.EVENTS_CHANNEL)
        self._stack.push_async_callback(subscription.aclose)
        self._stack.push_async_callback(self.engines.aclose)
        self._spawn(self._follow_changes(subscription), name="runtime:events")
        self._spawn(self._heartbeat(), name="runtime:heartbeat")
        days = settings.recordings_retention_days
        self._spawn(expire_recordings(settings.recordings_dir, days), name="runtime:retention")
        if isinstance(self.bus, MemoryBus) and not self._given_bus:
            # An in-process bus hears nothing from other processes: watch the
            # store instead, so a cancellation from the CLI still stops us.
            self._spawn(self._watch_statuses(), name="runtime:status-watch")

    def _spawn(self, coroutine: Coroutine[Any, Any, None], *, name: str) -> None:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self, *, end_events: bool = False) -> None:
        """Close every session: end the events (`end_events`) or leave them LIVE for a restart."""
        for event_id in list(self.sessions):
            if end_events:
                with contextlib.suppress(LiveventError):
                    await self.stop(event_id, reason="the live runtime stopped")
            else:
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
            await self._release(event_id, session)
        await session.close(EventStatus.LIVE, reason, CloseCode.GOING_AWAY)

    # -- sessions -------------------------------------------------------------------

    async def start(self, event_id: int, *, actor: str | None = None) -> LiveSession:
        """Take the event LIVE and open its session (once); the history names `actor`."""
        session = self.sessions.get(event_id)
        if session is not None:
            return session
        starting = self._starting.get(event_id)
        if starting is None:
            starting = asyncio.create_task(self._start(event_id, actor), name=f"start:{event_id}")
            self._starting[event_id] = starting
            starting.add_done_callback(lambda _: self._starting.pop(event_id, None))
        return await asyncio.shield(starting)

    async def _start(self, event_id: int, actor: str | None) -> LiveSession:
        logs.EVENT.set(event_id)  # this task's, and the session's tasks it creates
        config = await self.cache.get(event_id, fresh=True)
        if config.status not in (*STARTABLE, EventStatus.LIVE):
            hint = {
                EventStatus.DRAFT: ": schedule it first",
                EventStatus.ENDED: ": it is over",
                EventStatus.CANCELLED: ": it was cancelled",
            }.get(config.status, "")
            raise NotStartable(
                f"event {event_id} is {config.status.value}{hint}",
                event_id=event_id,
                current_status=config.status.value,
            )
        # One instance owns the event's pipelines; the others relay what it sends.
        owner = await self.bus.acquire(
            keys.live_owner(event_id), self.instance, self.settings.owner_lock_ttl
        )
        if owner and config.status in STARTABLE:
            try:
                reason = "live session started"
                await self.gateway.act(event_id, "start", reason=reason, actor=actor)
            except BaseException:
                with contextlib.suppress(LiveventError):
                    await self.bus.release(keys.live_owner(event_id), self.instance)
                raise
            config = await self.cache.get(event_id, fresh=True)
        # LIVE without a session here: a restart, or another instance runs it.
        session = LiveSession(
            config=config,
            bus=self.bus,
            idle_pause=self.settings.channel_idle_pause,
            instance=self.instance,
            role="owner" if owner else "relay",
        )
        await session.open()
        if owner:
            await self._own(session)
        else:
            session.spawn(self._take_over_when_free(session), name=f"watch-owner:{event_id}")
        self.sessions[event_id] = session
        async with self._started:
            self._started.notify_all()
        log.info(
            "event %s is live here as its %s, with %d channels",
            event_id,
            session.role,
            len(config.channels),
        )
        return session

    async def _own(self, session: LiveSession) -> None:
        if self.settings.record and session.recorder is None:
            recorder = EventRecorder(self.settings.recordings_dir, session.event_id, self.instance)
            for language, state in session.channels.items():
                recorder.start(language, state.hub)
            session.recorder = recorder
        if any(c.kind is ChannelKind.MACHINE for c in session.config.channels):
            await self._start_pipeline(session)
        session.lease = session.spawn(self._keep_ownership(session), name=f"own:{session.event_id}")

    async def _release(self, event_id: int, session: LiveSession | None) -> None:
        """Stop renewing the owner lock, then free it (renewed in between, it outlived us)."""
        if session is not None and session.lease is not None:
            session.lease.cancel()
            await asyncio.gather(session.lease, return_exceptions=True)
        with contextlib.suppress(LiveventError):
            await self.bus.release(keys.live_owner(event_id), self.instance)

    async def _keep_ownership(self, session: LiveSession) -> None:
        key, ttl = keys.live_owner(session.event_id), self.settings.owner_lock_ttl
        await hold_lock(self.bus, key, self.instance, ttl)
        log.warning("event %s is owned elsewhere now: moving listeners", session.event_id)
        self.sessions.pop(session.event_id, None)
        self._spawn(
            session.close(EventStatus.LIVE, "moved to another server", CloseCode.GOING_AWAY),
            name=f"step-aside:{session.event_id}",
        )

    async def _take_over_when_free(self, session: LiveSession) -> None:
        key, ttl = keys.live_owner(session.event_id), self.settings.owner_lock_ttl
        await take_lock_when_free(self.bus, key, self.instance, ttl)
        log.warning("event %s: its owner is gone; taking it over", session.event_id)
        await session.promote()
        await self._own(session)

    async def _start_pipeline(self, session: LiveSession) -> None:
        pipeline = MachinePipeline(
            session,
            self.engines,
            record=self.transcripts.record,
            mode=self.settings.interpretation,
        )
        try:
            await pipeline.start()
        except LiveventError as error:
            # The floor and human channels go on; machine channels say why they are off.
            session.machine_problem = str(error)
            log.error("event %s: machine channels unavailable: %s", session.event_id, error)
            return
        session.attach(pipeline)

    async def wait_for_session(self, event_id: int) -> LiveSession:
        """The event's session, once it starts here or (scale-out) on another instance."""
        self._awaited[event_id] += 1
        try:
            async with self._started:
                await self._started.wait_for(lambda: event_id in self.sessions)
        finally:
            self._awaited[event_id] -= 1
            if self._awaited[event_id] <= 0:
                del self._awaited[event_id]
        return self.sessions[event_id]

    async def stop(
        self, event_id: int, *, reason: str | None = None, actor: str | None = None
    ) -> None:
        """End the event: listeners told, status ENDED, live keys cleaned; `actor` is audited."""
        session = self.sessions.pop(event_id, None)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):  # the last words reach the transcript first
                await self.transcripts.drained()
        await self._release(event_id, session)
        try:
            await self.gateway.act(event_id, "end", reason=reason, actor=actor)
        except Conflict as error:
            log.info("event %s not moved to ENDED: %s", event_id, error)
        finally:
            if session is not None:
                await session.close(EventStatus.ENDED, reason)

    async def _finish(self, event_id: int, status: EventStatus) -> None:
        """The event service says the event is over: close its session and say why."""
        session = self.sessions.pop(event_id, None)
        if session is None:
            return
        await self._release(event_id, session)
        reason = None
        with contextlib.suppress(LiveventError):
            change = await self.gateway.last_change(event_id)
            reason = change.reason if change is not None else None
        log.info("event %s is %s (%s): closing its session", event_id, status.value, reason)
        await session.close(status, reason)

    # -- following the event service ------------------------------------------------

    async def _follow_changes(self, subscription: Subscription) -> None:
        async for message in subscription:
            parsed = keys.parse_event_change(message.data)
            if parsed is None:
                log.warning("ignoring an unreadable message on %s", keys.EVENTS_CHANNEL)
                continue
            event_id, change = parsed
            self.cache.forget(event_id)
            if change in (EventStatus.CANCELLED.value, EventStatus.ENDED.value):
                await self._finish(event_id, EventStatus(change))
            elif event_id in self.sessions:
                self._spawn(self._reconfigure(event_id), name=f"reconfigure:{event_id}")
            elif event_id in self._awaited:
                # Listeners here wait for an event another instance may have started.
                self._spawn(self._join_if_live(event_id), name=f"join:{event_id}")

    async def _reconfigure(self, event_id: int) -> None:
        """A live event changed (a channel added, a label): its session follows."""
        session = self.sessions.get(event_id)
        try:
            config = await self.cache.get(event_id, fresh=True)
            if session is None or config.status is not EventStatus.LIVE:
                return
            added = await session.reconfigure(config)
        except LiveventError as error:
            log.warning("event %s changed, but its session could not follow: %s", event_id, error)
            return
        machine = [c for c in added if c.kind is ChannelKind.MACHINE]
        if not machine or session.role != "owner":
            return
        if session.pipeline is None:
            await self._start_pipeline(session)
        else:
            for channel in machine:
                await session.pipeline.add_target(channel)

    async def _join_if_live(self, event_id: int) -> None:
        try:
            config = await self.cache.get(event_id, fresh=True)
            if config.status is EventStatus.LIVE:
                await self.start(event_id)
        except LiveventError as error:
            log.warning("event %s went live elsewhere; cannot relay it: %s", event_id, error)

    async def _heartbeat(self) -> None:
        """Say this instance is alive (its listeners count) and where it serves."""
        ttl = max(5.0, self.settings.owner_lock_ttl * 2)
        while True:
            raise_if_cancelled()
            payload = json.dumps(
                {
                    "instance": self.instance,
                    "address": self.address,
                    "events": {str(e): s.role for e, s in self.sessions.items()},
                    "spool": self.transcripts.waiting,
                }
            )
            with contextlib.suppress(LiveventError):
                await self.bus.put(keys.instance_alive(self.instance), payload, ttl=ttl)
            await asyncio.sleep(1.0)  # the heartbeat period

    async def _watch_statuses(self) -> None:
        while True:
            await asyncio.sleep(1.0)  # the polling period of the fallback watch
            for event_id in list(self.sessions):
                try:
                    config = await self.gateway.load(event_id)
                except NotFound:
                    await self._finish(event_id, EventStatus.CANCELLED)
                    continue
                except LiveventError as error:
                    log.warning("status watch: %s", error)
                    continue
                if config.status in (EventStatus.CANCELLED, EventStatus.ENDED):
                    self.cache.forget(event_id)
                    await self._finish(event_id, config.status)
