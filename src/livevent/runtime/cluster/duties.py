"""What the owner of a live event runs besides its channels: the recordings, the machine
pipeline, and the renewal of its lock. A session has its duties from the start and
takes them up when it owns the event (at once, or when a relay takes over).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from livevent.bus import Bus, keys
from livevent.errors import LiveventError
from livevent.model import Channel
from livevent.model.output import OutputTarget
from livevent.runtime.broadcast.hls import EventBroadcast
from livevent.runtime.broadcast.push import EventPushes
from livevent.runtime.cluster.line import LineDialer
from livevent.runtime.cluster.ownership import hold_lock
from livevent.runtime.engines import Engines
from livevent.runtime.live.channels import ChannelState
from livevent.runtime.speech import PipelineHost
from livevent.runtime.speech.duties import SpeechDuties, needs_machine
from livevent.runtime.speech.finals import Recorder
from livevent.runtime.speech.host import SpeechPipeline
from livevent.runtime.storage.recording import EventRecorder
from livevent.runtime.workers.remote import RemoteSpeech
from livevent.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OwnerKit:
    """What an owner needs of its runtime; the same for every session the runtime opens."""

    settings: Settings
    bus: Bus
    engines: Engines
    record: Recorder  # the transcript writer's: sentences reach the spool first
    instance: str
    lost: Callable[[int], None]  # another instance holds the event's lock now
    # Where the event's channels are pushed (streaming platforms), stream keys included.
    outputs: Callable[[int], Awaitable[list[OutputTarget]]] | None = None
    dialer: LineDialer | None = None  # a relay's lines to owners


class OwnedSession(PipelineHost, Protocol):
    channels: dict[str, ChannelState]
    rehearsing: bool  # a rehearsal is neither recorded nor transcribed
    instance: str

    def retell(self, language: str) -> None: ...


class SpeechWork(Protocol):
    """The event's speech work as its owner drives it: in-process (`SpeechDuties`) or on
    a speech worker (`RemoteSpeech`)."""

    problem: str | None  # why the machine channels cannot run

    @property
    def pipeline(self) -> SpeechPipeline | None: ...

    @property
    def ready(self) -> bool:
        """The machine channels' pipeline runs (here, or on the worker that holds the job)."""

    async def begin(self, origin: float | None) -> None: ...

    def go_live(self, origin: float) -> None: ...

    async def channels_added(self, added: list[Channel]) -> None: ...

    def speaker_changed(self, language: str) -> None: ...


class OwnerDuties:
    def __init__(self, session: OwnedSession, kit: OwnerKit | None) -> None:
        self.session = session
        self.kit = kit
        self.recorder: EventRecorder | None = None
        self.speech: SpeechWork | None = None
        self.broadcast: EventBroadcast | None = None
        self.pushes: EventPushes | None = None
        self._lease: asyncio.Task[None] | None = None

    @property
    def pipeline(self) -> SpeechPipeline | None:
        return self.speech.pipeline if self.speech is not None else None

    @property
    def machine_ready(self) -> bool:
        return self.speech is not None and self.speech.ready

    @property
    def problem(self) -> str | None:
        """Why the machine channels cannot run (no speech capacity, an engine missing)."""
        return self.speech.problem if self.speech is not None else None

    async def begin(self) -> None:
        """Record every channel, start the speech work, and keep the lock."""
        kit, session = self.kit, self.session
        if kit is None or self._lease is not None:
            return
        # The lock is kept from the first moment: loading the engines below takes seconds
        # on a busy machine, longer than the lock's TTL.
        self._lease = session.spawn(self._keep_lock(), name=f"own:{session.event_id}")
        if not session.rehearsing:
            self._record_channels()
            self._broadcast()
            session.spawn(self.push(), name=f"outputs:{session.event_id}")
        settings = kit.settings
        if settings.speech == "workers":
            self.speech = RemoteSpeech(session, kit.bus, settings)
        else:
            self.speech = SpeechDuties(
                session,
                kit.engines,
                record=kit.record,
                mode=settings.interpretation,
                interpreter_captions=settings.interpreter_captions,
                fallback_after_silence=settings.fallback_after_silence,
                decode_every=settings.decode_every,
            )
        await self.speech.begin(self.recorder.started if self.recorder is not None else None)

    def _record_channels(self) -> None:
        kit, session = self.kit, self.session
        if kit is None or not kit.settings.record or self.recorder is not None:
            return
        self.recorder = EventRecorder(kit.settings.recordings_dir, session.event_id, kit.instance)
        for language, state in session.channels.items():
            self.recorder.start(language, state.hub)

    def _broadcast(self) -> None:
        kit, session = self.kit, self.session
        if kit is None or not kit.settings.hls or self.broadcast is not None:
            return
        if not session.config.broadcast:
            return  # its organizer keeps this event off the broadcast
        self.broadcast = EventBroadcast(kit.settings, session.config, kit.instance)
        hubs = {language: state.hub for language, state in session.channels.items()}
        self.broadcast.start(hubs, self._captioned())

    async def push(self) -> None:
        """Push each output the event has now (a live event only: never a rehearsal)."""
        kit, session = self.kit, self.session
        if kit is None or kit.outputs is None or session.rehearsing or self._lease is None:
            return
        try:
            targets = await kit.outputs(session.event_id)
        except LiveventError as error:
            log.warning("event %s: its outputs not read: %s", session.event_id, error)
            return
        if self.pushes is None:
            if not targets:
                return
            hubs = {language: state.hub for language, state in session.channels.items()}
            self.pushes = EventPushes(hubs)
        self.pushes.sync(targets)

    def event_changed(self) -> None:
        """The event changed (an output added or removed, its broadcast turned on or off,
        maybe): the owner pushes and broadcasts anew."""
        if self._lease is None or self.session.rehearsing:
            return
        self.session.spawn(self.push(), name=f"outputs:{self.session.event_id}")
        if not self.session.config.broadcast and self.broadcast is not None:
            self.broadcast.close()  # what went out so far stays, its playlists ended
            self.broadcast = None
        self._broadcast()

    def _captioned(self) -> set[str]:
        """The channels captions come in: every one the speech work serves, and the floor."""
        assert self.kit is not None
        config, captions = self.session.config, self.kit.settings.interpreter_captions
        served = {
            c.language for c in config.channels if needs_machine(c, interpreter_captions=captions)
        }
        return served | {config.source_language} if served else set()

    def go_live(self) -> None:
        """The rehearsal is over: recordings and the broadcast begin now, and transcripts
        on the recordings' clock."""
        if self.kit is None or self._lease is None:
            return  # not the owner: it records nothing
        self._record_channels()
        self._broadcast()
        self.session.spawn(self.push(), name=f"outputs:{self.session.event_id}")
        if self.speech is not None:
            self.speech.go_live(self.recorder.started if self.recorder else time.monotonic())

    async def channels_added(self, added: list[Channel]) -> None:
        """Channels added while live: recorded, and the machine ones interpreted."""
        for channel in added:
            if self.recorder is not None:
                self.recorder.start(channel.language, self.session.channels[channel.language].hub)
        if self.broadcast is not None and added:
            hubs = {language: state.hub for language, state in self.session.channels.items()}
            self.broadcast.reconfigured(self.session.config, hubs, self._captioned())
        if self.speech is not None:
            await self.speech.channels_added(added)

    def speaker_changed(self, language: str) -> None:
        if self.speech is not None:
            self.speech.speaker_changed(language)

    async def release(self) -> None:
        """Stop renewing the lock, then free it (renewed in between, it outlived us)."""
        lease, self._lease = self._lease, None
        if lease is not None:
            lease.cancel()
            await asyncio.gather(lease, return_exceptions=True)
        if self.kit is not None:
            key = keys.live_owner(self.session.event_id)
            with contextlib.suppress(LiveventError):
                await self.kit.bus.release(key, self.kit.instance)

    def close(self, *, goes_on: bool) -> None:
        """The session closes; unless the event `goes_on` elsewhere, its speech job ends."""
        if self.recorder is not None:
            self.recorder.close()  # its parts end here; a new owner starts new ones
        if self.broadcast is not None:
            self.broadcast.close(over=not goes_on)  # its playlists end: an archive now
        if self.pushes is not None:
            self.pushes.close()
        if isinstance(self.speech, RemoteSpeech):
            self.speech.close(goes_on=goes_on)

    async def _keep_lock(self) -> None:
        assert self.kit is not None
        kit, event_id = self.kit, self.session.event_id
        await hold_lock(
            kit.bus, keys.live_owner(event_id), kit.instance, kit.settings.owner_lock_ttl
        )
        log.warning("event %s is owned elsewhere now: moving listeners", event_id)
        kit.lost(event_id)
