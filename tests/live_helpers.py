"""Helpers for live tests: espeak-ng speech, a speaker client and a listener client."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from livevent.events.service import EventService
from livevent.model import ChannelSpec, EventCreate
from livevent.runtime.audio import FRAME_BYTES, decode_file
from livevent.runtime.opus import OpusDecoder
from livevent.runtime.wire import AudioKind, unpack_audio


def speak_to_wav(text: str, voice: str, path: Path) -> Path:
    """Real speech from espeak-ng (22.05 kHz WAV; the runtime resamples it)."""
    executable = shutil.which("espeak-ng")
    if executable is None:
        pytest.fail("espeak-ng is not installed (make system installs it)")
    subprocess.run([executable, "-v", voice, "-w", str(path), text], check=True, timeout=60)
    return path


def speech_pcm(text: str, voice: str, folder: Path) -> bytes:
    """16 kHz mono s16le PCM of `text`, padded to whole 20 ms frames."""
    pcm = decode_file(speak_to_wav(text, voice, folder / f"{voice}-{abs(hash(text))}.wav"))
    return pcm + b"\0" * (-len(pcm) % FRAME_BYTES)


async def send_speech(ws: aiohttp.ClientWebSocketResponse, pcm: bytes, chunk: int = 3200) -> None:
    """Send PCM in 100 ms messages, then the end message."""
    for offset in range(0, len(pcm), chunk):
        await ws.send_bytes(pcm[offset : offset + chunk])
    await ws.send_json({"type": "end"})


@dataclass
class ListenerLog:
    """What a listener received: decoded audio, JSON messages, and how the socket closed."""

    audio: bytearray = field(default_factory=bytearray)
    messages: list[dict[str, Any]] = field(default_factory=list)
    sequences: list[int] = field(default_factory=list)
    close_code: int | None = None
    close_reason: str | None = None
    closed_at: float | None = None
    decoder: OpusDecoder = field(default_factory=OpusDecoder)

    @property
    def seconds(self) -> float:
        return len(self.audio) / 2 / 16000

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == kind]


async def listen_until(
    ws: aiohttp.ClientWebSocketResponse,
    log: ListenerLog,
    done: Callable[[ListenerLog], bool],
    within: float = 20.0,
) -> ListenerLog:
    """Read messages into `log` until `done(log)` or the socket closes."""
    async with asyncio.timeout(within):
        while not done(log):
            message = await ws.receive()
            if message.type is aiohttp.WSMsgType.BINARY:
                audio = unpack_audio(message.data)
                log.sequences.append(audio.sequence)
                for frame in audio.frames:
                    if audio.kind is AudioKind.OPUS:
                        log.audio += log.decoder.decode(frame)
                    else:
                        log.audio += frame
            elif message.type is aiohttp.WSMsgType.TEXT:
                log.messages.append(json.loads(message.data))
            else:
                # The code the server sent in its CLOSE frame; ws.close_code can read
                # 1006 once the server process has gone before the handshake ends.
                closing = message.type is aiohttp.WSMsgType.CLOSE
                log.close_code = int(message.data) if closing else ws.close_code
                log.close_reason = message.extra if isinstance(message.extra, str) else None
                log.closed_at = time.monotonic()
                break
    return log


@dataclass
class Listening:
    """A listener that reads all the time, as real clients do, while the test does other things.

    The server pings each listener to measure how far behind it is (fanout.py); a
    client that stops reading for 10 s is dropped as too slow, so a test that waits
    on something else must not leave its listeners unread.
    """

    ws: aiohttp.ClientWebSocketResponse
    log: ListenerLog
    task: asyncio.Task[ListenerLog]

    @classmethod
    def start(
        cls, ws: aiohttp.ClientWebSocketResponse, log: ListenerLog | None = None
    ) -> Listening:
        log = log if log is not None else ListenerLog()
        done: Callable[[ListenerLog], bool] = lambda log: log.close_code is not None  # noqa: E731
        return cls(ws, log, asyncio.create_task(listen_until(ws, log, done, within=3600)))

    async def until(self, done: Callable[[ListenerLog], bool], within: float = 20.0) -> ListenerLog:
        """Wait until what was read satisfies `done` (or the socket closed: then say why)."""
        deadline = time.monotonic() + within
        while not done(self.log):
            if self.task.done():
                self.task.result()  # a read that failed raises here
                raise AssertionError(
                    f"closed ({self.log.close_code} {self.log.close_reason}) before the condition"
                )
            assert time.monotonic() < deadline, "condition not met before the deadline"
            await asyncio.sleep(0.02)
        return self.log

    async def closed(self, within: float = 20.0) -> ListenerLog:
        return await asyncio.wait_for(asyncio.shield(self.task), within)

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.gather(self.task, return_exceptions=True)


async def poll(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    """Wait until `check()` is true, polling with a deadline."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(0.02)


def speaker_finished(log: ListenerLog) -> bool:
    """A status said the speaker was on, and a later one that it is gone."""
    flags = [m.get("speaker") for m in log.of_type("status")]
    return True in flags and False in flags[flags.index(True) :]


def speaker_token(event_id: int, channel: int | None = 1, *, ttl: int = 600) -> str:
    """A speaker token for the default (example) secret that test runtimes use."""
    from livevent.auth import Role, TokenIssuer
    from livevent.settings import Settings

    settings = Settings()
    issuer = TokenIssuer(settings.auth_secret.get_secret_value())
    return issuer.issue(sub="test", role=Role.SPEAKER, ttl=ttl, events=[event_id], channel=channel)


async def scheduled_event(
    service: EventService | None, *channels: ChannelSpec, name: str = "Annual meeting"
) -> int:
    """A new English event with these channels, SCHEDULED: what speakers take live."""
    assert service is not None, "the runtime has no store of its own"
    event = await service.create_event(
        EventCreate(
            name=name,
            starts_at="2026-12-01T10:00Z",
            source_language="en-US",
            channels=list(channels),
        ),
        actor="test",
    )
    await service.act(event.id, "schedule", actor="test")
    return event.id
