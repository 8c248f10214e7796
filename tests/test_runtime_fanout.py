"""ChannelHub, on its own: batching, one frame for every listener, drops, the pace probe."""

from __future__ import annotations

import asyncio
import json
import struct

from livevent.model import Channel, ChannelKind
from livevent.runtime.live.fanout import BATCH_FRAMES, PACE_PING_SECONDS, ChannelHub, Listener
from livevent.runtime.media.audio import FRAME_BYTES, FRAME_SAMPLES
from livevent.runtime.wire import PING, AudioKind, Caption, unpack_audio


class RecordingTransport(asyncio.Transport):
    """Keeps what the hub writes; its buffer size is whatever the test says."""

    def __init__(self, buffered: int = 0) -> None:
        super().__init__()
        self.written = bytearray()
        self.buffered = buffered
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def frames(self) -> list[tuple[int, bytes]]:
        """The (opcode, payload) of each unmasked WebSocket frame written (RFC 6455 5.2)."""
        found, offset, data = [], 0, bytes(self.written)
        while offset < len(data):
            opcode, size = data[offset] & 0x0F, data[offset + 1] & 0x7F
            offset += 2
            if size == 126:
                (size,) = struct.unpack_from(">H", data, offset)
                offset += 2
            elif size == 127:
                (size,) = struct.unpack_from(">Q", data, offset)
                offset += 8
            found.append((opcode, data[offset : offset + size]))
            offset += size
        return found


def hub(**options: object) -> ChannelHub:
    channel = Channel(number=2, language="es-ES", kind=ChannelKind.HUMAN)
    return ChannelHub(channel, **options)  # type: ignore[arg-type]


def listener(name: str, transport: RecordingTransport, **options: object) -> Listener:
    return Listener(id=name, transport=transport, **options)  # type: ignore[arg-type]


def tone(index: int) -> bytes:
    return bytes([index % 251]) * FRAME_BYTES


def test_frames_are_batched_and_every_listener_gets_the_same_bytes() -> None:
    channel = hub()
    one, two, quiet = RecordingTransport(), RecordingTransport(), RecordingTransport()
    channel.add(listener("one", one, format="pcm"))
    channel.add(listener("two", two, format="pcm"))
    channel.add(listener("quiet", quiet, format="pcm", captions_only=True))
    for index in range(BATCH_FRAMES * 2 + 2):
        channel.push(tone(index))
    channel.flush()  # the speaker paused: the last two frames go out now

    assert one.written == two.written
    messages = [unpack_audio(payload) for _, payload in one.frames()]
    assert [m.sequence for m in messages] == [0, 1, 2]
    assert [m.timestamp for m in messages] == [0, BATCH_FRAMES * FRAME_SAMPLES, 10 * FRAME_SAMPLES]
    assert all(m.kind is AudioKind.PCM for m in messages)
    pcm = b"".join(m.frames[0] for m in messages)
    assert pcm == b"".join(tone(index) for index in range(12))
    assert quiet.written == b""  # captions only: no audio at all
    assert channel.stats.frames_in == 12 and channel.stats.deliveries == 6


def test_opus_listeners_get_opus_that_decodes_to_the_same_length() -> None:
    from livevent.runtime.media.opus import OpusDecoder

    channel = hub()
    transport = RecordingTransport()
    channel.add(listener("one", transport))
    for index in range(50):
        channel.push(tone(index))
    channel.flush()
    decoder = OpusDecoder()
    messages = [unpack_audio(payload) for _, payload in transport.frames()]
    assert all(m.kind is AudioKind.OPUS for m in messages)
    decoded = b"".join(decoder.decode(packet) for m in messages for packet in m.frames)
    assert abs(len(decoded) - 50 * FRAME_BYTES) <= 2 * FRAME_BYTES  # codec delay at most


def test_nobody_listening_costs_no_encoding() -> None:
    channel = hub()
    for index in range(20):
        channel.push(tone(index))
    assert channel.stats.frames_in == 20 and channel.stats.messages_out == 0


def test_captions_are_serialised_once_and_reach_caption_only_listeners() -> None:
    channel = hub()
    relayed: list[bytes] = []
    channel.outbox = relayed.append
    one, quiet = RecordingTransport(), RecordingTransport()
    channel.add(listener("one", one))
    channel.add(listener("quiet", quiet, captions_only=True))
    channel.send(Caption(channel="es-ES", seq=1, final=True, text="Hola", start=0.0, end=1.2))
    assert one.written == quiet.written
    [(opcode, payload)] = one.frames()
    assert opcode == 0x1
    assert json.loads(payload) == {
        "type": "caption",
        "channel": "es-ES",
        "seq": 1,
        "final": True,
        "text": "Hola",
        "start": 0.0,
        "end": 1.2,
    }
    assert relayed == [b"J" + payload]  # the same bytes go to the other instances


def test_a_full_buffer_drops_audio_then_the_listener_is_too_slow() -> None:
    slow_ones: list[str] = []
    channel = hub(max_buffer=1000, slow_after=0.0, on_slow=lambda slow: slow_ones.append(slow.id))
    stuck, fine = RecordingTransport(buffered=5000), RecordingTransport()
    channel.add(listener("stuck", stuck, format="pcm"))
    channel.add(listener("fine", fine, format="pcm"))
    for index in range(BATCH_FRAMES * 3):
        channel.push(tone(index))
    assert stuck.written == b"" and len(fine.frames()) == 3
    assert channel.listeners["stuck"].dropped == 3 and channel.stats.drops == 3
    assert slow_ones == ["stuck"]  # told once, however many more messages it misses


def test_the_pace_probe_pings_and_drops_a_listener_whose_pong_is_late() -> None:
    slow_ones: list[str] = []
    channel = hub(pace_limit=10.0, on_slow=lambda slow: slow_ones.append(slow.id))
    prompt, late = RecordingTransport(), RecordingTransport()
    channel.add(listener("prompt", prompt, joined_at=0.0))
    channel.add(listener("late", late, joined_at=0.0))
    start = 1000.0
    channel.check_pace(start)
    [(opcode, payload)] = prompt.frames()
    assert opcode == PING
    channel.listeners["prompt"].pong(payload, now=start + 0.1)
    channel.check_pace(start + PACE_PING_SECONDS + 0.1)  # prompt is pinged again
    assert len(prompt.frames()) == 2 and len(late.frames()) == 1
    channel.check_pace(start + 10.5)
    assert slow_ones == ["late"]
