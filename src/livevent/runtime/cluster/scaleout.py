"""Scale-out of one live event: the owner instance runs it, relays serve their own listeners.

The owner publishes what each channel sends (`live_out`) and hears the frames that
speakers on other instances forward (`live_in`); a relay re-sends the owner's
messages to its listeners and forwards its speakers' frames. A relay that can reach
the owner directly does both over a line (cluster/line.py), which outlives an outage
of the bus. Between instances live audio is at most once: a full outbox drops, it
never blocks a hub.
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
from livevent.runtime.cluster.line import IN, OUT, Line, LineDialer
from livevent.runtime.live.channels import ChannelState
from livevent.runtime.media.audio import FRAME_BYTES
from livevent.runtime.wire import Status

SessionRole = Literal["owner", "relay"]
# Messages waiting to go to other instances; past this, live audio is dropped.
OUTBOX_MESSAGES = 1000
# On a channel's `in` pub/sub, beside speakers' PCM frames: a relay asks for audio.
WANT_AUDIO = b"W"
WANT_STATUS = b"S"
# While a relay has no line to its owner (on the bus meanwhile), it dials again this often.
LINE_RETRY_SECONDS = 1.0
WANT_PERIOD_SECONDS = 1.0

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
        dialer: LineDialer | None = None,
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
        self._dialer = dialer
        self._lines: set[Line] = set()  # the owner's lines to relays
        self._line: Line | None = None  # a relay's line to the owner

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
            state.hub.outbox = functools.partial(self.send_out, language)

    def send_out(self, language: str, data: bytes) -> None:
        """What the owner's channel sends, to the relays: on the bus and on every line."""
        self.post(keys.live_out(self.event_id, language), data)
        for line in self._lines:
            line.offer(OUT, language, data)

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
        self._to_owner(language, frame)

    def want_audio(self, language: str) -> None:
        """A relay has a listener for audio now: the owner encodes for it."""
        self._to_owner(language, WANT_AUDIO)

    def want_status(self, language: str) -> None:
        """A relay has a new listener: the owner says the channel's status again, so that
        it is told who speaks now, not at the owner's next change."""
        self._to_owner(language, WANT_STATUS)

    def _to_owner(self, language: str, data: bytes) -> None:
        if self._line is not None:
            self._line.offer(IN, language, data)
        else:
            self.post(keys.live_in(self.event_id, language), data)

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
        """A relay hears the owner over a line when it can dial one, else over the bus
        (and dials again every `LINE_RETRY_SECONDS`)."""
        over_bus: asyncio.Task[None] | None = None
        try:
            while True:
                raise_if_cancelled()
                line = await self._dialer.dial(self.event_id) if self._dialer else None
                if line is None:
                    if over_bus is None or over_bus.done():
                        over_bus = self._spawn(self._relay_over_bus(), f"bus:{self.event_id}")
                    if self._dialer is None:
                        await over_bus
                        return
                    await asyncio.sleep(LINE_RETRY_SECONDS)  # dial again later
                    continue
                if over_bus is not None:
                    # One source at a time: a message never reaches listeners twice.
                    over_bus.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await over_bus
                    over_bus = None
                await self._relay_over_line(line)
        finally:
            if over_bus is not None:
                over_bus.cancel()

    async def _relay_over_line(self, line: Line) -> None:
        self._line = line
        # A status sent while the relay moved from the bus to the line may be lost, and
        # a status is state: the owner says each channel's again.
        for language in self.channels:
            line.offer(IN, language, WANT_STATUS)
        wanting = self._spawn(self._keep_wanting_audio(line), f"want:{self.event_id}")
        try:
            async for language, data in line.messages(OUT):
                if language in self.channels:
                    self._from_owner(language, data)
        finally:
            self._line = None
            wanting.cancel()
            await line.close()

    async def _keep_wanting_audio(self, line: Line) -> None:
        """Say every second which channels have listeners here for audio: the owner
        encodes for them even while the bus that counts them is down."""
        while True:
            for language, state in self.channels.items():
                if any(not heard.captions_only for heard in state.hub.listeners.values()):
                    line.offer(IN, language, WANT_AUDIO)
            await asyncio.sleep(WANT_PERIOD_SECONDS)  # the period of the reminder

    async def _relay_over_bus(self) -> None:
        channels = {keys.live_out(self.event_id, language): language for language in self.channels}
        while True:
            try:
                subscription = await self.bus.subscribe_bytes(*channels)
                break
            except LiveventError:
                await asyncio.sleep(LINE_RETRY_SECONDS)  # the bus is down: try again
        # As over a line: a status sent while the relay was between sources (its line
        # broke, or it had none yet) is lost, and a status is state.
        for each in self.channels:
            self.post(keys.live_in(self.event_id, each), WANT_STATUS)
        try:
            async for message in subscription:
                language = channels.get(message.channel)
                if language is not None:
                    self._from_owner(language, message.data)
        finally:
            await subscription.aclose()

    def _from_owner(self, language: str, data: bytes) -> None:
        state = self.channels[language]
        parsed = state.hub.relay(data)
        if isinstance(parsed, Status):
            state.remote = parsed

    async def serve_line(self, line: Line) -> None:
        """The owner's end of a relay's line, until either side closes it (or the session)."""
        self._lines.add(line)
        try:
            hearing = self._spawn(self._hear_line(line), f"line:{self.event_id}:{line.peer}")
            await asyncio.wait({hearing})
        finally:
            self._lines.discard(line)
            await line.close()

    async def _hear_line(self, line: Line) -> None:
        async for language, data in line.messages(IN):
            if language in self.channels:
                self._from_relay(language, data)

    async def _hear_forwarded(self, subscription: BinarySubscription) -> None:
        """Speakers connected to other instances: their PCM frames, fed here."""
        languages = {keys.live_in(self.event_id, language): language for language in self.channels}
        try:
            async for message in subscription:
                language = languages.get(message.channel)
                if language is not None:
                    self._from_relay(language, message.data)
        finally:
            await subscription.aclose()

    def _from_relay(self, language: str, data: bytes) -> None:
        if data == WANT_AUDIO:
            # A relay has a listener now: encode for it before the next count.
            self.channels[language].hub.remote_audio = True
        elif data == WANT_STATUS:
            if self._retell is not None:
                self._retell(language)
        elif len(data) == FRAME_BYTES:
            self._feed_here(language, data, time.monotonic())
