"""`livevent worker`: a process that runs live events' speech and nothing else.

It loads the speech recogniser once, registers on the bus with a heartbeat (its
slots, its jobs, its load, every second) and takes the jobs owners offer it while it
has a free slot; a full worker refuses, so an owner never crams a job onto it. On
SIGTERM it drains: each job stops hearing, lets its lock go (the owner places it on
another worker at once) and finishes what it heard; then the worker leaves the set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from contextlib import AsyncExitStack
from typing import Any

from livevent.aio import raise_if_cancelled
from livevent.bus import Bus, keys, open_bus
from livevent.errors import InvalidInput, LiveventError, NotFound, Unavailable
from livevent.model import EventConfig, EventStatus
from livevent.runtime.config import ConfigCache
from livevent.runtime.engines import Engines
from livevent.runtime.storage.gateway import EventGateway, open_gateway
from livevent.runtime.storage.spool import spool_path
from livevent.runtime.storage.transcripts import TranscriptWriter
from livevent.runtime.workers.job import SpeechJob
from livevent.runtime.workers.messages import JobOffer, JobState, WorkerReport, read_offer
from livevent.settings import Settings

log = logging.getLogger(__name__)

HEARTBEAT_PERIOD = 1.0


def default_slots(cores: int | None = None) -> int:
    """Half the cores, at least one: on this project's 2-core machine one Whisper base
    recogniser with its booths keeps captions under a second; a second event on the same
    two cores pushes both past it (docs/deployment.md)."""
    count = cores if cores is not None else (os.cpu_count() or 1)
    return max(1, count // 2)


class SpeechWorker:
    def __init__(self, settings: Settings, *, slots: int | None = None) -> None:
        chosen = slots if slots is not None else settings.worker_slots
        if chosen is not None and chosen < 1:
            raise InvalidInput(f"--slots must be at least 1, not {chosen}")
        self.settings = settings
        self.slots = chosen if chosen is not None else default_slots()
        self.name = settings.instance_name or f"worker:{socket.gethostname()}:{os.getpid()}"
        self.engines = Engines(settings.engine_options)
        self.jobs: dict[int, SpeechJob] = {}
        self.draining = False
        self.bus: Bus
        self.gateway: EventGateway
        self._stack = AsyncExitStack()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._cpu = (time.monotonic(), time.process_time(), 0.0)

    # -- lifecycle ------------------------------------------------------------------------

    async def open(self) -> None:
        settings = self.settings
        if settings.redis_url.startswith("memory://"):
            raise Unavailable(
                "a speech worker needs Redis: set redis_url (LIVEVENT_REDIS_URL) to the bus"
                " its live instances use"
            )
        self.bus = open_bus(settings.redis_url, prefix=settings.redis_prefix)
        self._stack.push_async_callback(self.bus.aclose)
        await self.bus.ping()
        self.gateway, service = await open_gateway(settings, self._stack, self.bus, None)
        store = service.store.database.url if service else settings.database_url
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
        self._stack.push_async_callback(self.engines.aclose)
        # The recogniser every job needs, loaded before the first offer: a job placed
        # here starts in a moment, not in the seconds a model takes to load.
        await self.engines.stt()
        offers = await self.bus.subscribe(keys.worker_offers(self.name))
        self._stack.push_async_callback(offers.aclose)
        await self._beat()
        await self.bus.sadd(keys.live_workers(), self.name)
        self._spawn(self._heartbeat(), name="worker:heartbeat")
        self._spawn(self._take_offers(offers), name="worker:offers")
        log.info("speech worker %s takes up to %d event(s)", self.name, self.slots)

    async def drain(self) -> None:
        """SIGTERM: every job is handed over with what it heard finished, then we leave."""
        self.draining = True
        with contextlib.suppress(LiveventError):
            await self._beat()  # owners stop offering at once
        jobs = list(self.jobs.values())
        if jobs:
            log.info("speech worker %s drains: handing over %d job(s)", self.name, len(jobs))
        await asyncio.gather(*(job.drain() for job in jobs), return_exceptions=True)
        await asyncio.gather(*(job.close() for job in jobs), return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for job in list(self.jobs.values()):
            await job.close()
        if hasattr(self, "bus"):
            with contextlib.suppress(LiveventError):
                await self.bus.delete(keys.worker_alive(self.name))
                await self.bus.srem(keys.live_workers(), self.name)
        await self._stack.aclose()

    def _spawn(self, coroutine: Any, *, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- the heartbeat ----------------------------------------------------------------------

    def report(self) -> WorkerReport:
        then, cpu_then, _ = self._cpu
        now, cpu_now = time.monotonic(), time.process_time()
        if now - then >= 0.5:
            # The process's CPU, in cores, over the last heartbeat.
            self._cpu = (now, cpu_now, (cpu_now - cpu_then) / (now - then))
        cpu = self._cpu[2]
        behind = 0.0
        for job in self.jobs.values():
            pipeline = job.duties.pipeline
            rtf = pipeline.snapshot().get("stt_rtf") if pipeline is not None else None
            behind = max(behind, float(rtf or 0.0))
        cores = os.cpu_count() or 1
        return WorkerReport(
            name=self.name,
            slots=self.slots,
            jobs=sorted(self.jobs),
            load=round(max(cpu / cores, behind), 3),
            cpu=round(cpu, 3),
            behind=round(behind, 3),
            draining=self.draining,
        )

    async def _beat(self) -> None:
        ttl = self.settings.owner_lock_ttl
        await self.bus.put(keys.worker_alive(self.name), self.report().model_dump_json(), ttl=ttl)

    async def _heartbeat(self) -> None:
        while True:
            raise_if_cancelled()
            with contextlib.suppress(LiveventError):
                await self._beat()
                # A Redis restart forgets the set: say again that we are here.
                await self.bus.sadd(keys.live_workers(), self.name)
            await asyncio.sleep(HEARTBEAT_PERIOD)

    # -- jobs ---------------------------------------------------------------------------------

    async def _take_offers(self, offers: Any) -> None:
        async for message in offers:
            offer = read_offer(message.data)
            if offer is None:
                log.warning("speech worker %s: an offer it cannot read was dropped", self.name)
                continue
            if offer.event in self.jobs:
                continue  # ours already (its owner changed): the job goes on
            if self.draining or len(self.jobs) >= self.slots:
                await self._refuse(offer)
                continue
            await self._take(offer)

    async def _refuse(self, offer: JobOffer) -> None:
        refused = JobState(worker=self.name, phase="refused")
        with contextlib.suppress(LiveventError):
            await self.bus.publish_bytes(keys.speech_out(offer.event), refused.to_bytes())

    async def _take(self, offer: JobOffer) -> None:
        event_id, ttl = offer.event, self.settings.owner_lock_ttl
        subscription = await self.bus.subscribe_bytes(keys.speech_in(event_id))
        if not await self.bus.acquire(keys.speech_job(event_id), self.name, ttl):
            await subscription.aclose()
            return  # another worker runs it
        try:
            config = await self._config(event_id)
        except LiveventError as error:
            await subscription.aclose()
            await self.bus.release(keys.speech_job(event_id), self.name)
            # Logged once released: whoever reads the line finds the job free.
            log.warning("event %s: speech job dropped: %s", event_id, error)
            dropped = JobState(worker=self.name, phase="dropped", problem=str(error))
            await self.bus.publish_bytes(keys.speech_out(event_id), dropped.to_bytes())
            return
        job = SpeechJob(
            config=config,
            bus=self.bus,
            engines=self.engines,
            settings=self.settings,
            worker=self.name,
            record=self.transcripts.record,
        )
        self.jobs[event_id] = job
        with contextlib.suppress(LiveventError):
            await self._beat()  # the slot is taken: the next owner sees it at once
        self._spawn(self._run(job, subscription), name=f"job:{event_id}")

    async def _config(self, event_id: int) -> EventConfig:
        try:
            config = await self.cache.get(event_id, fresh=True)
        except NotFound:
            raise NotFound(f"event {event_id} does not exist (deleted?)") from None
        if config.status in (EventStatus.ENDED, EventStatus.CANCELLED, EventStatus.DRAFT):
            raise InvalidInput(f"event {event_id} is {config.status.value}")
        return config

    async def _run(self, job: SpeechJob, subscription: Any) -> None:
        event_id = job.event_id
        try:
            await job.run(subscription, lambda: self._config(event_id))
        except LiveventError as error:
            log.error("event %s: speech job failed: %s", event_id, error)
        finally:
            if job.phase != "draining":
                await job.close()
            await job.done.wait()  # a draining job closes once it said its last words
            if self.jobs.get(event_id) is job:
                del self.jobs[event_id]
            with contextlib.suppress(LiveventError):
                await self._beat()  # a slot is free: an event waiting for one gets it now
            log.info("event %s: speech job over here", event_id)


async def run_worker(settings: Settings, *, slots: int | None, stop: asyncio.Event) -> None:
    """Run a speech worker until `stop` is set (SIGTERM, Ctrl-C), then drain it."""
    worker = SpeechWorker(settings, slots=slots)
    try:
        await worker.open()
        await stop.wait()
        await worker.drain()
    finally:
        await worker.aclose()
