"""One live event in this process: its channels, speakers, listeners and what they are told.

A `LiveSession` holds the channel hubs and their booths. Its parts do the rest by
composition: `ScaleOut` links it to the other instances serving the event (owner or
relay), `Presence` keeps its share of the counts, slots and stats on the bus,
`Speakers` who speaks on each channel, and `OwnerDuties` what an owner runs (the
recordings, the speech pipeline, which talks back through `PipelineHost`, and the
lock). What it tells listeners is drawn in views.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from typing import Any

from livevent.bus import Bus
from livevent.http.sockets import CloseCode
from livevent.model import Channel, ChannelKind, EventConfig, EventStatus
from livevent.model.ids import channel_key
from livevent.runtime.cluster.duties import OwnerDuties, OwnerKit
from livevent.runtime.cluster.scaleout import ScaleOut, SessionRole
from livevent.runtime.cluster.speakers import Speakers
from livevent.runtime.live import views
from livevent.runtime.live.audience import Audience
from livevent.runtime.live.channels import ChannelState, channel_info
from livevent.runtime.live.ending import Finishing
from livevent.runtime.live.fanout import ChannelHub
from livevent.runtime.live.hosting import ChannelHost
from livevent.runtime.live.notes import Notes
from livevent.runtime.live.presence import Presence
from livevent.runtime.live.rehearsal import Rehearsal
from livevent.runtime.speech.host import SpeechPipeline
from livevent.runtime.wire import ChannelsChanged, Status, Welcome

log = logging.getLogger(__name__)

PACE_PERIOD = 0.5


class LiveSession(ChannelHost, Finishing, Rehearsal):
    """A running event. Created and ended by `LiveRuntime`; never touches the SQL store."""

    def __init__(
        self,
        *,
        config: EventConfig,
        bus: Bus,
        idle_pause: float = 30.0,
        instance: str = "local",
        role: SessionRole = "owner",
        kit: OwnerKit | None = None,
    ) -> None:
        self.config = config
        self.bus = bus
        self.instance = instance
        self.closing = False
        self.finishing = False  # ending: the floor is over, channels say their last words
        self.deaf = False  # leaving for a restart: what was said is being made final
        self.open_as(config.status)  # a rehearsal until the organizer goes live
        self.reason: str | None = None
        self.started_at = time.time()
        self.ended = asyncio.Event()
        self.channels: dict[str, ChannelState] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.audience = Audience(self)
        for channel in config.channels:
            self.channels[channel.language] = self._new_channel(channel)
        self.link = ScaleOut(
            bus=bus,
            event_id=config.id,
            channels=self.channels,
            role=role,
            feed_here=self._feed_here,
            spawn=lambda coroutine, name: self.spawn(coroutine, name=name),
            retell=self._notify,
            dialer=kit.dialer if kit is not None else None,
        )
        self.speakers = Speakers(
            bus=bus,
            event_id=config.id,
            instance=instance,
            channels=self.channels,
            is_owner=lambda: self.role == "owner",
            changed=self._speaker_changed,
            muted=self._set_muted,
            spawn=lambda coroutine, name: self.spawn(coroutine, name=name),
        )
        self.presence = Presence(
            bus=bus,
            event_id=config.id,
            instance=instance,
            channels=self.channels,
            idle_pause=idle_pause,
            on_gone=self.speakers.instance_gone,  # its speakers leave their channels
            sound_check=lambda: self.rehearsing,
        )
        self.duties = OwnerDuties(self, kit)
        spawner = lambda coroutine, name: self.spawn(coroutine, name=name)  # noqa: E731
        self.notes = Notes(bus, config.id, config.source_language, spawner, self.announce_here)

    @property
    def event_id(self) -> int:
        return self.config.id

    @property
    def role(self) -> SessionRole:
        return self.link.role

    @property
    def pipeline(self) -> SpeechPipeline | None:
        """The owner's machine pipeline, when the event has machine channels."""
        return self.duties.pipeline

    @property
    def machine_ready(self) -> bool:
        return self.duties.machine_ready

    # -- lifecycle ------------------------------------------------------------------

    async def open(self) -> None:
        await self.presence.announce()
        self.spawn(self.presence.publish_stats(self.snapshot, lambda: self.role), name="stats")
        self.spawn(self.audience.watch_pace(), name=f"pace:{self.event_id}")
        await self.speakers.open()
        await self.notes.open()
        await self.link.open()

    async def promote(self) -> None:
        """This relay takes over as owner (the owner is gone); listeners stay connected."""
        if self.role == "owner":
            return
        await self.link.become_owner()
        self.speakers.promote()
        for language in self.channels:
            self._notify(language)

    async def own(self) -> None:
        """This instance owns the event: record it, interpret it, keep the lock."""
        await self.duties.begin()

    async def reconfigure(self, config: EventConfig) -> list[Channel]:
        """Take a changed config while live: new channels open, labels follow; returns the new.

        The event service refuses to remove or retype the channels of a live event,
        so everything already here stays.
        """
        added = [c for c in config.channels if c.language not in self.channels]
        for channel in config.channels:
            state = self.channels.get(channel.language)
            if state is not None:
                state.hub.channel = channel
        for channel in added:
            state = self._new_channel(channel)
            self.channels[channel.language] = state
            self.link.publish_channel(channel.language, state)
        self.config = config
        if added:
            await self.link.channels_added()
            await self.duties.channels_added(added)
        self.duties.event_changed()
        update = ChannelsChanged(channels=[channel_info(c) for c in config.channels])
        for state in self.channels.values():
            state.hub.send(update)
        return added

    def _new_channel(self, channel: Channel) -> ChannelState:
        return ChannelState(ChannelHub(channel, on_slow=self.audience.drop_slow))

    def spawn(self, coroutine: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """A task owned by the session, cancelled when it closes."""
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(
        self,
        status: EventStatus,
        reason: str | None = None,
        code: CloseCode = CloseCode.EVENT_OVER,
        *,
        goes_on: bool | None = None,
    ) -> None:
        """Tell everyone why, close every socket, and clean the live keys (unless the
        event `goes_on` elsewhere: by default, when it is still LIVE)."""
        if self.ended.is_set() or self.closing:
            return
        # From here on, leaving listeners no longer touch the shared counts: this
        # instance's share goes out as a whole below.
        self.closing = True
        self.status, self.reason = status, reason
        message = self.status_message()
        for state in self.channels.values():
            state.hub.flush()
            state.hub.send(message)
        why = f"{status.value}: {reason}" if reason else status.value
        await self.audience.close_all(code, why)
        goes_on = goes_on if goes_on is not None else status is EventStatus.LIVE
        self.duties.close(goes_on=goes_on)
        current = asyncio.current_task()
        others = [task for task in self._tasks if task is not current]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        if goes_on:
            await self.presence.leave_keys()  # the event goes on elsewhere
        else:
            await self.presence.clean_keys()
        self.ended.set()

    # -- messages -------------------------------------------------------------------

    def status_message(self, channel: str | None = None) -> Status:
        return views.status(self, channel)

    def welcome(self, channel: str, audio_format: str) -> Welcome:
        return views.welcome(self, channel, audio_format)

    def interpreting(self) -> bool:
        return self.pipeline is not None and self.pipeline.busy

    def _notify(self, language: str) -> None:
        self.channels[language].hub.send(self.status_message(language))

    # -- channels -------------------------------------------------------------------

    def find_channel(self, key: str | int | None) -> ChannelState | None:
        """By language tag or number; None picks the floor channel."""
        if key is None:
            key = self.config.source_language
        if isinstance(key, str):
            key = channel_key(key)
        for state in self.channels.values():
            if key in (state.channel.number, state.channel.language):
                return state
        return None

    def feed(self, language: str, frame: bytes, arrived: float | None = None) -> None:
        if self.deaf or (self.finishing and language == self.config.source_language):
            return  # the floor is over; what it said is still being interpreted
        if self.role == "relay":
            if not self.channels[language].muted:
                self.link.forward(language, frame)
            return
        self._feed_here(language, frame, arrived)

    def _feed_here(self, language: str, frame: bytes, arrived: float | None) -> None:
        state = self.channels[language]
        if state.muted:
            return
        if not state.standing_in:  # the machine speaks for a silent interpreter meanwhile
            state.hub.push(frame, arrived)
        pipeline = self.pipeline
        if pipeline is None:
            return
        if language == self.config.source_language:
            pipeline.on_floor_frame(frame)
        elif state.speaker is not None and state.channel.kind is ChannelKind.HUMAN:
            pipeline.on_channel_frame(language, frame)  # an interpreter, not the machine

    def _floor_ended(self, language: str) -> None:
        """The channel's speaker stopped, left or muted: what they said is an utterance."""
        if self.pipeline is None:
            return
        if language == self.config.source_language:
            self.pipeline.end_of_speech()
        else:
            self.pipeline.channel_speech_ended(language)

    # -- speakers (self.speakers decides who is active; these apply it here) ----------

    def _speaker_changed(self, language: str) -> None:
        state = self.channels[language]
        state.hub.flush()
        state.muted = False
        if self.role == "owner" and not self.closing:
            self.duties.speaker_changed(language)
        self._notify(language)
        self._floor_ended(language)

    def _set_muted(self, language: str, muted: bool) -> None:
        self.channels[language].muted = muted
        if muted:
            self._floor_ended(language)
        self.channels[language].hub.flush()
        self._notify(language)

    def snapshot(self) -> dict[str, Any]:
        return views.snapshot(self)
