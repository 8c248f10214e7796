"""The floor's path into the machine pipeline, frame by frame: what it keeps, what it costs.

`FloorInput` as the streaming pipeline runs it (the VAD keeps only an utterance's
onset and length; the recogniser holds the audio) against the same input keeping
a copy of every frame, as it did before (a 600 s `Segmenter` whose audio was
thrown away), in the same run. Continuous speech: espeak-ng reading without a
pause longer than the VAD's 500 ms, so one utterance grows for the whole run.

Reported per variant: peak memory the path holds (tracemalloc) and CPU per frame
(time.process_time), and the ratio of the two.

    python benchmarks/floor.py [--seconds 300]
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import time
import tracemalloc
from pathlib import Path
from typing import Any

from livevent.runtime.media.audio import FRAME_BYTES, decode_file
from livevent.runtime.speech.floor import FloorInput
from livevent.runtime.speech.timing import MediaClock

RESULTS = Path(__file__).parent / "results"
TEXT = (
    "Good morning everyone and welcome to the annual meeting of the association "
    "we will start with the report of the board and then we will vote on the budget "
)


def continuous_speech(seconds: float) -> bytes:
    """espeak-ng reading on and on, with only the short gaps between its words."""
    wav = subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "170", "-g", "2", "--stdout", TEXT * 8],
        capture_output=True,
        check=True,
    ).stdout
    pcm = decode_file(__import__("io").BytesIO(wav), fmt="wav")
    needed = int(seconds * 32000)
    return (pcm * (needed // len(pcm) + 1))[:needed]


def run(pcm: bytes, *, keep_audio: bool) -> dict[str, Any]:
    gc.collect()
    floor = FloorInput(MediaClock(), keep_audio=keep_audio, max_seconds=600.0)
    offsets = range(0, len(pcm) - FRAME_BYTES + 1, FRAME_BYTES)
    tracemalloc.start()
    started = time.process_time()
    for offset in offsets:
        # A new object per frame, as a speaker's socket makes them: kept only if held.
        floor.frame(pcm[offset : offset + FRAME_BYTES])
        floor.take(None)  # the loop drains the queue as it goes
    cpu = time.process_time() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "keep_audio": keep_audio,
        "frames": len(offsets),
        "speaking_at_end": floor.speaking,
        "peak_mib": peak / 2**20,
        "cpu_us_per_frame": cpu / len(offsets) * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--results", default="floor.json", help="file in benchmarks/results")
    args = parser.parse_args()
    pcm = continuous_speech(args.seconds)
    rows = [run(pcm, keep_audio=True), run(pcm, keep_audio=False)]
    before, after = rows
    for row in rows:
        name = "a copy kept (before)" if row["keep_audio"] else "onset only (now)"
        print(
            f"{name:22} {row['frames']} frames, speaking at the end: {row['speaking_at_end']},"
            f" peak {row['peak_mib']:.1f} MiB, {row['cpu_us_per_frame']:.1f} us/frame"
        )
    print(
        f"now / before: memory {after['peak_mib'] / before['peak_mib']:.3f}x,"
        f" CPU {after['cpu_us_per_frame'] / before['cpu_us_per_frame']:.2f}x"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / args.results).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
