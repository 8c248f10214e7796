"""The line: a direct WebSocket from a relay to its event's owner, so that live audio
goes on while the bus (Redis) is down.

A relay finds the owner's `peer_url` in the owner's heartbeat and dials
`/live/{id}/line` there with a token good for that event's line alone. The line carries the
bytes the event's pub/sub channels carry: the owner's messages of each channel (`OUT`)
and a relay's speaker frames and requests (`IN`). While its line is up a relay takes
the owner's messages from the line alone; without one (an owner of an older version,
an address it cannot reach), from the bus as before. Like the bus, the line is at most
once: a full queue drops, it never blocks a hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Callable
from typing import Protocol

import aiohttp

from livevent.bus import Bus, keys
from livevent.errors import LiveventError
from livevent.runtime.cluster.messages import Heartbeat

log = logging.getLogger(__name__)

OUT = ord("o")  # the owner's message of a channel, as published on `live_out`
IN = ord("i")  # a relay's message for the owner, as published on `live_in`
# The largest message either side sends: a channel's messages are audio packets and
# captions (a few kB); frames of speech are 640 bytes.
MAX_LINE_MESSAGE = 1 << 20
# Queued messages per line; past this, live audio is dropped (as the bus outbox does).
LINE_QUEUE = 1000
# Pings on the line: a peer that stops answering (a cut cable, not a killed process,
# which closes its sockets at once) is taken for gone within about this long.
LINE_HEARTBEAT_SECONDS = 2.0
DIAL_TIMEOUT_SECONDS = 2.0


def pack(kind: int, language: str, data: bytes) -> bytes:
    name = language.encode()
    return bytes((kind, len(name))) + name + data


def unpack(message: bytes) -> tuple[int, str, bytes]:
    """(kind, language, data) of a line message; ValueError when it is not one."""
    if len(message) < 2 or message[0] not in (OUT, IN):
        raise ValueError("not a line message")
    end = 2 + message[1]
    if len(message) < end:
        raise ValueError("a line message cut short")
    return message[0], message[2:end].decode(errors="replace"), message[end:]


def default_peer_url(address: str | None) -> str | None:
    """http://HOST:PORT of a `serve` address; the host name stands for every address."""
    if address is None:
        return None
    host, _, port = address.rpartition(":")
    if host in ("", "0.0.0.0", "::", "[::]"):
        host = socket.gethostname()
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


class LineSocket(Protocol):
    """What both ends of a line are (aiohttp's server and client WebSockets)."""

    @property
    def closed(self) -> bool: ...

    async def send_bytes(self, data: bytes, compress: int | None = None) -> None: ...

    async def close(self, *, code: int = 1000, message: bytes = b"") -> bool: ...

    def __aiter__(self) -> AsyncIterator[aiohttp.WSMessage]: ...


class Line:
    """One end of a line: what this side sends waits in a bounded queue for the writer."""

    def __init__(self, ws: LineSocket, peer: str) -> None:
        self.ws = ws
        self.peer = peer  # the instance at the other end, for the log
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(LINE_QUEUE)

    def offer(self, kind: int, language: str, data: bytes) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(pack(kind, language, data))

    async def write(self) -> None:
        """Send what is queued until the socket fails or closes."""
        while not self.ws.closed:
            data = await self._queue.get()
            try:
                await self.ws.send_bytes(data)
            except (ConnectionError, RuntimeError):
                return

    async def messages(self, kind: int) -> AsyncIterator[tuple[str, bytes]]:
        """(language, data) of each message of `kind` the other end sends, until it closes;
        the writer runs meanwhile."""
        writer = asyncio.create_task(self.write(), name=f"line-writer:{self.peer}")
        try:
            async for message in self.ws:
                if message.type is not aiohttp.WSMsgType.BINARY:
                    continue
                try:
                    got, language, data = unpack(message.data)
                except ValueError:
                    log.warning("line with %s: dropping a message that is not one", self.peer)
                    continue
                if got == kind:
                    yield language, data
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), DIAL_TIMEOUT_SECONDS)


class LineDialer:
    """A relay's side: finds the owner of an event and opens a line to it."""

    def __init__(self, *, bus: Bus, instance: str, token: Callable[[int], str]) -> None:
        self.bus = bus
        self.instance = instance
        self._token = token  # an event's line token, made fresh for each dial
        self._client: aiohttp.ClientSession | None = None
        # The owner's address as last read: during an outage of the bus a broken line
        # is dialed again there (the owner serves on; only Redis is gone).
        self._last: dict[int, tuple[str, str]] = {}

    async def _owner(self, event_id: int) -> tuple[str, str] | None:
        """(instance, peer url) of the event's owner; None when it has no address."""
        try:
            holder = await self.bus.get(keys.live_owner(event_id))
            if holder is None or holder == self.instance:
                return None
            beat = Heartbeat.read(await self.bus.get(keys.instance_alive(holder)))
        except LiveventError:
            return self._last.get(event_id)
        if beat is None or beat.peer is None:
            return None
        self._last[event_id] = (holder, beat.peer)
        return holder, beat.peer

    async def dial(self, event_id: int) -> Line | None:
        """A line to the event's owner, or None (no owner with an address, or unreachable)."""
        owner = await self._owner(event_id)
        if owner is None:
            return None
        holder, url = owner
        if self._client is None:
            self._client = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, connect=DIAL_TIMEOUT_SECONDS)
            )
        try:
            ws = await self._client.ws_connect(
                f"{url}/live/{event_id}/line",
                params={"instance": self.instance},
                headers={"Authorization": f"Bearer {self._token(event_id)}"},
                heartbeat=LINE_HEARTBEAT_SECONDS,
                max_msg_size=MAX_LINE_MESSAGE,
                compress=0,
            )
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            log.debug("no line to %s for event %s: %s", holder, event_id, error)
            return None
        log.info("event %s: a line to its owner %s", event_id, holder)
        return Line(ws, holder)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
