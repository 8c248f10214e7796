"""Capture from a real sound device: a PulseAudio null sink whose monitor is the input."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import numpy as np
import pytest

from livevent.runtime.media.audio import decode_file
from tests.support.live import Heard, speak_to_wav
from tests.test_cli_live import cli, joined, ready_event, start_live


@pytest.fixture
def pulse(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A private PulseAudio server with a null sink `lv_sink` as the default source's monitor."""
    for tool in ("pulseaudio", "pactl", "paplay"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed (make system installs it)")
    runtime_dir = tmp_path / "pulse"
    runtime_dir.mkdir()
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime_dir), "HOME": str(tmp_path)}
    subprocess.run(
        [
            "pulseaudio", "--daemonize=yes", "--exit-idle-time=-1", "-n",
            "--load=module-null-sink sink_name=lv_sink",
            "--load=module-native-protocol-unix",
        ],
        env=env, check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    try:
        subprocess.run(
            ["pactl", "set-default-source", "lv_sink.monitor"], env=env, check=True, timeout=30
        )
        yield env
    finally:
        subprocess.run(["pulseaudio", "--kill"], env=env, capture_output=True, timeout=30)


async def test_devices_lists_the_pulse_input(pulse: dict[str, str], tmp_path: Path) -> None:
    env = {**pulse, "LIVEVENT_DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}"}
    code, out, err = await cli(env, "devices", "--json")
    assert code == 0, err
    assert "pulse" in [device["name"] for device in json.loads(out)]


async def test_live_event_from_a_sound_device(pulse: dict[str, str], tmp_path: Path) -> None:
    env = {**pulse, "LIVEVENT_DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}", "NO_COLOR": "1"}
    env.pop("LIVEVENT_CONFIG", None)
    speech = speak_to_wav(
        "This sentence travels through a sound card into the live event.", "en-us",
        tmp_path / "speech.wav",
    )  # fmt: skip
    spoken = len(decode_file(speech)) / 2 / 16000
    event_id = await ready_event(env)
    live = await start_live(env, event_id, "--input", "device:pulse")
    try:
        async with aiohttp.ClientSession() as session:
            listener = await joined(session, f"{live.listen_url}?format=pcm")
            player = await asyncio.create_subprocess_exec(
                "paplay", "--device=lv_sink", str(speech), env=pulse
            )
            assert await asyncio.wait_for(player.wait(), 30) == 0

            def heard_speech(log: Heard) -> bool:
                return _voiced_seconds(bytes(log.audio)) >= spoken * 0.6

            log = await listener.until(heard_speech, within=20)
            await listener.close()
    finally:
        live.process.send_signal(2)
        await asyncio.wait_for(live.process.wait(), 15)
    # What came out is the speech that went in: voiced for most of its length.
    assert _voiced_seconds(bytes(log.audio)) >= spoken * 0.6


def _voiced_seconds(pcm: bytes) -> float:
    """Seconds of 20 ms frames louder than -45 dBFS (espeak's pauses and silence are below)."""
    samples = np.frombuffer(pcm[: len(pcm) // 640 * 640], dtype=np.int16).astype(np.float32)
    if not samples.size:
        return 0.0
    frames = samples.reshape(-1, 320)
    rms = np.sqrt(np.mean(frames * frames, axis=1)) / 32768
    return float(np.sum(rms > 10 ** (-45 / 20))) * 0.02
