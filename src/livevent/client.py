"""Clients of the live protocol (docs/protocol.md): listen to a channel, speak on one.

    async with ListenerClient.connect("http://127.0.0.1:8080", 123457, channel="es") as es:
        await es.until(lambda heard: heard.captions())       # reads in the background
        print(es.heard.captions()[0]["text"], es.heard.seconds)

    async with SpeakerClient.connect(url, 123457, token=token) as floor:
        await floor.send(pcm, pace=1.0)                       # 16 kHz s16le, in real time
        await floor.end()

A listener keeps reading all the time, as a real client must: the server pings each
listener to measure how far behind it is, and drops one that stops reading. Opus is
decoded with PyAV when `decode=True` (the default); ask for `audio="pcm"` to need
no decoder at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar
from urllib.parse import urlencode

import aiohttp
from pydantic import BaseModel

from livevent.runtime.media.audio import SAMPLE_RATE
from livevent.runtime.wire import (
    AudioKind,
    AudioMessage,
    ListenerSwitch,
    Outgoing,
    SpeakerEnd,
    SpeakerHandover,
    SpeakerMute,
    read_server_message,
    unpack_audio,
)

Message = dict[str, Any]
OutgoingT = TypeVar("OutgoingT", bound=Outgoing)
AudioFormat = Literal["opus", "pcm"]


@dataclass
class Heard:
    """What a listener received: decoded audio, the server's messages, and how its socket
    closed.

    `messages` are the messages read into the protocol's own models (runtime/wire.py),
    the classes the server wrote them with: `heard.typed(Caption)` picks one kind. For
    dict users, `raw` keeps each JSON message as sent (also one of a kind this client
    does not know yet), and `of_type("status")` and `captions()` read from it.
    """

    audio: bytearray = field(default_factory=bytearray)
    messages: list[Outgoing] = field(default_factory=list)
    raw: list[Message] = field(default_factory=list)
    sequences: list[int] = field(default_factory=list)
    close_code: int | None = None
    close_reason: str | None = None
    closed_at: float | None = None  # monotonic time the close arrived
    audio_seconds: float = 0.0

    @property
    def received(self) -> list[Outgoing]:
        """The typed messages (`messages`), by the name earlier versions gave them."""
        return self.messages

    def typed(self, kind: type[OutgoingT]) -> list[OutgoingT]:
        """The messages of one model: `heard.typed(Caption)`."""
        return [message for message in self.messages if isinstance(message, kind)]

    @property
    def seconds(self) -> float:
        """Seconds of audio received (decoded or kept, or counted when not kept)."""
        return self.audio_seconds

    def of_type(self, kind: str) -> list[Message]:
        """The JSON messages (dicts, as sent) of one `type`."""
        return [message for message in self.raw if message.get("type") == kind]

    def captions(self, *, final: bool = True) -> list[Message]:
        return [c for c in self.of_type("caption") if bool(c.get("final")) is final]

    @property
    def closed(self) -> bool:
        return self.close_code is not None


def _json(message: BaseModel) -> str:
    return message.model_dump_json(exclude_none=True)


def _socket_url(base_url: str, path: str, query: dict[str, str]) -> str:
    base = base_url.rstrip("/")
    if base.startswith("http"):
        base = "ws" + base[4:]
    return f"{base}{path}" + (f"?{urlencode(query)}" if query else "")


class ListenerClient:
    """One listener on one channel (switchable), over any aiohttp WebSocket."""

    def __init__(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        *,
        heard: Heard | None = None,
        decode: bool = True,
        keep_audio: bool = True,
        on_message: Callable[[Message], None] | None = None,
        on_audio: Callable[[AudioMessage], None] | None = None,
    ) -> None:
        self.ws = ws
        self.on_audio = on_audio
        self.heard = heard if heard is not None else Heard()
        self.keep_audio = keep_audio
        self.on_message = on_message
        self._decoder: Any = None
        if decode:
            from livevent.runtime.media.opus import OpusDecoder  # PyAV, only when decoding

            self._decoder = OpusDecoder()
        self._reader: asyncio.Task[Heard] | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(
        cls,
        base_url: str,
        event_id: int,
        *,
        channel: str | int | None = None,
        token: str | None = None,
        audio: AudioFormat = "opus",
        captions_only: bool = False,
        decode: bool = True,
        keep_audio: bool = True,
        on_message: Callable[[Message], None] | None = None,
    ) -> AsyncIterator[ListenerClient]:
        """Listen to `/listen/{event_id}`; reads in the background until the block ends."""
        query: dict[str, str] = {"format": audio}
        if channel is not None:
            query["channel"] = str(channel)
        if token is not None:
            query["token"] = token
        if captions_only:
            query["captions_only"] = "1"
        url = _socket_url(base_url, f"/listen/{event_id}", query)
        async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
            listener = cls(ws, decode=decode, keep_audio=keep_audio, on_message=on_message)
            listener.start()
            try:
                yield listener
            finally:
                await listener.close()

    # -- reading --------------------------------------------------------------------

    async def read_until(self, done: Callable[[Heard], bool], within: float = 20.0) -> Heard:
        """Read messages into `heard` until `done(heard)` or the socket closes."""
        async with asyncio.timeout(within):
            while not done(self.heard):
                if not await self._read_one():
                    break
        return self.heard

    def start(self) -> ListenerClient:
        """Read in the background until the socket closes."""
        if self._reader is None:
            closed: Callable[[Heard], bool] = lambda heard: heard.closed  # noqa: E731
            reading = self.read_until(closed, within=float("inf"))
            self._reader = asyncio.create_task(reading, name="listener-client")
        return self

    async def until(self, done: Callable[[Heard], Any], within: float = 20.0) -> Heard:
        """Wait until what was read satisfies `done`; fail saying why if the socket closed."""
        assert self._reader is not None, "start() the listener first"
        deadline = time.monotonic() + within
        while not done(self.heard):
            if self._reader.done():
                self._reader.result()  # a read that failed raises here
                raise AssertionError(
                    f"closed ({self.heard.close_code} {self.heard.close_reason})"
                    " before the condition"
                )
            if time.monotonic() >= deadline:
                raise TimeoutError("condition not met before the deadline")
            await asyncio.sleep(0.02)  # polling what the reader stored, with a deadline
        return self.heard

    async def closed(self, within: float = 20.0) -> Heard:
        """Wait for the server to close the socket."""
        assert self._reader is not None, "start() the listener first"
        return await asyncio.wait_for(asyncio.shield(self._reader), within)

    async def _read_one(self) -> bool:
        message = await self.ws.receive()
        if message.type is aiohttp.WSMsgType.BINARY:
            self._audio(message.data)
        elif message.type is aiohttp.WSMsgType.TEXT:
            parsed: Message = json.loads(message.data)
            self.heard.raw.append(parsed)
            model = read_server_message(message.data)
            if model is not None:
                self.heard.messages.append(model)
            if self.on_message is not None:
                self.on_message(parsed)
        else:
            # The code the server sent in its CLOSE frame; ws.close_code can read
            # 1006 once the server process has gone before the handshake ends.
            closing = message.type is aiohttp.WSMsgType.CLOSE
            self.heard.close_code = int(message.data) if closing else self.ws.close_code or 1006
            self.heard.close_reason = message.extra if isinstance(message.extra, str) else None
            self.heard.closed_at = time.monotonic()
            return False
        return True

    def _audio(self, data: bytes) -> None:
        audio = unpack_audio(data)
        self.heard.sequences.append(audio.sequence)
        if self.on_audio is not None:
            self.on_audio(audio)
        for frame in audio.frames:
            if audio.kind is AudioKind.OPUS:
                if self._decoder is None:
                    self.heard.audio_seconds += 0.02  # one 20 ms packet, not decoded
                    continue
                frame = self._decoder.decode(frame)
            self.heard.audio_seconds += len(frame) / 2 / SAMPLE_RATE
            if self.keep_audio:
                self.heard.audio += frame

    # -- talking back ---------------------------------------------------------------

    async def switch(self, channel: str | int) -> None:
        await self.ws.send_str(_json(ListenerSwitch(type="switch", channel=str(channel))))

    async def close(self) -> None:
        await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)


class SpeakerClient:
    """The floor speaker or an interpreter: sends 16 kHz mono s16le PCM."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.greeting: Message | None = None  # `ready`, or `standby` for a booth partner

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(
        cls,
        base_url: str,
        event_id: int,
        *,
        channel: int = 1,
        token: str,
        standby: bool = False,
        within: float = 20.0,
    ) -> AsyncIterator[SpeakerClient]:
        """Speak on `/speak/{event_id}/{channel}`, once the server said ready or standby."""
        query: dict[str, str] = {"token": token, **({"standby": "1"} if standby else {})}
        url = _socket_url(base_url, f"/speak/{event_id}/{channel}", query)
        async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
            speaker = cls(ws)
            await speaker.greeted(within)
            yield speaker

    async def greeted(self, within: float = 20.0) -> Message:
        """The server's first message: ready (on air) or standby; raises if it closes."""
        message = await self.ws.receive(timeout=within)
        if message.type is not aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"the server closed the speaker socket: {message.extra}")
        self.greeting = json.loads(message.data)
        return self.greeting

    async def send(self, pcm: bytes, *, chunk: int = 3200, pace: float | None = None) -> None:
        """Send PCM in `chunk`-byte messages (100 ms by default); `pace` 1.0 is real time."""
        started = time.monotonic()
        for offset in range(0, len(pcm), chunk):
            await self.ws.send_bytes(pcm[offset : offset + chunk])
            if pace:
                sent = (offset + chunk) / 2 / SAMPLE_RATE / pace
                await asyncio.sleep(max(0.0, started + sent - time.monotonic()))  # pacing

    async def mute(self, muted: bool = True) -> None:
        await self.ws.send_str(_json(SpeakerMute(type="mute" if muted else "unmute")))

    async def hand_over(self) -> None:
        await self.ws.send_str(_json(SpeakerHandover(type="handover")))

    async def end(self, *, end_event: bool = False) -> None:
        """Say the speaker is done (the floor may end the event too)."""
        await self.ws.send_str(_json(SpeakerEnd(type="end", end_event=end_event)))


__all__ = ["Heard", "ListenerClient", "SpeakerClient"]
