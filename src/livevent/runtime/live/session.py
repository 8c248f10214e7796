"""One live event in this process: its channels, speakers, listeners and what they are told.

A `LiveSession` holds the channel hubs and their booths. Two parts do the rest by
composition: `ScaleOut` links it to the other instances serving the event (owner or
relay), `Presence` keeps its share of the counts, slots and stats on the bus. A
speech pipeline is attached with `attach` and talks back through `PipelineHost`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Coroutine
from typing import Any, Protocol

from aiohttp import web

from livevent.aio import raise_if_cancelled
from livevent.bus import Bus
from livevent.http.sockets import CloseCode, close_socket
from livevent.model import Channel, ChannelKind, EventConfig, EventStatus
from livevent.model.ids import channel_key
from livevent.runtime.cluster.scaleout import ScaleOut, SessionRole
from livevent.runtime.cluster.speakers import Speakers
from livevent.runtime.live.channels import ChannelState, channel_info
from livevent.runtime.live.fanout import ChannelHub, Listener
from livevent.runtime.live.presence import Presence
from livevent.runtime.storage.recording import EventRecorder
from livevent.runtime.wire import Caption, ChannelsChanged, EventInfo, Status, Welcome

log = logging.getLogger(__name__)

PACE_PERIOD = 0.5


class SpeechPipeline(Protocol):
    """What a session asks of the machine pipeline attached to it."""

    def on_floor_frame(self, frame: bytes) -> None: ...
    def end_of_speech(self) -> None: ...
    def snapshot(self) -> dict[str, Any]: ...
    async def add_target(self, channel: Channel) -> None: ...


class LiveSession:
    """A running event. Created and ended by `LiveRuntime`; never touches the SQL store."""

    def __init__(
        self,
        *,
        config: EventConfig,
        bus: Bus,
        idle_pause: float = 30.0,
        instance: str = "local",
        role: SessionRole = "owner",
    ) -> None:
        self.config = config
        self.bus = bus
        self.instance = instance
        self.closing = False
        self.status = EventStatus.LIVE
        self.reason: str | None = None
        self.started_at = time.time()
        self.ended = asyncio.Event()
        self.channels: dict[str, ChannelState] = {}
        self._sockets: weakref.WeakValueDictionary[str, web.WebSocketResponse] = (
            weakref.WeakValueDictionary()
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        self.pipeline: SpeechPipeline | None = None  # the owner's, when it has machine channels
        self.recorder: EventRecorder | None = None  # the owner's
        self.lease: asyncio.Task[None] | None = None  # the owner's: renews its lock
        self.machine_problem: str | None = None
        for channel in config.channels:
            self.channels[channel.language] = ChannelState(
                ChannelHub(channel, on_slow=self._drop_slow)
            )
        self.link = ScaleOut(
            bus=bus,
            event_id=config.id,
            channels=self.channels,
            role=role,
            feed_here=self._feed_here,
            spawn=lambda coroutine, name: self.spawn(coroutine, name=name),
        )
        self.presence = Presence(
            bus=bus,
            event_id=config.id,
            instance=instance,
            channels=self.channels,
            idle_pause=idle_pause,
        )
        self.speakers = Speakers(
            bus=bus,
            event_id=config.id,
            channels=self.channels,
            is_owner=lambda: self.role == "owner",
            changed=self._speaker_changed,
            muted=self._set_muted,
            spawn=lambda coroutine, name: self.spawn(coroutine, name=name),
        )

    @property
    def event_id(self) -> int:
        return self.config.id

    @property
    def role(self) -> SessionRole:
        return self.link.role

    @property
    def machine_ready(self) -> bool:
        return self.pipeline is not None

    # -- lifecycle ------------------------------------------------------------------

    async def open(self) -> None:
        await self.presence.announce()
        self.spawn(self.presence.publish_stats(self.snapshot, lambda: self.role), name="stats")
        self.spawn(self._watch_pace(), name=f"pace:{self.event_id}")
        await self.speakers.open()
        await self.link.open()

    async def promote(self) -> None:
        """This relay takes over as owner (the owner is gone); listeners stay connected."""
        if self.role == "owner":
            return
        await self.link.become_owner()
        self.speakers.promote()
        for language in self.channels:
            self._notify(language)

    def attach(self, pipeline: SpeechPipeline) -> None:
        """The machine pipeline hears the floor from now on and fills the machine channels."""
        self.pipeline = pipeline
        self.machine_problem = None

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
            if self.recorder is not None:
                self.recorder.start(channel.language, state.hub)
        self.config = config
        if added:
            await self.link.channels_added()
        update = ChannelsChanged(channels=[channel_info(c) for c in config.channels])
        for state in self.channels.values():
            state.hub.send(update)
        return added

    def _new_channel(self, channel: Channel) -> ChannelState:
        return ChannelState(ChannelHub(channel, on_slow=self._drop_slow))

    def spawn(self, coroutine: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """A task owned by the session, cancelled when it closes."""
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(
        self, status: EventStatus, reason: str | None = None, code: CloseCode = CloseCode.EVENT_OVER
    ) -> None:
        """Tell everyone why, close every socket, and clean the live keys."""
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
        await asyncio.gather(
            *(close_socket(ws, code, why) for ws in list(self._sockets.values())),
            return_exceptions=True,
        )
        if self.recorder is not None:
            self.recorder.close()  # its parts end here; a new owner starts new ones
        current = asyncio.current_task()
        others = [task for task in self._tasks if task is not current]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        if status is EventStatus.LIVE:
            await self.presence.leave_keys()  # the event goes on elsewhere
        else:
            await self.presence.clean_keys()
        self.ended.set()

    # -- messages -------------------------------------------------------------------

    def status_message(self, channel: str | None = None) -> Status:
        message = Status(event=self.event_id, event_status=self.status.value, reason=self.reason)
        if channel is None:
            return message
        state = self.channels[channel]
        message.channel = channel
        message.channel_state = self.channel_state(channel)
        message.speaker = state.speaker is not None and not state.muted
        if state.remote is not None:
            message.speaker = bool(state.remote.get("speaker"))
        problem = state.problem or (
            self.machine_problem if state.channel.kind is ChannelKind.MACHINE else None
        )
        if problem and message.channel_state == "unavailable":
            message.channel_reason = problem
        elif state.note and message.channel_state != "unavailable":
            message.channel_reason = state.note
        elif state.remote is not None:
            message.channel_reason = state.remote.get("channel_reason")
        return message

    def welcome(self, channel: str, audio_format: str) -> Welcome:
        event = EventInfo(
            id=self.event_id,
            name=self.config.name,
            status=self.status.value,
            source_language=self.config.source_language,
        )
        channels = [channel_info(state.channel) for state in self.channels.values()]
        return Welcome(event=event, channels=channels, channel=channel, format=audio_format)

    def channel_state(self, language: str) -> str:
        return self.channels[language].on_air(machine_ready=self.machine_ready)

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
        if self.role == "relay":
            if not self.channels[language].muted:
                self.link.forward(language, frame)
            return
        self._feed_here(language, frame, arrived)

    def _feed_here(self, language: str, frame: bytes, arrived: float | None) -> None:
        state = self.channels[language]
        if state.muted:
            return
        state.hub.push(frame, arrived)
        if language == self.config.source_language and self.pipeline is not None:
            self.pipeline.on_floor_frame(frame)

    def _floor_ended(self, language: str) -> None:
        if language == self.config.source_language and self.pipeline is not None:
            self.pipeline.end_of_speech()

    # -- what the speech pipeline may do (PipelineHost) -----------------------------

    def caption(self, language: str, caption: Caption) -> None:
        self.channels[language].hub.send(caption)

    def flush(self, language: str) -> None:
        self.channels[language].hub.flush()

    def set_playing(self, language: str, playing: bool) -> None:
        """A machine channel started or finished speaking a translation."""
        self.channels[language].playing = playing
        self._notify(language)

    def set_problem(self, language: str, problem: str) -> None:
        """A machine channel cannot run, and says why."""
        self.channels[language].problem = problem

    def set_note(self, language: str, note: str) -> None:
        self.channels[language].note = note
        self._notify(language)

    def is_paused(self, language: str) -> bool:
        return self.channels[language].paused

    def has_listeners(self, language: str) -> bool:
        return bool(self.channels[language].hub.listeners)

    # -- speakers (self.speakers decides who is active; these apply it here) ----------

    def _speaker_changed(self, language: str) -> None:
        state = self.channels[language]
        state.hub.flush()
        state.muted = False
        self._notify(language)
        self._floor_ended(language)

    def _set_muted(self, language: str, muted: bool) -> None:
        self.channels[language].muted = muted
        if muted:
            self._floor_ended(language)
        self.channels[language].hub.flush()
        self._notify(language)

    # -- listeners ------------------------------------------------------------------

    def track(self, socket_id: str, ws: web.WebSocketResponse) -> None:
        self._sockets[socket_id] = ws

    async def join(self, listener: Listener, language: str) -> bool:
        """Admit the listener to the channel; False when the event is full (its limit)."""
        limit = self.config.limits.max_listeners
        if not await self.presence.admit(language, listener.id, limit):
            return False
        state = self.channels[language]
        state.hub.add(listener)
        state.idle_since = None
        state.paused = False
        if self.role == "relay" and not listener.captions_only:
            self.link.want_audio(language)
        return True

    async def leave(self, listener_id: str, language: str) -> None:
        state = self.channels[language]
        if state.hub.remove(listener_id) is None:
            return
        if not state.hub.listeners:
            state.idle_since = time.monotonic()
        if not self.closing:
            await self.presence.discharge(language, listener_id)

    def _drop_slow(self, listener: Listener) -> None:
        # Its socket closes within the close deadline, aborted if it cannot take
        # the close frame; the listener's handler then leaves and frees its place.
        log.info("listener %s is too far behind the live edge: dropping it", listener.id)
        ws = self._sockets.get(listener.id)
        if ws is None:
            listener.transport.abort()
            return
        closing = close_socket(ws, CloseCode.TOO_SLOW, "too far behind the live edge")
        self.spawn(closing, name=f"drop-slow:{listener.id}")

    async def _watch_pace(self) -> None:
        while True:
            raise_if_cancelled()
            now = time.monotonic()
            for state in list(self.channels.values()):
                state.hub.check_pace(now)
            await asyncio.sleep(PACE_PERIOD)  # the probe's period, not a synchronisation

    # -- stats ----------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        pipeline = self.pipeline.snapshot() if self.pipeline is not None else {}
        machine = pipeline.get("channels", {})
        return {
            "pipeline": {k: v for k, v in pipeline.items() if k != "channels"},
            "event": self.event_id,
            "name": self.config.name,
            "status": self.status.value,
            "started_at": self.started_at,
            "channels": {
                language: {
                    "number": state.channel.number,
                    "kind": state.channel.kind.value,
                    "state": self.channel_state(language),
                    "speaker": state.speaker is not None,
                    "listeners": len(state.hub.listeners),
                    **state.hub.stats.as_dict(),
                    **machine.get(language, {}),
                }
                for language, state in self.channels.items()
            },
        }
