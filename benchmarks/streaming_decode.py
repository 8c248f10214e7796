"""What a streaming decode costs, and when its words show (not a test).

Continuous speech (lag.py's espeak-ng passages, sentences joined by 0.2-0.4 s pauses,
one utterance) goes through the runtime's `StreamingRecognizer` with Whisper base, a
decode every 0.75 s of audio, offline: the audio is fed as fast as the decodes go, so
the machine's speed changes the seconds a decode takes but not what it hears. Also
fidelity.py's LibriVox reading (real, 25 s) and `--meetings N` of lag.py's AMI
excerpts (real, 30 s each; the reference is Whisper decoding each file whole). The
variants, alternated input by input in one run:

  today     as the runtime decodes now (the short window's margin: 5 s; 2 s of a
            sentence's committed words kept before the unsettled ones, since session 21)
  marginN   the short window's margin after the audio, N seconds
  trimN     a sentence that runs on is cut at its last committed word once the buffer
            is N seconds long (today streaming.TRIM_AFTER, 12)
  ctxN      a sentence under way is cut so that N seconds of its committed words
            stay before the unsettled ones (streaming.CONTEXT_SECONDS; ctx0: the
            sentence so far, up to trimN, as before session 21)

Reported per variant and passage: decodes, seconds a decode takes (mean, p90), the
recogniser's real-time factor, the committed text's WER against the script, and in
seconds of audio (not of wall time, so not the machine's): when each word first
shows in a decode (a partial caption) and when it is committed, after its end.

    python benchmarks/streaming_decode.py [--variants today margin3] [--rounds 1]
                                          [--meetings 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import jiwer

sys.path.insert(0, str(Path(__file__).parent))

from lag import LONG_PASSAGE, PASSAGE, espeak_passage, recordings, words_of
from livevent.runtime.engines import whisper
from livevent.runtime.engines.whisper import WhisperSTT
from livevent.runtime.media.audio import decode_file
from livevent.runtime.speech import streaming
from livevent.runtime.speech.streaming import BYTES_PER_SECOND, StreamingRecognizer

RESULTS = Path(__file__).parent / "results"
STEP_SECONDS = 0.75


def _p(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


TODAY_MARGIN = whisper.SHORT_WINDOW_MARGIN


def choose(variant: str) -> None:
    margin = int(variant[6:]) * 100 if variant.startswith("margin") else TODAY_MARGIN
    whisper.SHORT_WINDOW_MARGIN = margin


async def follow(stt: WhisperSTT, pcm: bytes, variant: str) -> dict[str, Any]:
    choose(variant)
    trim_after = float(variant[4:]) if variant.startswith("trim") else None
    context = float(variant[3:]) if variant.startswith("ctx") else None
    recognizer = StreamingRecognizer(stt, "en-US", trim_after=trim_after, context=context)
    recognizer.begin(0.0)
    step = int(STEP_SECONDS * BYTES_PER_SECOND) // 2 * 2
    first_seen: dict[tuple[str, float], float] = {}
    committed_at: list[tuple[float, float]] = []  # (word end, audio heard when committed)
    decode_seconds: list[float] = []

    def seen(words: list[streaming.Word], heard: float) -> None:
        for word in words:
            first_seen.setdefault((word.key, round(word.end, 1)), heard - word.end)

    for at in range(0, len(pcm), step):
        recognizer.push(pcm[at : at + step])
        committed = await recognizer.step()
        decode_seconds.append(recognizer.decode_seconds)
        heard = recognizer.end
        seen(committed + recognizer.agreement.unstable, heard)
        committed_at += [(w.end, heard) for w in committed]
    last = await recognizer.finish(silence=0.5)
    committed_at += [(w.end, recognizer.end) for w in last]
    text = streaming.join(recognizer.agreement.committed)
    return {
        "decodes": len(decode_seconds),
        "decode_mean": round(statistics.fmean(decode_seconds), 3),
        "decode_p90": _p(decode_seconds, 0.9),
        "rtf": round(recognizer.decode_time / recognizer.speech_seconds, 3),
        "shown_after_p50": _p(list(first_seen.values()), 0.5),
        "shown_after_p90": _p(list(first_seen.values()), 0.9),
        "committed_after_p50": _p([h - e for e, h in committed_at], 0.5),
        "committed_after_p90": _p([h - e for e, h in committed_at], 0.9),
        "text": text,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", nargs="+", default=["today", "margin3"])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--meetings", type=int, default=0, help="AMI excerpts of 30 s")
    parser.add_argument("--no-librivox", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="livevent-streaming-"))
    stt = WhisperSTT()
    await stt.start()
    inputs: dict[str, tuple[bytes, str]] = {
        name: (espeak_passage(folder, texts)[0], words_of(" ".join(texts)))
        for name, texts in (("passage", PASSAGE), ("long", LONG_PASSAGE))
    }
    if not args.no_librivox:
        from fidelity import joined, librivox

        reading, texts = librivox(folder)
        inputs["librivox"] = (joined(reading), words_of(" ".join(texts)))
    for path in recordings(folder, args.meetings):
        pcm = decode_file(path)
        whole = await stt.transcribe(pcm, "en-US")  # the reference: one decode, whole
        inputs[path.stem] = (pcm, words_of(whole.text))
    rows = []
    for round_ in range(args.rounds):
        for name, (pcm, reference) in inputs.items():
            order = args.variants if round_ % 2 == 0 else list(reversed(args.variants))
            for variant in order:
                row = await follow(stt, pcm, variant)
                row["wer"] = round(jiwer.wer(reference, words_of(row.pop("text"))), 3)
                row.update(input=name, variant=variant, round=round_)
                print(json.dumps(row), flush=True)
                rows.append(row)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "streaming_decode.json").write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
