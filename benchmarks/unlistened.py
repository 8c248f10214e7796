"""What a recorded machine channel nobody listens to costs (not a test).

Since session 13 a machine channel whose hub is recorded speaks whether anyone
listens or not: its recording holds what it said. Before, a channel with no listener
paused its voice (text-to-speech skipped) and its recording was silent. This measures
the price, side by side in one run: the same floor speech (espeak-ng meeting
sentences at a microphone's pace) into an event with three machine channels
(es-ES, ca-ES, fr-FR) and no listener, once with recording off (the channels pause
their voices) and once with it on (they speak). Reported: the runtime's CPU seconds
(all threads: Whisper, Apertium, the voices) per minute of speech, and the ratio.

    python benchmarks/unlistened.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).parents[1]))
sys.path.insert(0, str(Path(__file__).parent))

from tests.support.live import speech_pcm

from livevent.bus import MemoryBus
from livevent.client import SpeakerClient
from livevent.runtime import LiveRuntime
from livevent.settings import Settings
from served import serve_machine_event

RESULTS = Path(__file__).parent / "results"
TARGETS = ("es-ES", "ca-ES", "fr-FR")
SAID = [
    "Good morning everyone, and welcome to the annual meeting of our association.",
    "This year we opened a new library in the city centre.",
    "The council wants to build more houses along the river.",
    "We thank the volunteers who worked every weekend.",
    "The budget for next year will be presented after the break.",
    "Please keep your questions for the end of the session.",
]


async def one_run(folder: Path, speech: bytes, *, record: bool) -> float:
    """CPU seconds the runtime spent while the floor said `speech` and the event ended."""
    settings = Settings(
        database_url=f"sqlite:///{folder / f'unlistened-{record}.db'}",
        recordings_dir=folder / f"recordings-{record}",
        record=record,
    )
    async with LiveRuntime(settings, bus=MemoryBus()) as runtime:
        served = await serve_machine_event(runtime, TARGETS, "unlistened benchmark")
        url = f"{served.url.replace('http', 'ws')}/speak/{served.event_id}/1?token={served.token}"
        try:
            async with aiohttp.ClientSession() as http:
                speaker = SpeakerClient(await http.ws_connect(url))
                await speaker.greeted(within=60)
                began = time.process_time()
                await speaker.send(speech, pace=1.0)  # a microphone's pace
                await speaker.end(end_event=True)
                await asyncio.wait_for(served.session.ended.wait(), 180)
                return time.process_time() - began
        finally:
            await served.runner.cleanup()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        pause = bytes(16000)  # half a second between sentences: continuous speech
        speech = pause.join(speech_pcm(text, "en-us", folder) for text in SAID) + bytes(32000)
        minutes = len(speech) / 32000 / 60
        paused, speaking = [], []
        for _ in range(rounds):  # alternating, so neither side gets the warm caches alone
            paused.append(await one_run(folder, speech, record=False) / minutes)
            speaking.append(await one_run(folder, speech, record=True) / minutes)
    row = {
        "speech_minutes": round(minutes, 2),
        "cpu_s_per_minute_unrecorded_paused": [round(v, 1) for v in paused],
        "cpu_s_per_minute_recorded_speaking": [round(v, 1) for v in speaking],
        "ratio": round(sum(speaking) / sum(paused), 2),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "unlistened.json").write_text(json.dumps(row, indent=2) + "\n")
    print(json.dumps(row, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
