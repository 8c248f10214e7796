"""Scale-out of one live event: the owner instance runs it, relays serve their own listeners.

The owner publishes what each channel sends (`live_out`) and hears the frames that
speakers on other instances forward (`live_in`); a relay re-sends the owner's
messages to its listeners and forwards its speakers' frames. Between instances live
audio is at most once: a full outbox drops, it never blocks a hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Callable, Coroutine
from typing import Any, Literal

from livevent.aio import raise_if_cancelled
from livevent.bus import BinarySubscription, Bus, keys
from livevent.errors import LiveventError
from livevent.model import EventStatus
from livevent.runtime.live.channels import ChannelState
from livevent.runtime.media.audio import FRAME_BYTES
from livevent.runtime.wire import Status

SessionRole = Literal["owner", "relay"]
# Messages waiting to go to other instances; past this, live audio is dropped.
OUTBOX_MESSAGES = 1000
# On a channel's `in` pub/sub, beside speakers' PCM frames: a relay asks for audio.
WANT_AUDIO = b"W"
WANT_STATUS = b"S"

FeedHere = Callable[[str, bytes, float | None], None]


class ScaleOut:
    """The links of one session to the other instances serving its event."""

    def __init__(
        self,
        *,
        bus: Bus,
        event_id: int,
        channels: dict[str, ChannelState],
        role: SessionRole,
        feed_here: FeedHere,
        spawn: Callable[[Coroutine[Any, Any, Any], str], asyncio.Task[Any]],
        retell: Callable[[str], None] | None = None,
    ) -> None:
        self.bus = bus
        self.event_id = event_id
        self.channels = channels
        self.role: SessionRole = role
        self._feed_here = feed_here
        self._spawn = spawn
        self._retell = retell  # the owner says a channel's status again (to a new relay)
        self._outbox: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(OUTBOX_MESSAGES)
        self._link: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self._spawn(self._publish_outbox(), f"outbox:{self.event_id}")
        if self.role == "owner":
            await self.become_owner()
        else:
            self._link = self._spawn(self._relay_from_owner(), f"relay:{self.event_id}")

    async def become_owner(self) -> None:
        self.role = "owner"
        for language, state in self.channels.items():
            state.remote = None
            self.publish_channel(language, state)
        await self.bus.put(keys.live_state(self.event_id), EventStatus.LIVE.value)
        await self.bus.sadd(keys.live_channels(self.event_id), *self.channels)
        await self.relink()

    def publish_channel(self, language: str, state: ChannelState) -> None:
        """On the owner, what this channel's hub sends goes to the relays too."""
        if self.role == "owner":
            state.hub.outbox = functools.partial(self.post, keys.live_out(self.event_id, language))

    async def channels_added(self) -> None:
        with contextlib.suppress(LiveventError):
            await self.bus.sadd(keys.live_channels(self.event_id), *self.channels)
        await self.relink()

    async def relink(self) -> None:
        """Listen to other instances on the current channel set."""
        if self._link is not None:
            self._link.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._link
        if self.role == "owner":
            subscription = await self.bus.subscribe_bytes(
                *(keys.live_in(self.event_id, language) for language in self.channels)
            )
            self._link = self._spawn(self._hear_forwarded(subscription), f"in:{self.event_id}")
        else:
            self._link = self._spawn(self._relay_from_owner(), f"relay:{self.event_id}")

    def forward(self, language: str, frame: bytes) -> None:
        """A relay's speaker frame, to the owner."""
        self.post(keys.live_in(self.event_id, language), frame)

    def want_audio(self, language: str) -> None:
        """A relay has a listener for audio now: the owner encodes for it."""
        self.post(keys.live_in(self.event_id, language), WANT_AUDIO)

    def want_status(self, language: str) -> None:
        """A relay has a new listener: the owner says the channel's status again, so that
        it is told who speaks now, not at the owner's next change."""
        self.post(keys.live_in(self.event_id, language), WANT_STATUS)

    def post(self, channel: str, data: bytes) -> None:
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
                if isinstance(parsed, Status):
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
                elif message.data == WANT_STATUS:
                    if self._retell is not None:
                        self._retell(language)
                elif len(message.data) == FRAME_BYTES:
                    self._feed_here(language, message.data, time.monotonic())
        finally:
            await subscription.aclose()
