"""Machine interpretation latency and accuracy with the offline engines.

Latency: English sentences (espeak-ng) are spoken in real time into the floor
of a live event with a Spanish machine channel, each followed by enough
silence that the previous translation has finished playing (so the numbers
are the pipeline's, not a queue's). A real WebSocket listener on es-ES records
when the first audio of each translation arrives. Reported, p50/p95 over the
utterances:

  - speech end -> first translated audio at the listener (what a listener feels;
    includes the VAD's 500 ms of silence that decides the utterance is over)
  - end of utterance (VAD decision) -> first translated audio frame sent
  - per stage: STT, MT, TTS milliseconds and real-time factors

Accuracy: word error rate of each speech-to-text engine on espeak-ng speech
in English, Spanish and Catalan (jiwer, lower-cased, punctuation removed).

    python benchmarks/pipeline.py [--utterances 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import jiwer
from aiohttp import web

from livevent.client import ListenerClient
from livevent.errors import Unavailable
from livevent.model import ChannelKind, ChannelSpec, EventCreate
from livevent.runtime import LiveRuntime
from livevent.runtime.engines import engine_classes
from livevent.runtime.engines.espeak import EspeakTTS
from livevent.runtime.media.audio import FRAME_BYTES, frames_of
from livevent.runtime.wire import AudioMessage
from livevent.server import create_runtime_app
from livevent.settings import Settings

RESULTS = Path(__file__).parent / "results"

ENGLISH = [
    "Good morning everyone and welcome to the meeting.",
    "The weather is very nice today.",
    "We will start with a short report.",
    "The new library opens next month.",
    "Please turn off your phones.",
    "Our budget grew by ten percent this year.",
    "The children visited the museum yesterday.",
    "I would like to thank all the volunteers.",
    "The train leaves at eight in the morning.",
    "We need more teachers in our schools.",
    "The city council approved the new park.",
    "Questions are welcome at the end.",
    "The project will finish in the spring.",
    "Many people came to the concert.",
    "The doctor works at the hospital.",
    "We are building a new bridge over the river.",
    "The market is open every Saturday.",
    "Thank you for your attention.",
    "Lunch will be served at one o'clock.",
    "See you all next year.",
]
SPANISH = [
    "Buenos días a todos y bienvenidos.",
    "El tiempo es muy bueno hoy.",
    "La nueva biblioteca abre el mes que viene.",
    "Los niños visitaron el museo ayer.",
    "Necesitamos más profesores en nuestras escuelas.",
    "El mercado abre todos los sábados.",
    "Muchas gracias por su atención.",
    "El tren sale a las ocho de la mañana.",
    "El médico trabaja en el hospital.",
    "Nos vemos el año que viene.",
]
CATALAN = [
    "Bon dia a tothom i benvinguts.",
    "El temps és molt bo avui.",
    "La nova biblioteca obre el mes que ve.",
    "Els nens van visitar el museu ahir.",
    "Necessitem més professors a les nostres escoles.",
    "El mercat obre cada dissabte.",
    "Moltes gràcies per la vostra atenció.",
    "El tren surt a les vuit del matí.",
    "El metge treballa a l'hospital.",
    "Ens veiem l'any que ve.",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


async def measure_latency(utterances: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp())
    settings = Settings(database_url=f"sqlite:///{folder / 'bench.db'}")
    async with LiveRuntime(settings) as runtime:
        service = runtime.service
        assert service is not None
        event = await service.create_event(
            EventCreate(
                name="pipeline benchmark",
                starts_at="2026-12-01T10:00Z",
                source_language="en-US",
                channels=[ChannelSpec(language="es-ES", kind=ChannelKind.MACHINE)],
            ),
            actor="bench",
        )
        await service.act(event.id, "schedule", actor="bench")
        session = await runtime.start(event.id)
        tts = await runtime.engines.tts()
        sentences = (ENGLISH * ((utterances // len(ENGLISH)) + 1))[:utterances]
        speech = [await tts.synthesize(text, "en-US") for text in sentences]

        runner = web.AppRunner(create_runtime_app(settings, runtime=runtime), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"ws://127.0.0.1:{runner.addresses[0][1]}/listen/{event.id}?channel=es-ES"
        arrivals: list[float] = []
        playing = asyncio.Event()

        def heard(audio: AudioMessage) -> None:
            if not playing.is_set():
                arrivals.append(time.monotonic())
                playing.set()

        rows = []
        async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
            listener = ListenerClient(ws, decode=False, keep_audio=False, on_audio=heard).start()
            speaker = await session.claim_speaker("en-US")
            assert speaker is not None
            pipeline = session.pipeline
            assert pipeline is not None
            loop = asyncio.get_running_loop()
            for text, pcm in zip(sentences, speech, strict=True):
                playing.clear()
                start = loop.time()
                frames = list(frames_of(pcm))
                for index, frame in enumerate(frames):
                    delay = start + index * 0.02 - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    session.feed("en-US", frame)
                speech_end = time.monotonic()
                silence = bytes(FRAME_BYTES)
                # Silence in real time until the translation has been heard and played out.
                deadline = speech_end + 20
                while time.monotonic() < deadline:
                    session.feed("en-US", silence)
                    await asyncio.sleep(0.02)
                    if playing.is_set() and not session.channels["es-ES"].playing:
                        break
                snapshot = pipeline.snapshot()
                channel = snapshot["channels"]["es-ES"]
                if not playing.is_set():
                    print(f"  no translation heard for: {text}")
                    continue
                row = {
                    "text": text,
                    "seconds": len(pcm) / 32000,
                    "speech_end_to_heard_ms": (arrivals[-1] - speech_end) * 1000,
                    "utterance_end_to_sent_ms": channel["first_audio_ms"],
                    "stt_ms": snapshot["stt_ms"],
                    "mt_ms": channel["mt_ms"],
                    "tts_ms": channel["tts_ms"],
                }
                rows.append(row)
                print(
                    f"  {row['speech_end_to_heard_ms']:6.0f} ms heard,"
                    f" {row['utterance_end_to_sent_ms']:6.0f} ms sent"
                    f" (STT {row['stt_ms']:.0f}, MT {row['mt_ms']:.1f},"
                    f" TTS {row['tts_ms']:.0f}): {text}",
                    flush=True,
                )
            session.release_speaker("en-US", speaker)
            await listener.close()
        stt_engine = (await runtime.engines.stt()).metrics
        tts_engine = tts.metrics
        await runner.cleanup()
        await runtime.stop(event.id)

    def summary(key: str) -> dict[str, float]:
        values = [r[key] for r in rows]
        return {"p50": percentile(values, 0.5), "p95": percentile(values, 0.95)}

    return {
        "utterances": len(rows),
        "speech_end_to_heard_ms": summary("speech_end_to_heard_ms"),
        "utterance_end_to_sent_ms": summary("utterance_end_to_sent_ms"),
        "stt_ms": summary("stt_ms"),
        "mt_ms": summary("mt_ms"),
        "tts_ms": summary("tts_ms"),
        "stt_real_time_factor": stt_engine.real_time_factor,
        "tts_real_time_factor": tts_engine.real_time_factor,
        "rows": rows,
    }


async def measure_wer() -> dict[str, Any]:
    tts = EspeakTTS()
    await tts.start()
    sets = {"en-US": ENGLISH[:10], "es-ES": SPANISH, "ca-ES": CATALAN}
    results: dict[str, dict[str, float]] = {}
    examples: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for name, cls in sorted(engine_classes("stt").items()):
        engine = cls()
        try:
            await engine.start()
        except Unavailable as error:
            print(f"  {name}: not measured ({error})", flush=True)
            continue
        results[name] = {}
        for language, sentences in sets.items():
            said, heard = [], []
            try:
                for sentence in sentences:
                    pcm = await tts.synthesize(sentence, language)
                    recognition = await engine.transcribe(pcm, language)  # type: ignore[attr-defined]
                    said.append(normalise(sentence))
                    heard.append(normalise(recognition.text))
            except Unavailable as error:
                print(f"  {name} {language}: not measured ({error})", flush=True)
                continue
            results[name][language] = jiwer.wer(said, heard)
            examples.setdefault(name, {})[language] = list(zip(said, heard, strict=True))[:3]
            print(f"  {name} {language}: WER {results[name][language]:.2f}", flush=True)
        await engine.aclose()
    return {"wer": results, "examples": examples}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=20)
    parser.add_argument(
        "--wer-only", action="store_true", help="keep the last latency results, redo the WER"
    )
    args = parser.parse_args()
    previous = RESULTS / "pipeline.json"
    if args.wer_only and previous.is_file():
        latency = json.loads(previous.read_text())["latency"]
    else:
        print("latency (en-US -> es-ES):", flush=True)
        latency = await measure_latency(args.utterances)
    for key in ("speech_end_to_heard_ms", "utterance_end_to_sent_ms", "stt_ms", "mt_ms", "tts_ms"):
        print(f"{key:>26}: p50 {latency[key]['p50']:7.1f}  p95 {latency[key]['p95']:7.1f}")
    print(
        f"STT real-time factor {latency['stt_real_time_factor']:.3f},"
        f" TTS real-time factor {latency['tts_real_time_factor']:.3f}"
    )
    print("word error rate on espeak-ng speech:", flush=True)
    wer = await measure_wer()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "pipeline.json").write_text(
        json.dumps(
            {
                "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "latency": latency,
                "wer": wer,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    asyncio.run(main())
