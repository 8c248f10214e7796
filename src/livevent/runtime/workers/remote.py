"""The owner's side of a speech job on a worker (`speech = "workers"`).

`RemoteSpeech` places the event's speech job on the worker with the most free slots,
sends it the floor's and the interpreters' frames and the channels' state, and applies
what comes back (speech, captions, what listeners are told) to the session, as an
in-process pipeline would through `PipelineHost`. No worker with a free slot: the
machine channels are unavailable and say why, and the job is placed as soon as a slot
frees. A worker that drains hands over (frames meanwhile are kept and replayed to the
next one); one that dies loses its job lock, and the job is placed again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from typing import Any, Protocol

from livevent.aio import raise_if_cancelled
from livevent.bus import Bus, keys
from livevent.errors import LiveventError
from livevent.model import Channel, ChannelKind
from livevent.runtime.live.channels import ChannelState
from livevent.runtime.speech.duties import needs_machine
from livevent.runtime.speech.host import PipelineHost
from livevent.runtime.workers import registry
from livevent.runtime.workers.links import post, publish_all, read_all
from livevent.runtime.workers.messages import (
    ChannelView,
    JobOffer,
    JobState,
    OwnerState,
    Reconfigured,
    SpeechEnded,
    StopJob,
    frame_message,
)
from livevent.runtime.workers.output import apply_output
from livevent.settings import Settings

log = logging.getLogger(__name__)

STATE_PERIOD = 0.5  # the owner's channel state to its worker, and the watch of the job
OFFER_SECONDS = 2.0  # a worker offered a job claims it within this, or the next is asked
BACKLOG_SECONDS = 5.0  # frames kept while no worker runs the job, replayed to the next
OUTBOX_MESSAGES = 2000
_closing: set[asyncio.Task[Any]] = set()  # last words to a worker, outliving the session


class RemoteSession(PipelineHost, Protocol):
    channels: dict[str, ChannelState]
    rehearsing: bool
    instance: str

    def retell(self, language: str) -> None: ...


class WorkerPipeline:
    """The session's `SpeechPipeline`: frames go to the worker, its state comes back."""

    def __init__(self, remote: RemoteSpeech) -> None:
        self.remote = remote

    def on_floor_frame(self, frame: bytes) -> None:
        self.remote.send_frame(self.remote.source, frame)

    def end_of_speech(self) -> None:
        self.remote.send_input(SpeechEnded(language=self.remote.source).to_bytes())

    def on_channel_frame(self, language: str, frame: bytes) -> None:
        self.remote.send_frame(language, frame)

    def channel_speech_ended(self, language: str) -> None:
        self.remote.send_input(SpeechEnded(language=language).to_bytes())

    async def settle(self) -> None:
        """Nothing to cut short here: the worker's job outlives this instance, makes
        what it heard final on its own time and writes it to the transcript itself."""

    def snapshot(self) -> dict[str, Any]:
        job = self.remote.job
        stats = dict(job.stats) if job is not None else {}
        stats["worker"] = self.remote.worker
        return stats

    @property
    def busy(self) -> bool:
        """Speech the worker heard (or has not heard yet) and has not captioned and queued."""
        remote = self.remote
        job = remote.job
        if not remote.ready or job is None:
            return False
        return job.busy or remote.acknowledged < remote.last_input

    @property
    def finished(self) -> bool:
        remote = self.remote
        job = remote.job
        if not remote.ready or job is None:
            return True  # no worker runs it: nothing more will be said
        return job.finished and remote.acknowledged >= remote.last_input


class RemoteSpeech:
    def __init__(self, session: RemoteSession, bus: Bus, settings: Settings) -> None:
        self.session = session
        self.bus = bus
        self.settings = settings
        self.source = session.config.source_language
        self.problem: str | None = None
        self.worker: str | None = None  # the worker that holds the job
        self.ready = False  # its pipeline runs
        self.job: JobState | None = None  # its last report
        self.origin: float | None = None  # the recordings' start (epoch seconds)
        self.sent = 0  # messages to the worker, numbered: what its reports acknowledge
        self.last_input = 0  # the number of the last frame or utterance end sent
        self.acknowledged = 0  # the last state message the worker had read
        self._pipeline = WorkerPipeline(self)
        self._needed = False
        self._outbox: asyncio.Queue[bytes] = asyncio.Queue(OUTBOX_MESSAGES)
        self._backlog: deque[tuple[float, bytes]] = deque()
        self._exclude: set[str] = set()  # a draining worker is not offered the job again
        self._placed = asyncio.Event()  # wakes the watch: place the job now
        self._refused_by: str | None = None
        self._bus_down = False

    @property
    def pipeline(self) -> WorkerPipeline | None:
        return self._pipeline if self._needed else None

    @property
    def event_id(self) -> int:
        return self.session.event_id

    # -- the session's side ---------------------------------------------------------------

    async def begin(self, origin: float | None) -> None:
        if origin is not None:
            self.go_live(origin)
        await self._start_if_needed(self.session.config.channels)

    async def _start_if_needed(self, channels: list[Channel]) -> None:
        captions = self.settings.interpreter_captions
        needed = any(needs_machine(c, interpreter_captions=captions) for c in channels)
        if self._needed or not needed:
            return
        self._needed = True
        session = self.session
        subscription = await self.bus.subscribe_bytes(keys.speech_out(self.event_id))
        session.spawn(read_all(subscription, self._apply), name=f"speech-out:{self.event_id}")
        outbox = publish_all(self.bus, keys.speech_in(self.event_id), self._outbox)
        session.spawn(outbox, name=f"speech-in:{self.event_id}")
        session.spawn(self._keep_placed(), name=f"speech-job:{self.event_id}")

    def go_live(self, origin: float) -> None:
        """`origin` (monotonic here): the recordings' start, as a time the worker can read."""
        self.origin = time.time() - (time.monotonic() - origin)
        self.tell_state()

    async def channels_added(self, added: list[Channel]) -> None:
        if self._needed:
            self.send_input(Reconfigured().to_bytes())
            self.tell_state()
        else:
            await self._start_if_needed(added)

    def speaker_changed(self, language: str) -> None:
        self.tell_state()

    def close(self, *, goes_on: bool) -> None:
        """The session closes. Its event over, the job is too; an event that goes on
        elsewhere keeps its job for the next owner."""
        if not self._needed or goes_on:
            return
        task = asyncio.get_running_loop().create_task(self._stop_job())
        _closing.add(task)
        task.add_done_callback(_closing.discard)

    async def _stop_job(self) -> None:
        with contextlib.suppress(LiveventError):
            await self.bus.publish_bytes(keys.speech_in(self.event_id), StopJob().to_bytes())

    # -- to the worker -----------------------------------------------------------------------

    def send_frame(self, language: str, frame: bytes) -> None:
        self.send_input(frame_message(language, frame))

    def send_input(self, data: bytes) -> None:
        """A frame or an utterance's end: to the worker, or kept until one runs the job."""
        if not self.ready:
            now = time.monotonic()
            self._backlog.append((now, data))
            while self._backlog and now - self._backlog[0][0] > BACKLOG_SECONDS:
                self._backlog.popleft()
            return
        self._post(data)
        self.last_input = self.sent
        if not data.startswith(b"F"):
            self.tell_state()  # acknowledged at once: an ending waits on it

    def tell_state(self) -> None:
        session = self.session
        channels = {
            language: ChannelView(
                on_air=state.speaker is not None,
                paused=session.is_paused(language),
                listeners=session.has_listeners(language),
            )
            for language, state in session.channels.items()
        }
        state = OwnerState(
            owner=session.instance,
            rehearsing=session.rehearsing,
            origin=self.origin,
            channels=channels,
            seq=self.sent + 1,
        )
        self._post(state.to_bytes())

    def _post(self, data: bytes) -> None:
        if post(self._outbox, data):  # at most once between processes; never blocks
            self.sent += 1

    # -- placement ---------------------------------------------------------------------------

    async def _keep_placed(self) -> None:
        """Place the job, watch the worker that holds it, place it again when it is gone."""
        key = keys.speech_job(self.event_id)
        while True:
            raise_if_cancelled()
            try:
                holder = await self.bus.get(key)
                if holder is None or holder != self.worker:
                    if self.worker is not None:
                        self._lost(f"speech worker {self.worker} is gone")
                    if holder is not None:
                        self._adopt(holder)  # it runs the job already (an owner changed)
                    else:
                        await self._place()
                self.tell_state()
                self._bus_down = False
            except LiveventError as error:
                if not self._bus_down:  # once per outage, not twice a second
                    log.warning("event %s: speech job not watched: %s", self.event_id, error)
                self._bus_down = True
            self._placed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STATE_PERIOD):
                    await self._placed.wait()

    def _adopt(self, worker: str) -> None:
        self.worker = worker
        log.info("event %s: speech job placed on worker %s", self.event_id, worker)

    def _lost(self, why: str) -> None:
        log.warning("event %s: %s: placing its speech again", self.event_id, why)
        self.worker, self.ready, self.job = None, False, None
        self._retell()

    async def _place(self) -> None:
        reports = await registry.workers(self.bus)
        tried = set(self._exclude)
        while (choice := registry.choose(reports, exclude=tried)) is not None:
            offer = JobOffer(event=self.event_id, owner=self.session.instance)
            await self.bus.publish(keys.worker_offers(choice.name), offer.model_dump_json())
            if await self._claimed_by(choice.name):
                self._adopt(choice.name)
                self._exclude.clear()
                if self.problem is not None:
                    self.problem = None
                    self._retell()
                return
            tried.add(choice.name)
        problem = registry.capacity_problem(reports)
        if problem != self.problem:
            log.warning("event %s: machine channels unavailable: %s", self.event_id, problem)
            self.problem = problem
            self._retell()

    async def _claimed_by(self, worker: str) -> bool:
        key = keys.speech_job(self.event_id)
        deadline = time.monotonic() + OFFER_SECONDS
        while time.monotonic() < deadline:
            holder = await self.bus.get(key)
            if holder == worker:
                return True
            if holder is not None or self._refused_by == worker:
                return False
            await asyncio.sleep(0.05)  # polling the claim: the worker takes it in a few ms
        return False

    def _retell(self) -> None:
        for language, state in self.session.channels.items():
            if state.channel.kind is ChannelKind.MACHINE or state.standing_in:
                self.session.retell(language)

    # -- from the worker ---------------------------------------------------------------------

    def _apply(self, data: bytes) -> None:
        job = apply_output(self.session, data)
        if job is not None:
            self._job_state(job)

    def _job_state(self, job: JobState) -> None:
        if job.phase == "refused":
            self._refused_by = job.worker
            return
        if job.worker != self.worker:
            return  # a worker that let the job go, finishing its last words
        if job.phase in ("draining", "released", "dropped"):
            if job.phase == "draining":
                self._exclude.add(job.worker)
            self._lost(f"speech worker {job.worker} let the job go ({job.phase})")
            self._placed.set()
            return
        self.job = job
        self.acknowledged = max(self.acknowledged, job.upto)
        if job.problem != self.problem:
            self.problem = job.problem
            self._retell()
        if job.phase == "ready" and not self.ready:
            self.ready = True
            log.info("event %s: speech runs on worker %s now", self.event_id, job.worker)
            self.tell_state()
            self._replay()
            self._retell()

    def _replay(self) -> None:
        """What the floor said while no worker ran the job (at most BACKLOG_SECONDS of it)."""
        now = time.monotonic()
        backlog, self._backlog = self._backlog, deque()
        for at, data in backlog:
            if now - at <= BACKLOG_SECONDS:
                self.send_input(data)
