"""One channel's fan-out: encode once, frame once, write the same bytes to every listener.

Each audio message is built and framed as a WebSocket frame once, then written
straight to every listener's transport, without awaiting anyone: a slow
listener's transport buffer fills up, after which that listener skips messages
(counted) until it drains and resumes at the live edge; one that stays behind
too long is disconnected. Nobody else waits for it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from livevent.model import Channel
from livevent.runtime.media.audio import FRAME_SAMPLES
from livevent.runtime.media.opus import OpusDecoder, OpusEncoder
from livevent.runtime.wire import (
    PING,
    AudioKind,
    Caption,
    Outgoing,
    pack_audio,
    read_server_message,
    unpack_audio,
    websocket_frame,
)

# ~20 s of 24 kb/s Opus: enough to ride out a mobile network's hiccup, small
# enough that 10,000 stalled listeners cost at most ~640 MB.
MAX_BUFFER_BYTES = 64 * 1024
SLOW_LISTENER_SECONDS = 10.0
# Each listener is pinged this often. A ping queues behind every byte already
# sent, so its pong comes back only once the listener has read them all: how
# late it comes is how far behind the listener is, whatever the kernel buffers.
PACE_PING_SECONDS = 2.0
# Five 20 ms frames per message: 100 ms, a tenth of the per-message cost.
BATCH_FRAMES = 5
# The first byte of a message between instances: what the rest is.
RELAYED_AUDIO = b"A"  # a listener audio message (Opus), as packed by the owner
RELAYED_JSON = b"J"  # a caption or status message


@dataclass(slots=True, eq=False)
class Listener:
    """One listener's connection as the hub sees it."""

    id: str
    transport: asyncio.Transport
    format: Literal["opus", "pcm"] = "opus"
    captions_only: bool = False
    staff: bool = False  # an organizer's, speaker's or interpreter's feed: not audience
    dropped: int = 0
    behind_since: float | None = None
    joined_at: float = field(default_factory=time.monotonic)
    # The pace probe: the ping waiting for its pong, and when it went out.
    ping_payload: bytes | None = None
    ping_sent: float = 0.0
    lag: float = 0.0  # seconds the last pong took
    too_slow: bool = False

    def pong(self, payload: bytes, now: float | None = None) -> None:
        """The client answered a ping; only the answer to our own probe counts."""
        if self.ping_payload is not None and payload == self.ping_payload:
            self.lag = (now if now is not None else time.monotonic()) - self.ping_sent
            self.ping_payload = None


@dataclass(slots=True)
class HubStats:
    frames_in: int = 0
    messages_out: int = 0
    captions: int = 0
    deliveries: int = 0
    drops: int = 0
    latency_ms: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "frames_in": self.frames_in,
            "messages_out": self.messages_out,
            "captions": self.captions,
            "deliveries": self.deliveries,
            "drops": self.drops,
            "latency_ms": round(self.latency_ms, 1),
        }


class ChannelHub:
    def __init__(
        self,
        channel: Channel,
        *,
        batch_frames: int = BATCH_FRAMES,
        max_buffer: int = MAX_BUFFER_BYTES,
        slow_after: float = SLOW_LISTENER_SECONDS,
        pace_limit: float = SLOW_LISTENER_SECONDS,
        on_slow: Callable[[Listener], None] | None = None,
    ) -> None:
        self.channel = channel
        self.batch_frames = batch_frames
        self.max_buffer = max_buffer
        self.slow_after = slow_after  # behind by a full buffer for this long: too slow
        self.pace_limit = pace_limit  # a pong this late: too slow
        self.on_slow = on_slow or (lambda listener: None)
        self.listeners: dict[str, Listener] = {}
        # Who gets audio, by format (captions-only listeners are in neither): a frame
        # asks what to encode, and a batch whom to send it, without a scan of everyone.
        self._audio: dict[str, dict[str, Listener]] = {"opus": {}, "pcm": {}}
        self.stats = HubStats()
        self._encoder: OpusEncoder | None = None
        self._opus: list[bytes] = []
        self._pcm: list[bytes] = []
        self._batch_start = 0  # timestamp (samples) of the first frame in the batch
        self._batch_arrived = 0.0
        self._samples = 0
        self._sequence = 0
        # Other instances' listeners (scale-out): the owner hands each message to
        # `outbox` as bytes, and encodes Opus for them even with no listener here.
        self.outbox: Callable[[bytes], None] | None = None
        self.remote_audio = False
        # The owner records the channel: each batch of Opus packets, with its arrival time.
        self.recorder: Callable[[list[bytes], float], None] | None = None
        # The owner broadcasts it (HLS, pushes to platforms): every PCM frame with its
        # arrival to each tap, every caption to `on_caption`.
        self.taps: list[Callable[[bytes, float | None], None]] = []
        self.on_caption: Callable[[Caption], None] | None = None
        self._decoder: OpusDecoder | None = None
        self._probes = 0

    @property
    def language(self) -> str:
        return self.channel.language

    # -- listeners ----------------------------------------------------------------

    def add(self, listener: Listener) -> None:
        self.listeners[listener.id] = listener
        if not listener.captions_only:
            self._audio[listener.format][listener.id] = listener

    def remove(self, listener_id: str) -> Listener | None:
        for group in self._audio.values():
            group.pop(listener_id, None)
        return self.listeners.pop(listener_id, None)

    def reshape(
        self, listener: Listener, audio: Literal["opus", "pcm"], captions_only: bool
    ) -> None:
        """A listener asks for another format, or for captions only (its hello)."""
        joined = listener.id in self.listeners
        if joined:
            self.remove(listener.id)
        listener.format, listener.captions_only = audio, captions_only
        if joined:
            self.add(listener)

    def check_pace(self, now: float | None = None) -> None:
        """Ping every listener due for it; one whose pong is `pace_limit` late is too slow."""
        now = time.monotonic() if now is None else now
        for listener in list(self.listeners.values()):
            if listener.too_slow or listener.transport.is_closing():
                continue
            if listener.ping_payload is not None:
                if now - listener.ping_sent > self.pace_limit:
                    self._too_slow(listener)
                continue
            if now - listener.ping_sent < PACE_PING_SECONDS:
                continue
            self._probes += 1
            listener.ping_payload = self._probes.to_bytes(8, "big")
            listener.ping_sent = now
            listener.transport.write(websocket_frame(listener.ping_payload, opcode=PING))

    def _too_slow(self, listener: Listener) -> None:
        listener.too_slow = True
        self.on_slow(listener)

    def _wants(self) -> tuple[bool, bool]:
        opus = bool(self._audio["opus"]) or self.remote_audio or self.recorder is not None
        return opus, bool(self._audio["pcm"])

    # -- audio --------------------------------------------------------------------

    def push(self, frame: bytes, arrived: float | None = None) -> None:
        """One 20 ms PCM frame of this channel's audio, as it arrives."""
        self.stats.frames_in += 1
        for tap in self.taps:
            tap(frame, arrived)
        timestamp = self._samples
        self._samples += FRAME_SAMPLES
        want_opus, want_pcm = self._wants()
        if not (want_opus or want_pcm):
            # Nobody listens: skip the encoding, and start afresh when someone joins.
            self._opus.clear()
            self._pcm.clear()
            return
        if not self._opus and not self._pcm:
            self._batch_start = timestamp
            self._batch_arrived = arrived if arrived is not None else time.monotonic()
        if want_opus:
            if self._encoder is None:
                self._encoder = OpusEncoder()
            self._opus.extend(self._encoder.encode(frame))
        if want_pcm:
            self._pcm.append(frame)
        if max(len(self._opus), len(self._pcm)) >= self.batch_frames:
            self.flush()

    def flush(self) -> None:
        """Send what is batched now (at a pause or the end of the stream)."""
        if not self._opus and not self._pcm:
            return
        sequence = self._sequence
        self._sequence += 1
        if self._opus:
            message = pack_audio(AudioKind.OPUS, sequence, self._batch_start, self._opus)
            self._broadcast(websocket_frame(message), audio="opus")
            if self.outbox is not None and self.remote_audio:
                self.outbox(RELAYED_AUDIO + message)
            if self.recorder is not None:
                self.recorder(self._opus, self._batch_arrived)
            self._opus = []
        if self._pcm:
            message = pack_audio(AudioKind.PCM, sequence, self._batch_start, self._pcm)
            self._broadcast(websocket_frame(message), audio="pcm")
            self._pcm = []
        self.stats.messages_out += 1
        latency = (time.monotonic() - self._batch_arrived) * 1000
        # An exponential average: steady enough to read in a stats table.
        self.stats.latency_ms += (latency - self.stats.latency_ms) * 0.1

    # -- JSON -----------------------------------------------------------------------

    def send(self, message: Outgoing) -> None:
        """A caption or status message to every listener of the channel (serialised once)."""
        text = message.to_json().encode()
        self._broadcast(websocket_frame(text, text=True), audio=None)
        if isinstance(message, Caption):
            self.stats.captions += 1
            if self.on_caption is not None:
                self.on_caption(message)
        if self.outbox is not None:
            self.outbox(RELAYED_JSON + text)

    # -- relayed from the owner instance -------------------------------------------

    def relay(self, data: bytes) -> Outgoing | None:
        """A message the owner instance published, to this instance's listeners.

        Opus goes out as the owner encoded it; PCM listeners get it decoded here,
        once for all of them. A JSON message is also returned, read into its model.
        """
        tag, body = data[:1], data[1:]
        if tag == RELAYED_JSON:
            self._broadcast(websocket_frame(body, text=True), audio=None)
            return read_server_message(body)
        if tag != RELAYED_AUDIO:
            return None
        self._broadcast(websocket_frame(body), audio="opus")
        if self._wants()[1]:
            message = unpack_audio(body)
            if self._decoder is None:
                self._decoder = OpusDecoder()
            pcm = b"".join(self._decoder.decode(packet) for packet in message.frames)
            pcm_message = pack_audio(AudioKind.PCM, message.sequence, message.timestamp, [pcm])
            self._broadcast(websocket_frame(pcm_message), audio="pcm")
        self.stats.frames_in += body[1]
        self.stats.messages_out += 1
        return None

    def _broadcast(self, frame: bytes, *, audio: Literal["opus", "pcm"] | None) -> None:
        # The hot loop of the fan-out: per listener, one check and one write.
        if audio is None:
            delivered = 0
            for listener in list(self.listeners.values()):
                transport = listener.transport
                if not transport.is_closing():
                    transport.write(frame)
                    delivered += 1
            self.stats.deliveries += delivered
            return
        now = 0.0
        delivered = 0
        max_buffer = self.max_buffer
        for listener in list(self._audio[audio].values()):
            transport = listener.transport
            if transport.is_closing():
                continue
            if transport.get_write_buffer_size() > max_buffer:
                now = now or time.monotonic()
                self._behind(listener, now)
                continue
            if listener.behind_since is not None:
                listener.behind_since = None
            transport.write(frame)
            delivered += 1
        self.stats.deliveries += delivered

    def _behind(self, listener: Listener, now: float) -> None:
        """A listener whose socket holds a full buffer misses this message."""
        listener.dropped += 1
        self.stats.drops += 1
        if listener.behind_since is None:
            listener.behind_since = now
        elif now - listener.behind_since > self.slow_after and not listener.too_slow:
            self._too_slow(listener)
