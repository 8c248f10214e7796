"""One event's speech job on a worker: the owner's channels mirrored, the same speech
work an owner runs in-process (speech/duties.py), and what it says sent back.

The job holds the event's `speech_job` lock while it runs (renewed, with the worker's
TTL): an owner that finds it lapsed places the job elsewhere. It ends when the owner
says stop, when no owner has spoken for a while, when it loses the lock, or when the
worker drains (then it stops hearing, lets go of the lock at once so another worker
takes over, and finishes what it heard).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from livevent import logs
from livevent.bus import BinarySubscription, Bus, keys
from livevent.errors import LiveventError
from livevent.model import EventConfig
from livevent.runtime.cluster.ownership import hold_lock
from livevent.runtime.engines import Engines
from livevent.runtime.speech.duties import SpeechDuties
from livevent.runtime.speech.finals import Recorder
from livevent.runtime.workers.links import publish_all, read_all
from livevent.runtime.workers.messages import (
    JobPhase,
    JobState,
    OwnerState,
    Reconfigured,
    SpeechEnded,
    StopJob,
    read_frame,
    read_to_worker,
)
from livevent.runtime.workers.mirror import MirrorHost
from livevent.settings import Settings

log = logging.getLogger(__name__)

REPORT_PERIOD = 0.5
# No word from any owner for this long: the event was left; the job ends.
OWNER_SILENCE = 15.0
FINISH_SECONDS = 20.0  # a draining job's last words, at most
OUTBOX_MESSAGES = 2000


class SpeechJob(MirrorHost):
    """A `SpeechSession` whose channels live on the owner's instance."""

    def __init__(
        self,
        *,
        config: EventConfig,
        bus: Bus,
        engines: Engines,
        settings: Settings,
        worker: str,
        record: Recorder,
    ) -> None:
        self.config = config
        self.bus = bus
        self.settings = settings
        self.worker = worker
        self.rehearsing = True  # until the owner says otherwise: nothing transcribed
        self._channels = {c.language: self._mirror(c) for c in config.channels}
        self.duties = SpeechDuties(
            self,
            engines,
            record=record,
            mode=settings.interpretation,
            interpreter_captions=settings.interpreter_captions,
            fallback_after_silence=settings.fallback_after_silence,
            decode_every=settings.decode_every,
        )
        self.phase: JobPhase = "starting"
        self.done = asyncio.Event()
        self.deaf = False
        self.upto = 0
        self._owner_heard = time.monotonic()
        self._outbox: asyncio.Queue[bytes] = asyncio.Queue(OUTBOX_MESSAGES)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._origin: float | None = None
        self._closing = False
        self._reload: Callable[[], Coroutine[Any, Any, EventConfig]] | None = None

    # -- running ------------------------------------------------------------------------------

    async def run(
        self,
        subscription: BinarySubscription,
        reload: Callable[[], Coroutine[Any, Any, EventConfig]],
    ) -> None:
        """Run until the job ends; the lock is ours already, `subscription` hears the owner."""
        logs.EVENT.set(self.event_id)
        self._reload = reload
        outbox = publish_all(self.bus, keys.speech_out(self.event_id), self._outbox)
        self.spawn(outbox, name=f"job-out:{self.event_id}")
        self.spawn(read_all(subscription, self._apply), name=f"job-in:{self.event_id}")
        self.spawn(self._report(), name=f"job-report:{self.event_id}")
        lock = self.spawn(self._keep_lock(), name=f"job-lock:{self.event_id}")
        await self.duties.begin(None)
        self.phase = "ready"
        self.report_now()
        log.info("event %s: speech job running here", self.event_id)
        watch = self.spawn(self._watch_owner(), name=f"job-owner:{self.event_id}")
        await asyncio.wait([lock, watch], return_when=asyncio.FIRST_COMPLETED)

    async def drain(self) -> None:
        """Hand the job over: stop hearing, let the lock go, finish what was heard."""
        if self.phase in ("draining", "released", "dropped"):
            return
        self.phase = "draining"
        self.stop_hearing()
        await self._release_lock()  # before the owner hears of it: it places the job at once
        self.report_now()
        pipeline = self.duties.pipeline
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(FINISH_SECONDS):
                # The players drain at the speed of speech: a poll, not one event per part.
                while pipeline is not None and not pipeline.finished:  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
        await self._flush_outbox()

    def stop_hearing(self) -> None:
        """What was said so far, on the floor and by the interpreters, is an utterance."""
        self.deaf = True
        pipeline = self.duties.pipeline
        if pipeline is None:
            return
        pipeline.end_of_speech()
        for language in self._channels:
            pipeline.channel_speech_ended(language)

    async def close(self, phase: JobPhase = "released") -> None:
        """End the job (idempotent): the lock freed, the owner told, every task stopped."""
        if self._closing:
            await self.done.wait()
            return
        self._closing = True
        if self.phase != "draining":
            await self._release_lock()
        self.phase = phase
        self.report_now()
        await self._flush_outbox()
        current = asyncio.current_task()
        tasks = [task for task in self._tasks if task is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.done.set()

    async def _release_lock(self) -> None:
        with contextlib.suppress(LiveventError):
            await self.bus.release(keys.speech_job(self.event_id), self.worker)

    async def _flush_outbox(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2.0):
                while not self._outbox.empty():  # noqa: ASYNC110
                    await asyncio.sleep(0.02)

    async def _keep_lock(self) -> None:
        ttl = self.settings.owner_lock_ttl
        await hold_lock(self.bus, keys.speech_job(self.event_id), self.worker, ttl)
        if self.phase != "draining":
            log.warning("event %s: speech job taken by another worker", self.event_id)

    async def _watch_owner(self) -> None:
        # A deadline that moves with every owner message: a poll, not an event per message.
        while time.monotonic() - self._owner_heard < OWNER_SILENCE:  # noqa: ASYNC110
            await asyncio.sleep(1.0)
        log.warning("event %s: no owner for %.0f s: speech job ends", self.event_id, OWNER_SILENCE)

    def report_now(self) -> None:
        pipeline = self.duties.pipeline
        report = JobState(
            worker=self.worker,
            phase=self.phase,
            problem=self.duties.problem,
            busy=pipeline.busy if pipeline is not None else False,
            finished=pipeline.finished if pipeline is not None else True,
            upto=self.upto,
            stats=pipeline.snapshot() if pipeline is not None else {},
        )
        self._send(report.to_bytes())

    async def _report(self) -> None:
        while True:
            await asyncio.sleep(REPORT_PERIOD)  # the report's period
            if self.phase in ("starting", "ready"):
                self.report_now()

    def _apply(self, data: bytes) -> None:
        frame = read_frame(data)
        if frame is not None:
            language, pcm = frame
            if not self.deaf:
                self._hear(language, pcm)
            return
        try:
            message = read_to_worker(data)
        except ValueError as error:
            log.debug("event %s: %s", self.event_id, error)
            return
        if isinstance(message, OwnerState):
            self._owner_state(message)
        elif isinstance(message, SpeechEnded):
            self._ended(message.language)
        elif isinstance(message, Reconfigured):
            self.spawn(self._reconfigure(), name=f"job-config:{self.event_id}")
        elif isinstance(message, StopJob):
            log.info("event %s: its owner ended the speech job", self.event_id)
            self.spawn(self.close(), name=f"job-stop:{self.event_id}")

    def _hear(self, language: str, pcm: bytes) -> None:
        pipeline = self.duties.pipeline
        if pipeline is None or language not in self._channels:
            return
        if language == self.config.source_language:
            pipeline.on_floor_frame(pcm)
        else:
            pipeline.on_channel_frame(language, pcm)

    def _ended(self, language: str) -> None:
        pipeline = self.duties.pipeline
        if pipeline is None:
            return
        if language == self.config.source_language:
            pipeline.end_of_speech()
        elif language in self._channels:
            pipeline.channel_speech_ended(language)

    def _owner_state(self, state: OwnerState) -> None:
        self._owner_heard = time.monotonic()
        self.upto = max(self.upto, state.seq)
        self.rehearsing = state.rehearsing
        pipeline = self.duties.pipeline
        if state.origin is not None and state.origin != self._origin and pipeline is not None:
            # The recordings' clock, read as this process's monotonic time.
            self._origin = state.origin
            self.duties.go_live(time.monotonic() - (time.time() - state.origin))
        changed: list[str] = []
        for language, view in state.channels.items():
            mirror = self._channels.get(language)
            if mirror is None:
                continue
            if mirror.on_air != view.on_air:
                changed.append(language)
            mirror.on_air, mirror.paused = view.on_air, view.paused
            mirror.listeners = view.listeners
        for language in changed:
            self.duties.speaker_changed(language)

    async def _reconfigure(self) -> None:
        if self._reload is None:
            return
        try:
            config = await self._reload()
        except LiveventError as error:
            log.warning("event %s: config not read again: %s", self.event_id, error)
            return
        added = [c for c in config.channels if c.language not in self._channels]
        for channel in config.channels:
            mirror = self._channels.get(channel.language)
            if mirror is not None:
                mirror.channel = channel
        for channel in added:
            self._channels[channel.language] = self._mirror(channel)
        self.config = config
        await self.duties.channels_added(added)
