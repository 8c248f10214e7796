"""Local audio inputs for the floor: a file replayed in real time, or a sound device."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

from livevent.errors import InvalidInput, Unavailable
from livevent.model.ids import parse_id
from livevent.runtime.media.audio import (
    FRAME_MS,
    FRAME_SAMPLES,
    SAMPLE_RATE,
    decode_file,
    frames_of,
)

log = logging.getLogger(__name__)

FRAME_SECONDS = FRAME_MS / 1000


async def paced(frames: Iterable[bytes]) -> AsyncIterator[tuple[bytes, float]]:
    """Frames released in real time, as a live source would produce them, with arrival times."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for sent, frame in enumerate(frames):
        delay = start + sent * FRAME_SECONDS - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)  # real-time pacing of a recording
        yield frame, time.monotonic()


async def file_source(path: Path) -> AsyncIterator[tuple[bytes, float]]:
    """A recording replayed at the speed it was spoken."""
    pcm = await asyncio.to_thread(decode_file, path)
    async for item in paced(frames_of(pcm)):
        yield item


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as error:  # PortAudio missing
        raise Unavailable(
            f"sound devices need PortAudio (Debian: libportaudio2): {error}"
        ) from None
    return sounddevice


def list_input_devices() -> list[dict[str, Any]]:
    """Input devices as sounddevice sees them: index, name, host API, channels, rate."""
    sd = _sounddevice()
    apis = sd.query_hostapis()
    devices = []
    for index, device in enumerate(sd.query_devices()):
        if device["max_input_channels"] > 0:
            devices.append(
                {
                    "index": index,
                    "name": device["name"],
                    "hostapi": apis[device["hostapi"]]["name"],
                    "channels": device["max_input_channels"],
                    "default_samplerate": device["default_samplerate"],
                    "default": index == sd.default.device[0],
                }
            )
    return devices


def resolve_device(spec: str | None) -> int | str | None:
    """`None` (the default input), an index, or a name or part of one."""
    if spec is None or spec == "":
        return None
    index = parse_id(spec) if spec != "0" else 0
    if index is not None:
        return index
    names = [d for d in list_input_devices() if spec.lower() in d["name"].lower()]
    if not names:
        raise InvalidInput(f"no input device matches {spec!r}: see `livevent devices`")
    return int(names[0]["index"])


async def device_source(spec: str | None) -> AsyncIterator[tuple[bytes, float]]:
    """Capture from a sound device at 16 kHz mono in 20 ms blocks until cancelled."""
    sd = _sounddevice()
    device = resolve_device(spec)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[bytes, float]] = asyncio.Queue(maxsize=250)

    def deliver(item: tuple[bytes, float]) -> None:
        if queue.full():  # the loop fell 5 s behind: drop the oldest, stay live
            queue.get_nowait()
        queue.put_nowait(item)

    def callback(data: Any, frames: int, when: Any, status: Any) -> None:
        if status:
            log.warning("sound device: %s", status)
        loop.call_soon_threadsafe(deliver, (bytes(data), time.monotonic()))

    try:
        stream = sd.RawInputStream(
            samplerate=SAMPLE_RATE,
            blocksize=FRAME_SAMPLES,
            device=device,
            channels=1,
            dtype="int16",
            callback=callback,
        )
    except (sd.PortAudioError, ValueError) as error:
        raise Unavailable(f"cannot open input device {spec or '(default)'}: {error}") from None
    with stream:
        while True:
            yield await queue.get()


def open_input(spec: str) -> AsyncIterator[tuple[bytes, float]]:
    """`device`, `device:NAME_OR_INDEX`, or a path to an audio file."""
    if spec == "device" or spec.startswith("device:"):
        return device_source(spec.partition(":")[2] or None)
    path = Path(spec)
    if not path.is_file():
        raise InvalidInput(f"no such audio file {path} (or use device[:NAME])")
    return file_source(path)
