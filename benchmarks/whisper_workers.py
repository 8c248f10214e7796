"""Whisper's decodes one at a time on two threads, or side by side on one each (not a test).

Two streaming decodes of 5-5.5 s of espeak-ng speech (the size of a sentence in a live
buffer), through the runtime's own adapter (`WhisperSTT`, its short window, word
times), side by side in one run:

  2x1  two threads a decode, one decode at a time (the adapter before session 19)
  1x2  one thread a decode, two at once (CTranslate2 workers; the default on 2 cores)

Reported per configuration: one decode alone, and the two buffers asked for at once
(two events, or a floor and an interpreter): seconds until both are decoded.

    python benchmarks/whisper_workers.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from tests.support.live import speech_pcm

from livevent.runtime.engines.whisper import WhisperSTT

RESULTS = Path(__file__).parent / "results"
SENTENCES = (
    "Good morning everyone, and welcome to the annual meeting of our association."
    " This year we opened",
    "More than two thousand families visited it during the first month. The children's room was",
)


async def seconds_for(stt: WhisperSTT, buffers: list[bytes], rounds: int) -> float:
    """The median seconds until every buffer, asked for at once, is decoded."""
    taken = []
    for _ in range(rounds):
        started = time.perf_counter()
        await asyncio.gather(
            *(stt.transcribe(b, "en-US", timestamps=True, streaming=True) for b in buffers)
        )
        taken.append(time.perf_counter() - started)
    return round(statistics.median(taken), 3)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="livevent-whisper-"))
    buffers = [speech_pcm(text, "en-us", folder) for text in SENTENCES]
    rows = []
    for threads, workers in ((2, 1), (1, 2)):
        stt = WhisperSTT(threads=threads, workers=workers)
        await stt.start()
        await seconds_for(stt, buffers[:1], 1)  # warm
        row = {
            "config": f"{threads}x{workers}",
            "audio_s": [round(len(b) / 32000, 2) for b in buffers],
            "one_decode_s": await seconds_for(stt, buffers[:1], args.rounds),
            "two_at_once_s": await seconds_for(stt, buffers, args.rounds),
        }
        await stt.aclose()
        print(json.dumps(row), flush=True)
        rows.append(row)
    before, after = rows
    print(f"two at once: {after['two_at_once_s'] / before['two_at_once_s']:.2f} of the time")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "whisper_workers.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
