"""Helpers for live tests: espeak-ng speech, tokens, events, and the library's listener client."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import wave
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import av
import numpy as np
import pytest

from livevent.client import Heard, ListenerClient
from livevent.events.service import EventService
from livevent.model import ChannelSpec, EventCreate
from livevent.runtime.media.audio import FRAME_BYTES, SAMPLE_RATE, decode_file


def speak_to_wav(text: str, voice: str, path: Path, *, pause: float = 0.0) -> Path:
    """Real speech from espeak-ng (22.05 kHz WAV; the runtime resamples it), with `pause`
    seconds of silence after it: Chromium loops a fake microphone's file, and a speaker
    who pauses between sentences ends each (without one, Whisper hears one sentence
    that never ends, the same words over and over)."""
    executable = shutil.which("espeak-ng")
    if executable is None:
        pytest.fail("espeak-ng is not installed (make system installs it)")
    subprocess.run([executable, "-v", voice, "-w", str(path), text], check=True, timeout=60)
    if pause:
        with wave.open(str(path), "rb") as spoken:
            params, frames = spoken.getparams(), spoken.readframes(spoken.getnframes())
        silence = b"\0" * (int(params.framerate * pause) * params.sampwidth * params.nchannels)
        with wave.open(str(path), "wb") as paused:
            paused.setparams(params)
            paused.writeframes(frames + silence)
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


async def listen_until(
    ws: aiohttp.ClientWebSocketResponse,
    log: Heard,
    done: Callable[[Heard], bool],
    within: float = 20.0,
) -> Heard:
    """Read messages into `log` until `done(log)` or the socket closes."""
    return await ListenerClient(ws, heard=log).read_until(done, within)


def listening(ws: aiohttp.ClientWebSocketResponse) -> ListenerClient:
    """A listener that reads all the time, as real clients do, while the test does other things.

    The server pings each listener to measure how far behind it is (fanout.py); a
    client that stops reading for 10 s is dropped as too slow, so a test that waits
    on something else must not leave its listeners unread.
    """
    return ListenerClient(ws).start()


async def poll(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    """Wait until `check()` is true, polling with a deadline."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(0.02)


def speaker_finished(log: Heard) -> bool:
    """A status said the speaker was on, and a later one that it is gone."""
    flags = [m.get("speaker") for m in log.of_type("status")]
    return True in flags and False in flags[flags.index(True) :]


def speaker_token(
    event_id: int, channel: int | None = 1, *, ttl: int = 600, sub: str = "test"
) -> str:
    """A speaker token for the default (example) secret that test runtimes use."""
    from livevent.auth import Role, TokenIssuer
    from livevent.settings import Settings

    settings = Settings()
    issuer = TokenIssuer(settings.auth_secret.get_secret_value())
    return issuer.issue(sub=sub, role=Role.SPEAKER, ttl=ttl, events=[event_id], channel=channel)


async def go_live(http: aiohttp.ClientSession, url: str) -> dict[str, object]:
    """The organizer's "Go live" as the console sends it: POST `url` (/live/{id}/start)."""
    from livevent.auth import service_token
    from livevent.settings import Settings

    headers = {"Authorization": f"Bearer {service_token(Settings())}"}
    async with http.post(url, headers=headers) as response:
        assert response.status == 201, await response.text()
        answer: dict[str, object] = await response.json()
        return answer


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


def loud_frames(path: Path, above: int = 1500) -> list[bool]:
    """Each 20 ms of a recording, as a listener would hear it: whether it sounds (a peak
    `above` this, out of 32767)."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    samples: list[np.ndarray[Any, Any]] = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            samples.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(frame))
    pcm = np.concatenate(samples) if samples else np.zeros(0, dtype=np.int16)
    step = SAMPLE_RATE // 50
    frames = pcm[: len(pcm) // step * step].reshape(-1, step)
    return [bool(loud) for loud in np.abs(frames.astype(np.int32)).max(axis=1) > above]


def speech_onset(path: Path) -> float:
    """Seconds into a recording where speech first sounds (a 20 ms frame above a murmur)."""
    loud = loud_frames(path, above=2000)
    assert any(loud), "no speech in the recording"
    return loud.index(True) / 50
