"""One live event in this process: its channel hubs, speakers, listeners and live state."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import web

from livevent.aio import raise_if_cancelled
from livevent.bus import BinarySubscription, Bus, keys
from livevent.errors import LiveventError
from livevent.http.sockets import CloseCode, close_socket
from livevent.model import Channel, ChannelKind, EventConfig, EventStatus, language_name
from livevent.model.ids import channel_key
from livevent.runtime.audio import FRAME_BYTES
from livevent.runtime.booth import Booth, TurnCallback
from livevent.runtime.fanout import ChannelHub, Listener
from livevent.runtime.wire import PROTOCOL_VERSION

if TYPE_CHECKING:
    from livevent.runtime.pipeline import MachinePipeline

log = logging.getLogger(__name__)

SessionRole = Literal["owner", "relay"]
# Messages waiting to go to other instances; past this, live audio is dropped.
OUTBOX_MESSAGES = 1000
# On a channel's `in` pub/sub, beside speakers' PCM frames: a relay asks for audio.
WANT_AUDIO = b"W"


def channel_info(channel: Channel) -> dict[str, Any]:
    return {
        "number": channel.number,
        "language": channel.language,
        "name": language_name(channel.language),
        "kind": channel.kind.value,
        "label": channel.label,
    }


@dataclass(slots=True)
class ChannelState:
    hub: ChannelHub
    booth: Booth = field(default_factory=Booth)
    muted: bool = False
    idle_since: float | None = field(default_factory=time.monotonic)
    paused: bool = True
    playing: bool = False  # a machine channel speaking a translation
    problem: str | None = None  # why a machine channel cannot run
    remote: dict[str, Any] | None = None  # on a relay: the owner's last status of the channel

    @property
    def speaker(self) -> str | None:
        return self.booth.active


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
        speaker_slot_ttl: float = 3.0,
    ) -> None:
        self.config = config
        self.bus = bus
        self.idle_pause = idle_pause
        # Scale-out: the owner runs the pipelines and publishes what its channels
        # send; a relay serves its own listeners from that and forwards its speakers.
        self.instance = instance
        self.role: SessionRole = role
        self._outbox: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(OUTBOX_MESSAGES)
        self._link: asyncio.Task[None] | None = None
        self.closing = False
        # A dead instance's speaker frees the channel as fast as its events move.
        self.speaker_slot_ttl = max(2.0, speaker_slot_ttl)
        self.status = EventStatus.LIVE
        self.reason: str | None = None
        self.started_at = time.time()
        self.ended = asyncio.Event()
        self.channels: dict[str, ChannelState] = {}
        self._sockets: weakref.WeakValueDictionary[str, web.WebSocketResponse] = (
            weakref.WeakValueDictionary()
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        # Whoever wants the floor's frames as they come (the machine pipeline).
        self.floor_taps: list[Callable[[bytes], None]] = []
        self.floor_end_taps: list[Callable[[], None]] = []
        self.machine_ready = False
        self.machine_problem: str | None = None
        self.pipeline_snapshot: Callable[[], dict[str, Any]] | None = None
        self.pipeline: MachinePipeline | None = None  # the owner's, when it has machine channels
        for channel in config.channels:
            hub = ChannelHub(channel, on_slow=self._drop_slow)
            self.channels[channel.language] = ChannelState(hub=hub)

    @property
    def event_id(self) -> int:
        return self.config.id

    # -- lifecycle ------------------------------------------------------------------

    async def open(self) -> None:
        await self.bus.sadd(keys.live_instances(self.event_id), self.instance)
        self.spawn(self._publish_stats(), name=f"stats:{self.event_id}")
        self.spawn(self._publish_outbox(), name=f"outbox:{self.event_id}")
        self.spawn(self._watch_pace(), name=f"pace:{self.event_id}")
        if self.role == "owner":
            await self._become_owner()
        else:
            self._link = self.spawn(self._relay_from_owner(), name=f"relay:{self.event_id}")

    async def promote(self) -> None:
        """This relay takes over as owner (the owner is gone); listeners stay connected."""
        if self.role == "owner":
            return
        self.role = "owner"
        for state in self.channels.values():
            state.remote = None
        await self._become_owner()
        for language in self.channels:
            self._notify(language)

    async def _become_owner(self) -> None:
        for language, state in self.channels.items():
            channel = keys.live_out(self.event_id, language)
            state.hub.outbox = functools.partial(self._post, channel)
        await self.bus.put(keys.live_state(self.event_id), EventStatus.LIVE.value)
        await self.bus.sadd(keys.live_channels(self.event_id), *self.channels)
        await self._relink()

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
            hub = ChannelHub(channel, on_slow=self._drop_slow)
            self.channels[channel.language] = ChannelState(hub=hub)
            if self.role == "owner":
                hub.outbox = functools.partial(
                    self._post, keys.live_out(self.event_id, channel.language)
                )
        self.config = config
        if added:
            with contextlib.suppress(LiveventError):
                await self.bus.sadd(keys.live_channels(self.event_id), *self.channels)
            await self._relink()
        update = {"type": "channels", "channels": [channel_info(c) for c in config.channels]}
        for state in self.channels.values():
            state.hub.send_json(update)
        return added

    async def _relink(self) -> None:
        """Listen to other instances on the current channel set."""
        if self._link is not None:
            self._link.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._link
        if self.role == "owner":
            subscription = await self.bus.subscribe_bytes(
                *(keys.live_in(self.event_id, language) for language in self.channels)
            )
            self._link = self.spawn(self._hear_forwarded(subscription), name=f"in:{self.event_id}")
        else:
            self._link = self.spawn(self._relay_from_owner(), name=f"relay:{self.event_id}")

    def _post(self, channel: str, data: bytes) -> None:
        try:
            self._outbox.put_nowait((channel, data))
        except asyncio.QueueFull:
            pass  # live audio is at-most-once between instances; never block the hub

    async def _publish_outbox(self) -> None:
        while True:
            raise_if_cancelled()
            channel, data = await self._outbox.get()
            try:
                await self.bus.publish_bytes(channel, data)
            except LiveventError:
                continue  # the bus is down: these messages are lost, the local ones are not

    async def _relay_from_owner(self) -> None:
        channels = {keys.live_out(self.event_id, language): language for language in self.channels}
        subscription = await self.bus.subscribe_bytes(*channels)
        try:
            async for message in subscription:
                language = channels.get(message.channel)
                if language is None:
                    continue
                state = self.channels[language]
                parsed = state.hub.relay(message.data)
                if parsed is not None and parsed.get("type") == "status":
                    state.remote = parsed
        finally:
            await subscription.aclose()

    async def _hear_forwarded(self, subscription: BinarySubscription) -> None:
        """Speakers connected to other instances: their PCM frames, fed here."""
        languages = {keys.live_in(self.event_id, language): language for language in self.channels}
        try:
            async for message in subscription:
                language = languages.get(message.channel)
                if language is None:
                    continue
                if message.data == WANT_AUDIO:
                    # A relay has a listener now: encode for it before the next count.
                    self.channels[language].hub.remote_audio = True
                elif len(message.data) == FRAME_BYTES:
                    self._feed_here(language, message.data, time.monotonic())
        finally:
            await subscription.aclose()

    def spawn(self, coroutine: Any, *, name: str) -> asyncio.Task[Any]:
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
            state.hub.send_json(message)
        sockets = list(self._sockets.values())
        why = f"{status.value}: {reason}" if reason else status.value
        await asyncio.gather(
            *(close_socket(ws, code, why) for ws in sockets),
            return_exceptions=True,
        )
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        await asyncio.gather(*(t for t in self._tasks if t is not current), return_exceptions=True)
        if status is EventStatus.LIVE:
            await self._leave_keys()  # the event goes on elsewhere
        else:
            await self._clean_keys()
        self.ended.set()

    async def _leave_keys(self) -> None:
        """This instance stops serving a live event: take its share out, nothing else."""
        event_id = self.event_id
        try:
            await self.bus.retire_share(
                keys.live_listeners(event_id), keys.live_listeners_share(event_id, self.instance)
            )
            await self.bus.srem(keys.live_instances(event_id), self.instance)
            await self.bus.delete(
                *(keys.live_channel_stats(event_id, lang, self.instance) for lang in self.channels)
            )
            for language in self.channels:
                await self.bus.release(keys.live_speaker(event_id, language), self.instance)
        except LiveventError as error:
            log.warning("could not leave the live keys of event %s: %s", event_id, error)

    async def _clean_keys(self) -> None:
        event_id = self.event_id
        try:
            instances = await self.bus.smembers(keys.live_instances(event_id))
            await self.bus.delete(
                keys.live_state(event_id),
                keys.live_listeners(event_id),
                keys.live_channels(event_id),
                keys.live_instances(event_id),
                *(keys.live_listeners_share(event_id, i) for i in instances | {self.instance}),
                *(keys.live_connections(event_id, language) for language in self.channels),
                *(keys.live_speaker(event_id, language) for language in self.channels),
                *(
                    keys.live_channel_stats(event_id, language, instance)
                    for language in self.channels
                    for instance in instances | {self.instance}
                ),
            )
        except LiveventError as error:
            log.warning("could not clean the live keys of event %s: %s", event_id, error)

    # -- messages -------------------------------------------------------------------

    def status_message(self, channel: str | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "status",
            "event": self.event_id,
            "event_status": self.status.value,
        }
        if self.reason:
            message["reason"] = self.reason
        if channel is not None:
            state = self.channels[channel]
            message["channel"] = channel
            message["channel_state"] = self.channel_state(channel)
            message["speaker"] = state.speaker is not None and not state.muted
            if state.remote is not None:
                message["speaker"] = bool(state.remote.get("speaker"))
            problem = state.problem or (
                self.machine_problem if state.hub.channel.kind is ChannelKind.MACHINE else None
            )
            if problem and message["channel_state"] == "unavailable":
                message["channel_reason"] = problem
        return message

    def welcome(self, channel: str, audio_format: str) -> dict[str, Any]:
        return {
            "type": "welcome",
            "protocol": PROTOCOL_VERSION,
            "event": {
                "id": self.event_id,
                "name": self.config.name,
                "status": self.status.value,
                "source_language": self.config.source_language,
            },
            "channels": [channel_info(s.hub.channel) for s in self.channels.values()],
            "channel": channel,
            "format": audio_format,
        }

    def channel_state(self, language: str) -> str:
        state = self.channels[language]
        if state.remote is not None:
            return str(state.remote.get("channel_state", "waiting"))
        if state.hub.channel.kind is ChannelKind.MACHINE and state.speaker is None:
            # Fed by the speech pipeline: without it the channel is honestly off air.
            if not self.machine_ready or state.problem:
                return "unavailable"
            if state.paused:
                return "paused"
            return "live" if state.playing else "waiting"
        if state.paused:
            return "paused"
        return "live" if state.speaker is not None and not state.muted else "waiting"

    # -- channels -------------------------------------------------------------------

    def find_channel(self, key: str | int | None) -> ChannelState | None:
        """By language tag or number; None picks the floor channel."""
        if key is None:
            key = self.config.source_language
        if isinstance(key, str):
            key = channel_key(key)
        for state in self.channels.values():
            channel = state.hub.channel
            if key in (channel.number, channel.language):
                return state
        return None

    def feed(self, language: str, frame: bytes, arrived: float | None = None) -> None:
        if self.role == "relay":
            if not self.channels[language].muted:
                self._post(keys.live_in(self.event_id, language), frame)
            return
        self._feed_here(language, frame, arrived)

    def _feed_here(self, language: str, frame: bytes, arrived: float | None) -> None:
        state = self.channels[language]
        if state.muted:
            return
        state.hub.push(frame, arrived)
        if language == self.config.source_language:
            for tap in self.floor_taps:
                tap(frame)

    async def claim_speaker(
        self, language: str, *, standby: bool = False, on_turn: TurnCallback | None = None
    ) -> str | None:
        """A speaker id when the channel was free (or, with `standby`, a partner's), else None.

        One speaker per channel across every instance: the first to speak here
        also takes the channel's slot on the bus; partners wait on that instance.
        """
        state = self.channels[language]
        if state.booth.active is None and not await self._take_microphone(language):
            return None
        speaker_id = state.booth.enter(on_turn, standby=standby)
        if speaker_id is not None and state.booth.active == speaker_id:
            self._notify(language)
        return speaker_id

    def is_active(self, language: str, speaker_id: str) -> bool:
        return self.channels[language].booth.active == speaker_id

    def hand_over(self, language: str, speaker_id: str) -> bool:
        """The active speaker yields to a partner in standby; False when there is none."""
        state = self.channels[language]
        if not state.booth.hand_over(speaker_id):
            return False
        self._speaker_changed(language)
        return True

    def release_speaker(self, language: str, speaker_id: str) -> None:
        booth = self.channels[language].booth
        if booth.leave(speaker_id):
            self._speaker_changed(language)
        if booth.active is None:
            self.spawn(self._free_microphone(language), name=f"free-mic:{language}")

    async def _take_microphone(self, language: str) -> bool:
        key = keys.live_speaker(self.event_id, language)
        try:
            return await self.bus.acquire(key, self.instance, self.speaker_slot_ttl) or (
                await self.bus.get(key) == self.instance
            )
        except LiveventError as error:
            log.warning("speaker slot not checked across instances: %s", error)
            return True  # the bus is down: serve the speaker rather than nobody

    async def _free_microphone(self, language: str) -> None:
        with contextlib.suppress(LiveventError):
            await self.bus.release(keys.live_speaker(self.event_id, language), self.instance)

    async def _keep_microphones(self) -> None:
        """Renew the slots of the channels whose speaker is here (part of the stats round)."""
        for language, state in self.channels.items():
            if state.booth.active is None:
                continue
            key = keys.live_speaker(self.event_id, language)
            if not await self.bus.renew(key, self.instance, self.speaker_slot_ttl):
                await self.bus.acquire(key, self.instance, self.speaker_slot_ttl)

    def _speaker_changed(self, language: str) -> None:
        state = self.channels[language]
        state.hub.flush()
        state.muted = False
        self._notify(language)
        if language == self.config.source_language:
            for tap in self.floor_end_taps:
                tap()

    def set_muted(self, language: str, muted: bool) -> None:
        self.channels[language].muted = muted
        if muted and language == self.config.source_language:
            for tap in self.floor_end_taps:
                tap()
        self.channels[language].hub.flush()
        self._notify(language)

    def set_playing(self, language: str, playing: bool) -> None:
        """A machine channel started or finished speaking a translation."""
        self.channels[language].playing = playing
        self._notify(language)

    def _notify(self, language: str) -> None:
        self.channels[language].hub.send_json(self.status_message(language))

    # -- listeners ------------------------------------------------------------------

    def track(self, socket_id: str, ws: web.WebSocketResponse) -> None:
        self._sockets[socket_id] = ws

    async def join(self, listener: Listener, language: str) -> bool:
        """Admit the listener to the channel; False when the event is full (its limit)."""
        try:
            admitted = await self.bus.hincr_shared(
                keys.live_listeners(self.event_id),
                keys.live_listeners_share(self.event_id, self.instance),
                language,
                1,
                limit=self.config.limits.max_listeners,
            )
        except LiveventError as error:
            # The bus is down: serve the listener; the counts are rebuilt when it is back.
            log.warning("admitting a listener uncounted: %s", error)
            admitted = True
        if not admitted:
            return False
        state = self.channels[language]
        state.hub.add(listener)
        state.idle_since = None
        state.paused = False
        if self.role == "relay" and not listener.captions_only:
            self._post(keys.live_in(self.event_id, language), WANT_AUDIO)
        with contextlib.suppress(LiveventError):
            await self.bus.sadd(keys.live_connections(self.event_id, language), listener.id)
        return True

    async def leave(self, listener_id: str, language: str) -> None:
        state = self.channels[language]
        if state.hub.remove(listener_id) is None:
            return
        if not state.hub.listeners:
            state.idle_since = time.monotonic()
        if self.closing:
            return
        with contextlib.suppress(LiveventError):
            await self.bus.hincr_shared(
                keys.live_listeners(self.event_id),
                keys.live_listeners_share(self.event_id, self.instance),
                language,
                -1,
            )
            await self.bus.srem(keys.live_connections(self.event_id, language), listener_id)

    def _drop_slow(self, listener: Listener) -> None:
        # Its socket closes within the close deadline, aborted if it cannot take
        # the close frame; the listener's handler then leaves and frees its place.
        log.info("listener %s is too far behind the live edge: dropping it", listener.id)
        ws = self._sockets.get(listener.id)
        if ws is not None:
            self.spawn(
                close_socket(ws, CloseCode.TOO_SLOW, "too far behind the live edge"),
                name=f"drop-slow:{listener.id}",
            )
        else:
            listener.transport.abort()

    async def _watch_pace(self) -> None:
        while True:
            raise_if_cancelled()
            now = time.monotonic()
            for state in list(self.channels.values()):
                state.hub.check_pace(now)
            await asyncio.sleep(0.5)  # the probe's period, not a synchronisation

    # -- stats ----------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        pipeline = self.pipeline_snapshot() if self.pipeline_snapshot else {}
        machine = pipeline.get("channels", {})
        return {
            "pipeline": {k: v for k, v in pipeline.items() if k != "channels"},
            "event": self.event_id,
            "name": self.config.name,
            "status": self.status.value,
            "started_at": self.started_at,
            "channels": {
                language: {
                    "number": state.hub.channel.number,
                    "kind": state.hub.channel.kind.value,
                    "state": self.channel_state(language),
                    "listeners": len(state.hub.listeners),
                    "frames_in": state.hub.stats.frames_in,
                    "messages_out": state.hub.stats.messages_out,
                    "deliveries": state.hub.stats.deliveries,
                    "drops": state.hub.stats.drops,
                    "latency_ms": round(state.hub.stats.latency_ms, 1),
                    **machine.get(language, {}),
                }
                for language, state in self.channels.items()
            },
        }

    def _update_pauses(self, everywhere: Mapping[str, int]) -> None:
        now = time.monotonic()
        for language, state in self.channels.items():
            remote = everywhere.get(language, 0) - len(state.hub.listeners)
            state.hub.remote_audio = self.role == "owner" and remote > 0
            if state.hub.listeners or remote > 0:
                state.paused = False
                state.idle_since = None
            elif state.idle_since is None:
                state.idle_since = now
            elif now - state.idle_since >= self.idle_pause:
                state.paused = True

    async def _publish_stats(self) -> None:
        event_id = self.event_id
        total = keys.live_listeners(event_id)
        share = keys.live_listeners_share(event_id, self.instance)
        while True:
            raise_if_cancelled()
            try:
                # Exact counts again after a Redis restart, from our own connections.
                here = {language: len(s.hub.listeners) for language, s in self.channels.items()}
                await self.bus.reconcile_share(total, share, here)
                await self._keep_microphones()
                await self.bus.sadd(keys.live_instances(event_id), self.instance)
                await self._retire_dead_instances()
                everywhere = {k: int(v) for k, v in (await self.bus.hgetall(total)).items()}
                self._update_pauses(everywhere)
                snapshot = self.snapshot()
                for language, values in snapshot["channels"].items():
                    stats_key = keys.live_channel_stats(event_id, language, self.instance)
                    await self.bus.hset(stats_key, {**values, "role": self.role})
            except LiveventError as error:
                log.warning("could not publish live stats: %s", error)
                self._update_pauses({})
            except Exception:
                # A bug here must not stop the counts from healing next time round.
                log.exception("live stats of event %s failed", event_id)
            await asyncio.sleep(1.0)  # the stats period, not a synchronisation

    async def _retire_dead_instances(self) -> None:
        """Take the listeners of instances whose heartbeat stopped out of the counts."""
        event_id = self.event_id
        for other in await self.bus.smembers(keys.live_instances(event_id)):
            if other == self.instance or await self.bus.get(keys.instance_alive(other)):
                continue
            log.warning("instance %s is gone: its listeners of event %s leave", other, event_id)
            await self.bus.retire_share(
                keys.live_listeners(event_id), keys.live_listeners_share(event_id, other)
            )
            await self.bus.srem(keys.live_instances(event_id), other)
