"""What the owner of a live event runs besides its channels: the recordings, the machine
pipeline, and the renewal of its lock. A session has its duties from the start and
takes them up when it owns the event (at once, or when a relay takes over).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from livevent.bus import Bus, keys
from livevent.errors import LiveventError
from livevent.model import Channel, ChannelKind, TranscriptSegment
from livevent.runtime.cluster.ownership import hold_lock
from livevent.runtime.engines import Engines
from livevent.runtime.live.channels import ChannelState
from livevent.runtime.speech import MachinePipeline, PipelineHost
from livevent.runtime.speech.finals import Recorder
from livevent.runtime.storage.recording import EventRecorder
from livevent.settings import Settings

log = logging.getLogger(__name__)

SILENCE_CHECK = 0.5  # seconds between looks at the interpreters' silence


@dataclass(frozen=True, slots=True)
class OwnerKit:
    """What an owner needs of its runtime; the same for every session the runtime opens."""

    settings: Settings
    bus: Bus
    engines: Engines
    record: Recorder  # the transcript writer's: sentences reach the spool first
    instance: str
    lost: Callable[[int], None]  # another instance holds the event's lock now


class OwnedSession(PipelineHost, Protocol):
    channels: dict[str, ChannelState]
    rehearsing: bool  # a rehearsal is neither recorded nor transcribed


class OwnerDuties:
    def __init__(self, session: OwnedSession, kit: OwnerKit | None) -> None:
        self.session = session
        self.kit = kit
        self.recorder: EventRecorder | None = None
        self.pipeline: MachinePipeline | None = None
        self.problem: str | None = None  # why the machine channels cannot run
        self._lease: asyncio.Task[None] | None = None
        self._begun = False

    async def begin(self) -> None:
        """Record every channel, start the machine pipeline, and keep the lock."""
        kit, session = self.kit, self.session
        if kit is None or self._lease is not None:
            return
        # The lock is kept from the first moment: loading the engines below takes seconds
        # on a busy machine, longer than the lock's TTL.
        self._lease = session.spawn(self._keep_lock(), name=f"own:{session.event_id}")
        if not session.rehearsing:
            self._record_channels()
        if any(self._needs_machine(c) for c in session.config.channels):
            await self.start_pipeline()
            for language in session.channels:
                self.speaker_changed(language)
            if any(c.fallback == "machine" for c in session.config.channels):
                session.spawn(self._watch_silence(), name=f"silence:{session.event_id}")
        self._begun = True  # channels added from now on get their booths here

    def _record_channels(self) -> None:
        kit, session = self.kit, self.session
        if kit is None or not kit.settings.record or self.recorder is not None:
            return
        self.recorder = EventRecorder(kit.settings.recordings_dir, session.event_id, kit.instance)
        for language, state in session.channels.items():
            self.recorder.start(language, state.hub)

    def go_live(self) -> None:
        """The rehearsal is over: recordings begin now, and transcripts on their clock."""
        if self.kit is None or self._lease is None:
            return  # not the owner: it records nothing
        self._record_channels()
        if self.pipeline is not None:
            self.pipeline.origin = self.recorder.started if self.recorder else time.monotonic()

    async def _transcribe(self, segment: TranscriptSegment) -> None:
        if self.kit is not None and not self.session.rehearsing:
            await self.kit.record(segment)  # a rehearsal leaves no transcript

    async def start_pipeline(self) -> None:
        assert self.kit is not None
        pipeline = MachinePipeline(
            self.session,
            self.kit.engines,
            record=self._transcribe,
            mode=self.kit.settings.interpretation,
            interpreters=self.kit.settings.interpreter_captions,
            origin=self.recorder.started if self.recorder is not None else None,
        )
        try:
            await pipeline.start()
        except LiveventError as error:
            # The floor and human channels go on; machine channels say why they are off.
            self.problem = str(error)
            log.error("event %s: machine channels unavailable: %s", self.session.event_id, error)
            return
        self.pipeline, self.problem = pipeline, None

    async def channels_added(self, added: list[Channel]) -> None:
        """Channels added while live: recorded, and the machine ones interpreted."""
        for channel in added:
            if self.recorder is not None:
                self.recorder.start(channel.language, self.session.channels[channel.language].hub)
        machine = [c for c in added if self._needs_machine(c)]
        if not machine or self.kit is None or not self._begun:
            return
        if self.pipeline is None:
            await self.start_pipeline()
        else:
            for channel in machine:
                if channel.kind is ChannelKind.MACHINE:
                    await self.pipeline.add_target(channel)
                elif self.kit.settings.interpreter_captions:
                    await self.pipeline.recognise(channel.language)
        for channel in machine:
            self.speaker_changed(channel.language)
            if channel.source is not None:
                self.speaker_changed(channel.source)

    def _needs_machine(self, channel: Channel) -> bool:
        """A machine channel, an interpreter's the machine stands in for, or one whose
        interpreter is captioned."""
        captioned = self.kit is not None and self.kit.settings.interpreter_captions
        return (
            channel.kind is ChannelKind.MACHINE
            or channel.fallback == "machine"
            or (channel.kind is ChannelKind.HUMAN and captioned)
        )

    def speaker_changed(self, language: str) -> None:
        """Who speaks the channel changed: a machine stand-in starts or stops, and the
        channels relayed from it translate the interpreter, or the floor without one."""
        self.stand_in(language)
        pipeline = self.pipeline
        if pipeline is None:
            return
        heard = pipeline.channels.get(language)
        if heard is not None:
            heard.last_voice = time.monotonic()  # a new interpreter has the grace too
        channels = self.session.channels
        on_air = channels[language].speaker is not None
        origin = language if on_air else self.session.config.source_language
        for state in channels.values():
            if state.channel.source == language:
                following = pipeline.follow(state.channel, origin)
                self.session.spawn(following, name=f"relay:{state.channel.language}")

    def stand_in(self, language: str, *, silent: bool = False) -> None:
        """An interpreter's channel with a machine fallback: the machine speaks it while
        no interpreter is on air (or the one on air is `silent` while the floor speaks),
        and stops the moment one speaks."""
        state = self.session.channels[language]
        pipeline = self.pipeline
        if pipeline is None or state.channel.fallback != "machine":
            return
        wanted = state.speaker is None or silent
        if wanted == state.standing_in:
            return
        state.standing_in = wanted
        if wanted:
            standing = pipeline.stand_in(state.channel, lambda: state.standing_in)
            self.session.spawn(standing, name=f"stand-in:{language}")
        else:
            self.session.spawn(pipeline.stand_down(language), name=f"stand-down:{language}")

    async def _watch_silence(self) -> None:
        """An interpreter on air but silent while the floor speaks, for longer than
        `fallback_after_silence`: the machine stands in until they speak again."""
        assert self.kit is not None
        limit = self.kit.settings.fallback_after_silence
        while True:
            await asyncio.sleep(SILENCE_CHECK)  # the watch's period, not a synchronisation
            pipeline = self.pipeline
            if pipeline is None or limit <= 0:
                continue
            now = time.monotonic()
            floor_speaks = now - pipeline.last_voice < SILENCE_CHECK * 4
            for language, state in self.session.channels.items():
                heard = pipeline.channels.get(language)
                if state.speaker is None or heard is None:
                    continue
                silent = now - heard.last_voice > limit
                if silent != state.standing_in and (floor_speaks or not silent):
                    self.stand_in(language, silent=silent)

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

    def close(self) -> None:
        if self.recorder is not None:
            self.recorder.close()  # its parts end here; a new owner starts new ones

    async def _keep_lock(self) -> None:
        assert self.kit is not None
        kit, event_id = self.kit, self.session.event_id
        await hold_lock(
            kit.bus, keys.live_owner(event_id), kit.instance, kit.settings.owner_lock_ttl
        )
        log.warning("event %s is owned elsewhere now: moving listeners", event_id)
        kit.lost(event_id)
