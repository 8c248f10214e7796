"""Does a machine channel say what was said? Its audio, heard again (not a test).

Real continuous speech with a known transcript goes into a live event with five
machine channels (es-ES, ca-ES, fr-FR, it-IT, pt-PT) over the speaker socket, in
real time; the floor speaker ends the event right after the last word (the
ending path: channels finish what they were saying). Each channel's audio, as its
listener receives it, is recognised again by Whisper base in the channel's
language. Reported per input, mode and channel, each loss as its own number:

  recognition     the floor's final captions against the true transcript (English)
  text_vs_ideal   the channel's final captions against Apertium's translation of
                  the true transcript: recognition's loss, carried through MT
  voice_alone     the channel's final captions synthesised offline, whole sentences
                  at rate 1, heard again, against the captions: the voice's loss
  audio_vs_captions  the channel's audio heard again against its own final
                  captions: voice, fragmenting, pace and cut-off together (the goal)
  audio_vs_ideal  the channel's audio heard again against the translation of the
                  true transcript: every stage together
  spoken_share    words heard in the audio over words in the final captions (a
                  channel cut off early, or skipping, is well under 1)
  last_heard      whether the last final caption's last words are in the audio

Inputs: (a) a LibriVox reading of Sense and Sensibility, chapter 1 (five
consecutive utterances of one reader, 25 s, with their transcripts), shipped in
the source distribution of pocketsphinx 5.1.1 on PyPI (test/data/librivox),
fetched with pip into a scratch folder; joined with 0.3 s pauses, so the VAD
never ends an utterance before the end; (b) the espeak-ng meeting sentences the
issue measured with (`--espeak`).

    python benchmarks/fidelity.py [--modes simultaneous consecutive] [--espeak]
                                  [--patience 0 4] [--first-unit 0 3]
                                  [--long-sentence 8 0] [--context 0 2]
                                  [--chunk 0.75 0.5]

`--patience`: each simultaneous run once per value of interpreter.PATIENCE_SECONDS
(0: wait for agreement however long, the behaviour before it), side by side;
`--first-unit` likewise for units.FIRST_UNIT_WORDS (0: a sentence's first unit is cut
at k words like the others), `--long-sentence` for recognition.LONG_SENTENCE_SECONDS
(0: a sentence ends only at a full stop), `--context` for streaming.CONTEXT_SECONDS
(0: every decode hears the sentence so far), `--chunk` for the setting decode_every.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import re
import subprocess
import tarfile
import tempfile
import time
import unicodedata
import venv
from pathlib import Path
from typing import Any

import jiwer

from livevent.client import ListenerClient, SpeakerClient
from livevent.runtime import LiveRuntime
from livevent.runtime.engines import Engines
from livevent.runtime.media.audio import SAMPLE_RATE, decode_file, trim_silence
from livevent.runtime.speech import interpreter, pace, recognition, streaming, units
from livevent.settings import Settings
from served import serve_machine_event

RESULTS = Path(__file__).parent / "results"
TARGETS = ("es-ES", "ca-ES", "fr-FR", "it-IT", "pt-PT")
RECORDINGS_PACKAGE = "pocketsphinx==5.1.1"
PAUSE_SECONDS = 0.3
ESPEAK_SENTENCES = [
    "Good morning everyone, and welcome to the annual meeting of our association.",
    "This year we opened a new library in the centre of the city.",
    "The council wants to build more houses along the river.",
    "We will need more volunteers and the support of local businesses.",
    "Thank you very much for listening, and enjoy the rest of the day.",
]


def words(text: str) -> str:
    """Lower case, letters only, ligatures unfolded: what WER compares."""
    text = unicodedata.normalize("NFKC", text.lower()).replace("\u2019", "'")
    text = text.replace("œ", "oe").replace("æ", "ae").replace("-", " ")
    text = text.replace("centre", "center").replace("mr.", "mister")
    return " ".join(re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", text))


def wer(reference: str, hypothesis: str) -> float | None:
    reference, hypothesis = words(reference), words(hypothesis)
    if not reference:
        return None
    return round(float(jiwer.wer(reference, hypothesis or "-")), 3)


def librivox(folder: Path) -> tuple[list[bytes], list[str]]:
    """The reading's utterances (16 kHz PCM) and their transcripts, from the sdist."""
    tools = folder / "fetch-venv"
    venv.create(tools, with_pip=True)
    python = tools / "bin" / "python"
    quiet = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    # Its build backend prepares the metadata pip needs to download it; nothing is built.
    build = ["wheel", "setuptools", "scikit-build-core", "cython"]
    subprocess.run([python, "-m", "pip", "install", "-q", *build], **quiet)
    subprocess.run(
        [python, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
         "--no-build-isolation", "-d", str(folder), RECORDINGS_PACKAGE],
        **quiet,
    )  # fmt: skip
    archive = next(folder.glob("pocketsphinx-*.tar.gz"))
    with tarfile.open(archive) as tar:
        wanted = [
            n for n in tar.getnames() if re.search(r"test/data/librivox/[^/]+\.(wav|txt)$", n)
        ]
        tar.extractall(folder, members=wanted, filter="data")
    audio = sorted(folder / n for n in wanted if n.endswith(".wav"))
    texts = [p.with_suffix(".txt").read_text(encoding="utf-8").strip() for p in audio]
    return [trim_silence(decode_file(p)) for p in audio], texts


def espeak(folder: Path) -> tuple[list[bytes], list[str]]:
    pcms = []
    for index, text in enumerate(ESPEAK_SENTENCES):
        path = folder / f"espeak-{index}.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), text], check=True)
        pcms.append(trim_silence(decode_file(path)))
    return pcms, ESPEAK_SENTENCES


def joined(pcms: list[bytes]) -> bytes:
    pause = bytes(int(SAMPLE_RATE * PAUSE_SECONDS) * 2)
    pcm = pause.join(pcms)
    return pcm + bytes(-len(pcm) % 640)


async def run_once(pcm: bytes, mode: str, folder: Path, chunk: float) -> dict[str, Any]:
    """One live event; returns each channel's audio and final captions, and the floor's."""
    settings = Settings(
        database_url=f"sqlite:///{folder / f'fidelity-{mode}-{time.monotonic_ns()}.db'}",
        recordings_dir=folder / "recordings",
        interpretation=mode,
        decode_every=chunk,
        finish_machine_seconds=60,
    )
    async with LiveRuntime(settings) as runtime:
        served = await serve_machine_event(runtime, TARGETS, "fidelity benchmark")
        session, url, token, event_id = served.session, served.url, served.token, served.event_id
        async with contextlib.AsyncExitStack() as stack:
            listeners = {
                t: await stack.enter_async_context(ListenerClient.connect(url, event_id, channel=t))
                for t in TARGETS
            }
            floor = await stack.enter_async_context(
                ListenerClient.connect(url, event_id, decode=False)
            )
            speaker = await stack.enter_async_context(
                SpeakerClient.connect(url, event_id, token=token)
            )
            started = time.monotonic()
            await speaker.send(pcm, pace=1.0)
            await speaker.end(end_event=True)
            await asyncio.wait_for(session.ended.wait(), 120)
            finished = time.monotonic() - started
        result: dict[str, Any] = {
            "floor": " ".join(c["text"] for c in floor.heard.captions()),
            "ended_after_s": round(finished - len(pcm) / 2 / SAMPLE_RATE, 1),
            "channels": {},
        }
        pipeline: Any = session.pipeline
        for language, listener in listeners.items():
            booth = pipeline.booths[language]
            result["channels"][language] = {
                "audio": bytes(listener.heard.audio),
                "captions": " ".join(c["text"] for c in listener.heard.captions()),
                "last_caption": (listener.heard.captions() or [{"text": ""}])[-1]["text"],
                "skipped": booth.player.metrics.skipped,
                "corrections": booth.corrections,
                "voice": pipeline.chosen[language].voice_label,
            }
        await served.runner.cleanup()
    return result


async def measure(
    engines: Engines, truth: str, run: dict[str, Any], mode: str, source: str
) -> dict[str, Any]:
    stt = await engines.stt()
    mt = await engines.mt()
    channels = {}
    for language, heard in run["channels"].items():
        ideal = await mt.translate(truth, "en-US", language)
        again = (await stt.transcribe(heard["audio"], language)).text if heard["audio"] else ""
        voice = heard["voice"].split(":")[0]
        alone = ""
        if voice != "captions only" and heard["captions"]:
            tts = await engines.tts(voice)
            spoken = await tts.synthesize(heard["captions"], language)
            alone = (await stt.transcribe(spoken, language)).text
        caption_words = len(words(heard["captions"]).split())
        tail = words(heard["last_caption"]).split()[-3:]
        channels[language] = {
            "voice": heard["voice"],
            "text_vs_ideal": wer(ideal, heard["captions"]),
            "voice_alone": wer(heard["captions"], alone) if alone else None,
            "audio_vs_captions": wer(heard["captions"], again),
            "audio_vs_ideal": wer(ideal, again),
            "spoken_share": round(len(words(again).split()) / caption_words, 2)
            if caption_words
            else None,
            "last_heard": bool(tail) and " ".join(tail) in words(again),
            "audio_s": round(len(heard["audio"]) / 2 / SAMPLE_RATE, 1),
            "skipped": heard["skipped"],
            "corrections": heard["corrections"],
            "heard": again,
            "captions": heard["captions"],
        }
    return {
        "input": source,
        "mode": mode,
        "recognition": wer(truth, run["floor"]),
        "ended_after_s": run["ended_after_s"],
        "floor": run["floor"],
        "channels": channels,
    }


def summary(row: dict[str, Any]) -> str:
    lines = [
        f"{row['input']}, {row['mode']}: recognition {row['recognition']},"
        f" ended {row['ended_after_s']} s after the last word"
    ]
    for language, c in row["channels"].items():
        lines.append(
            f"  {language} ({c['voice']}): audio/captions {c['audio_vs_captions']},"
            f" audio/ideal {c['audio_vs_ideal']}, text/ideal {c['text_vs_ideal']},"
            f" voice alone {c['voice_alone']}, spoken {c['spoken_share']},"
            f" last heard {c['last_heard']}, skipped {c['skipped']}"
        )
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", nargs="+", default=["simultaneous", "consecutive"])
    parser.add_argument("--espeak", action="store_true", help="also the espeak-ng sentences")
    parser.add_argument("--patience", nargs="+", type=float, default=[interpreter.PATIENCE_SECONDS])
    parser.add_argument("--first-unit", nargs="+", type=int, default=[units.FIRST_UNIT_WORDS])
    parser.add_argument(
        "--long-sentence", nargs="+", type=float, default=[recognition.LONG_SENTENCE_SECONDS]
    )
    parser.add_argument("--context", nargs="+", type=float, default=[streaming.CONTEXT_SECONDS])
    parser.add_argument("--chunk", nargs="+", type=float, default=[pace.MIN_CHUNK])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        inputs = [("LibriVox reading (pocketsphinx sdist)", *librivox(folder))]
        if args.espeak:
            inputs.append(("espeak-ng sentences", *espeak(folder)))
        engines = Engines({})
        try:
            for source, pcms, texts in inputs:
                truth = " ".join(texts)
                knobs = itertools.product(
                    args.modes,
                    args.patience,
                    args.first_unit,
                    args.long_sentence,
                    args.context,
                    args.chunk,
                )
                for mode, patience, first_unit, long_sentence, context, chunk in knobs:
                    interpreter.PATIENCE_SECONDS = patience  # side by side, in one run
                    units.FIRST_UNIT_WORDS = first_unit
                    recognition.LONG_SENTENCE_SECONDS = long_sentence
                    recognition.RUN_ON_SECONDS = 2 * long_sentence
                    streaming.CONTEXT_SECONDS = context
                    seconds = len(joined(pcms)) / 2 / SAMPLE_RATE
                    print(
                        f"{source}, {mode}, patience {patience:g}, first unit {first_unit},"
                        f" long sentence {long_sentence:g}, context {context:g},"
                        f" chunk {chunk:g}: {seconds:.0f} s..."
                    )
                    run = await run_once(joined(pcms), mode, folder, chunk)
                    row = await measure(engines, truth, run, mode, source)
                    row["patience"] = patience
                    row["first_unit_words"] = first_unit
                    row["long_sentence"] = long_sentence
                    row["context"] = context
                    row["min_chunk"] = chunk
                    print(summary(row), flush=True)
                    rows.append(row)
        finally:
            await engines.aclose()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "fidelity.json").write_text(json.dumps(rows, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())
