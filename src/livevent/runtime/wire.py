"""The WebSocket protocol, version 1 (docs/protocol.md): binary audio and JSON messages.

A listener's binary message carries several 20 ms frames of one channel:

    offset  size  field
    0       1     kind: 1 = Opus packets, 2 = PCM s16le mono 16 kHz
    1       1     frame count
    2       4     sequence number of the message in its channel (uint32, big-endian)
    6       8     timestamp of the first frame in samples at 16 kHz since the channel began
    14      ...   Opus: per frame, a uint16 big-endian length then the packet;
                  PCM: the samples
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidationError,
    model_serializer,
)

# The close codes are part of the protocol; which error gets which is decided there.
from livevent.http.sockets import CloseCode as CloseCode

PROTOCOL_VERSION = 1

_HEADER = struct.Struct(">BBIQ")
_LENGTH = struct.Struct(">H")


class AudioKind(IntEnum):
    OPUS = 1
    PCM = 2


@dataclass(slots=True, frozen=True)
class AudioMessage:
    kind: AudioKind
    sequence: int
    timestamp: int
    frames: list[bytes]


def pack_audio(kind: AudioKind, sequence: int, timestamp: int, frames: list[bytes]) -> bytes:
    header = _HEADER.pack(kind, len(frames), sequence & 0xFFFFFFFF, timestamp)
    if kind is AudioKind.PCM:
        return header + b"".join(frames)
    return header + b"".join(_LENGTH.pack(len(f)) + f for f in frames)


def unpack_audio(data: bytes) -> AudioMessage:
    kind, count, sequence, timestamp = _HEADER.unpack_from(data)
    body = memoryview(data)[_HEADER.size :]
    if kind == AudioKind.PCM:
        return AudioMessage(AudioKind.PCM, sequence, timestamp, [bytes(body)])
    frames, offset = [], 0
    for _ in range(count):
        (length,) = _LENGTH.unpack_from(body, offset)
        offset += _LENGTH.size
        frames.append(bytes(body[offset : offset + length]))
        offset += length
    return AudioMessage(AudioKind(kind), sequence, timestamp, frames)


TEXT, BINARY, PING = 0x1, 0x2, 0x9  # RFC 6455 5.2 opcodes


def websocket_frame(payload: bytes, *, text: bool = False, opcode: int | None = None) -> bytes:
    """A whole unmasked server-to-client frame (RFC 6455 5.2), built once for every listener."""
    first = 0x80 | (opcode if opcode is not None else TEXT if text else BINARY)  # FIN + opcode
    size = len(payload)
    if size < 126:
        header = bytes((first, size))
    elif size < 1 << 16:
        header = struct.pack(">BBH", first, 126, size)
    else:
        header = struct.pack(">BBQ", first, 127, size)
    return header + payload


# -- JSON messages ---------------------------------------------------------------


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AudioFormat(_Message):
    encoding: Literal["pcm_s16le"] = "pcm_s16le"
    sample_rate: Literal[16000] = 16000
    channels: Literal[1] = 1


class SpeakerHello(_Message):
    type: Literal["hello"]
    format: AudioFormat = Field(default_factory=AudioFormat)


class SpeakerMute(_Message):
    type: Literal["mute", "unmute"]


class SpeakerEnd(_Message):
    type: Literal["end"]
    end_event: bool = Field(False, description="the floor speaker also ends the event")


class SpeakerHandover(_Message):
    """The active speaker yields the channel to the booth partner standing by."""

    type: Literal["handover"]


class SpeakerChat(_Message):
    """A note to the booth: the partners on this channel, and the organizer."""

    type: Literal["chat"]
    text: str = Field(min_length=1, max_length=500)


class SpeakerLevel(_Message):
    """The microphone's level over the last second, for the organizer's live view."""

    type: Literal["level"]
    level: float = Field(ge=0, le=1, description="RMS, 0 (silence) to 1 (full scale)")
    peak: float = Field(ge=0, le=1, description="the highest sample; 1 is clipping")


class SpeakerSignal(_Message):
    """`slow_down` reaches the floor speaker's page; `audio_unusable` the organizer's;
    `ask_channel`, from a partner standing by, the booth (the active colleague)."""

    type: Literal["signal"]
    signal: Literal["slow_down", "audio_unusable", "ask_channel"]


SpeakerMessage = Annotated[
    SpeakerHello
    | SpeakerMute
    | SpeakerEnd
    | SpeakerHandover
    | SpeakerChat
    | SpeakerSignal
    | SpeakerLevel,
    Field(discriminator="type"),
]


class ListenerHello(_Message):
    type: Literal["hello"]
    channel: str | None = None
    format: Literal["opus", "pcm"] = "opus"
    captions_only: bool = False


class ListenerSwitch(_Message):
    type: Literal["switch"]
    channel: str


ListenerMessage = Annotated[ListenerHello | ListenerSwitch, Field(discriminator="type")]

speaker_messages: TypeAdapter[Any] = TypeAdapter(SpeakerMessage)
listener_messages: TypeAdapter[Any] = TypeAdapter(ListenerMessage)


# -- outgoing JSON messages --------------------------------------------------------
# Built as models, serialised once (`to_json`) however many listeners get them. An
# optional field that is None is left out, as version 1 always did.


class Outgoing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=True)


async def send(ws: web.WebSocketResponse, message: Outgoing) -> None:
    await ws.send_str(message.to_json())


class ChannelInfo(Outgoing):
    number: int
    language: str
    name: str
    own_name: str | None = Field(
        None, description="the language's name in itself, for listeners (Català, Español)"
    )
    kind: str
    label: str | None = None

    @model_serializer(mode="wrap")
    def _label_always(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        data.setdefault("label", self.label)  # null says "no label": clients fall back to name
        return data


class EventInfo(Outgoing):
    id: int
    name: str
    status: str
    source_language: str


class Welcome(Outgoing):
    type: Literal["welcome"] = "welcome"
    protocol: int = PROTOCOL_VERSION
    event: EventInfo
    channels: list[ChannelInfo]
    channel: str
    format: str


class Status(Outgoing):
    """The event's state and, on a channel, the channel's: who speaks, why it is off."""

    type: Literal["status"] = "status"
    event: int
    event_status: str
    reason: str | None = None
    channel: str | None = None
    channel_state: str | None = None
    speaker: bool | None = None
    channel_reason: str | None = None
    starts_at: str | None = Field(
        None, description="before the event is live (WAITING): when it is planned to start"
    )
    channel_warning: str | None = Field(
        None,
        description="what listeners should know of a channel that runs (a voice hard to follow)",
    )
    relayed_from: str | None = Field(
        None,
        description="a relayed machine channel: the interpreter's channel it translates now;"
        " absent while it translates the floor (nobody interprets its source)",
    )
    machine: bool | None = Field(
        None,
        description="the machine speaks this channel now (a machine channel, or one standing"
        " in for its interpreter); false: a person",
    )
    rehearsal: bool | None = Field(
        None,
        description="a rehearsal before the event is live: only its speakers and staff hear"
        " it, and nothing is recorded",
    )
    ending: bool | None = Field(
        None,
        description="the event is ending: the floor stopped, channels finish their last"
        " sentences (channel_state `finishing`), then the event is over",
    )


class Caption(Outgoing):
    """Text of the floor or a translation; a partial (`final` false) may still change."""

    type: Literal["caption"] = "caption"
    channel: str
    seq: int
    final: bool
    text: str
    stable: str | None = Field(None, description="a partial's prefix that will not change")
    start: float | None = Field(None, description="media seconds of the source it covers")
    end: float | None = None
    source_text: str | None = Field(None, description="a translation's source text")
    translated_from: str | None = Field(
        None, description="the channel a translation was made from (the floor, or a relay's)"
    )


class ChannelsChanged(Outgoing):
    type: Literal["channels"] = "channels"
    channels: list[ChannelInfo]


class GlossaryLine(BaseModel):
    """A term of the event's glossary as the booth says it in its language."""

    term: str
    translation: str


class Ready(Outgoing):
    """A speaker is on air: send audio in this format."""

    type: Literal["ready"] = "ready"
    protocol: int = PROTOCOL_VERSION
    event: int
    channel: int
    language: str
    format: AudioFormat = Field(default_factory=AudioFormat)
    glossary: list[GlossaryLine] = Field(
        default_factory=list,
        description="the event's glossary in this channel's language (what the machine says too)",
    )
    rehearsal: bool | None = Field(
        None, description="a rehearsal: listeners hear nothing yet and nothing is recorded"
    )


class BoothNote(Outgoing):
    """A note between the booths, the floor and the organizer: chat, or a signal."""

    type: Literal["note"] = "note"
    kind: Literal["chat", "slow_down", "audio_unusable", "ask_channel", "announcement"]
    channel: str = Field(description="the channel it is about (where it came from, or to)")
    sender: str = Field(description="interpreter, speaker or organizer")
    text: str | None = None
    at: float = Field(description="seconds since 1970 it was sent")


class Ending(Outgoing):
    """To speakers and interpreters: the event is ending; they finish their sentence and
    are off air after `seconds` (the socket closes with 4010 once every channel is done)."""

    type: Literal["ending"] = "ending"
    seconds: float


class Announcement(Outgoing):
    """The organizer's message to every listener (a banner on their page)."""

    type: Literal["announcement"] = "announcement"
    text: str
    at: float


class Standby(Outgoing):
    """A booth partner waits: its audio reaches nobody until it is handed the channel."""

    type: Literal["standby"] = "standby"
    reason: str
    glossary: list[GlossaryLine] = Field(default_factory=list)
    rehearsal: bool | None = None


class ErrorMessage(Outgoing):
    """A message that was not applied; the socket stays open."""

    type: Literal["error"] = "error"
    message: str


ServerMessage = Annotated[
    Welcome
    | Status
    | Caption
    | ChannelsChanged
    | Ready
    | Standby
    | ErrorMessage
    | BoothNote
    | Announcement,
    Field(discriminator="type"),
]
_server_messages: TypeAdapter[Any] = TypeAdapter(ServerMessage)


def read_server_message(data: str | bytes) -> Outgoing | None:
    """A server's JSON message as its model (what a relay or a client reads), None if it
    is not one: the same classes write and read every message of the protocol."""
    try:
        message: Outgoing = _server_messages.validate_json(data)
    except ValidationError:
        return None
    return message
