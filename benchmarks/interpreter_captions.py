"""What captioning an interpreter costs, beside the floor (not a test).

The floor speaks lag.py's espeak-ng passage in English and, at the same time, an
interpreter speaks a Spanish passage on the event's es-ES channel (espeak-ng es),
both in real time over speaker sockets; a Catalan machine channel is relayed from
the interpreter. Run twice in one process, side by side: with `interpreter_captions`
(a second recogniser follows the interpreter's voice, for the channel's captions,
its transcript and the relay) and without (the relay then translates the floor).
Reported per run:

  cpu_cores        the process's CPU time over the run's wall time
  floor_evs        the floor's caption ear-voice span (lag.py's measure), p50 / p90
  interpreter_evs  the interpreter channel's captions, the same measure on the
                   interpreter's own clock, p50 / p90 (none without captions)
  captions         how many final captions each channel got

    python benchmarks/interpreter_captions.py [--whisper 2x1 1x2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from lag import PASSAGE, caption_spans, espeak_passage, whisper_options
from livevent.auth import Role, issuer_for
from livevent.client import ListenerClient, SpeakerClient
from livevent.model import ChannelKind, ChannelSpec, EventCreate
from livevent.runtime import LiveRuntime
from livevent.runtime.media.audio import FRAME_BYTES, decode_file, trim_silence
from livevent.settings import Settings
from served import Served, serve
from stats import weighted_percentile

RESULTS = Path(__file__).parent / "results"
SPANISH = [
    "Buenos días a todos y bienvenidos a la reunión anual de nuestra asociación.",
    "Este año abrimos una nueva biblioteca en el centro de la ciudad.",
    "Más de dos mil familias la visitaron durante el primer mes.",
    "La sala de los niños fue la parte más popular del edificio.",
    "También empezamos un programa de clases nocturnas para adultos.",
    "Las clases enseñan idiomas, cocina e informática básica.",
    "Nuestros voluntarios dieron más de quinientas horas de su tiempo.",
    "Quiero dar las gracias a cada uno de ellos por su generoso trabajo.",
    "El año que viene queremos abrir una segunda biblioteca cerca del río.",
    "Necesitaremos más voluntarios y el apoyo de los comercios del barrio.",
]


def spanish_passage(folder: Path) -> bytes:
    parts = []
    for index, text in enumerate(SPANISH):
        path = folder / f"es-{index}.wav"
        subprocess.run(["espeak-ng", "-v", "es", "-w", str(path), text], check=True)
        parts += [trim_silence(decode_file(path)), bytes(int(16000 * 0.3) * 2)]
    pcm = b"".join(parts)
    return pcm + bytes(-len(pcm) % FRAME_BYTES)


async def run_once(
    captions: bool, floor: bytes, booth: bytes, folder: Path, whisper: str = "default"
) -> dict[str, Any]:
    settings = Settings(
        database_url=f"sqlite:///{folder / f'captions-{captions}-{whisper}.db'}",
        recordings_dir=folder / f"recordings-{captions}-{whisper}",
        interpreter_captions=captions,
        engine_options=whisper_options(whisper),
    )
    async with LiveRuntime(settings) as runtime:
        assert runtime.service is not None
        event = await runtime.service.create_event(
            EventCreate(
                name="interpreter captions",
                starts_at="2026-12-01T10:00Z",  # type: ignore[arg-type]
                source_language="en-US",
                channels=[
                    ChannelSpec(language="es-ES", kind=ChannelKind.HUMAN),
                    ChannelSpec(language="ca-ES", kind=ChannelKind.MACHINE, source="es-ES"),
                ],
            ),
            actor="bench",
        )
        await runtime.service.act(event.id, "schedule", actor="bench")
        served: Served = await serve(runtime, event.id)
        issuer = issuer_for(settings)
        tokens = {
            number: issuer.issue(
                sub=f"bench{number}", role=Role.SPEAKER, ttl=3600, events=[event.id],
                channel=number,
            )
            for number in (1, 2)
        }  # fmt: skip
        arrivals: dict[str, list[tuple[float, dict[str, Any]]]] = {"en-US": [], "es-ES": []}

        def keeper(language: str) -> Any:
            def keep(message: dict[str, Any]) -> None:
                if message.get("type") == "caption":
                    arrivals[language].append((time.monotonic(), message))

            return keep

        url = served.url
        async with (
            ListenerClient.connect(url, event.id, on_message=keeper("en-US"), decode=False) as _,
            ListenerClient.connect(
                url, event.id, channel="es-ES", on_message=keeper("es-ES"), decode=False
            ) as _,
            SpeakerClient.connect(url, event.id, token=tokens[1]) as speaker,
            SpeakerClient.connect(url, event.id, channel=2, token=tokens[2]) as interpreter,
        ):  # fmt: skip
            cpu0 = resource.getrusage(resource.RUSAGE_SELF)
            t0 = time.monotonic()
            await asyncio.gather(speaker.send(floor, pace=1.0), interpreter.send(booth, pace=1.0))
            await speaker.end()
            await interpreter.end()
            pipeline: Any = served.session.pipeline
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and pipeline.busy:  # noqa: ASYNC110
                await asyncio.sleep(0.2)  # polling with a deadline
            wall = time.monotonic() - t0
            cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        await served.runner.cleanup()
        await runtime.stop(event.id)
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    floor_spans = caption_spans(arrivals["en-US"], t0)
    booth_spans = caption_spans(arrivals["es-ES"], t0)
    finals = {k: sum(1 for _, m in v if m.get("final")) for k, v in arrivals.items()}
    return {
        "interpreter_captions": captions,
        "cpu_cores": round(cpu / wall, 2),
        "floor_evs_p50": weighted_percentile(floor_spans, 0.5),
        "floor_evs_p90": weighted_percentile(floor_spans, 0.9),
        "interpreter_evs_p50": weighted_percentile(booth_spans, 0.5),
        "interpreter_evs_p90": weighted_percentile(booth_spans, 0.9),
        "captions": finals,
    }


async def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="livevent-booth-"))
    floor, _ = espeak_passage(folder, PASSAGE[:10])
    floor += bytes(-len(floor) % FRAME_BYTES)
    booth = spanish_passage(folder)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--whisper", nargs="+", default=["default"],
        help="THREADSxWORKERS (lag.py's): 2x1 decodes the floor and the interpreter in turn",
    )  # fmt: skip
    args = parser.parse_args()
    rows = []
    for whisper in args.whisper:
        for captions in (False, True):
            print(f"interpreter_captions={captions}, whisper {whisper}...", flush=True)
            row = await run_once(captions, floor, booth, folder, whisper)
            row["whisper"] = whisper
            print(json.dumps(row), flush=True)
            rows.append(row)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "interpreter_captions.json").write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
