"""`livevent demo`: a real live event, end to end, on whatever store the settings name.

An English talk (spoken by espeak-ng into a WAV file) is replayed into the
floor channel of a new event with Spanish and Catalan machine channels. Three
listeners connect over WebSockets, one per channel; their captions are printed
as they arrive and their Opus audio is decoded and counted. Then the event
ends and its transcript is shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from aiohttp import web
from pydantic import SecretStr
from rich.table import Table

from livevent.auth.accounts import Accounts
from livevent.cli._utilities import actor, console, guarded, state
from livevent.client import Heard, ListenerClient
from livevent.errors import NotFound
from livevent.events import EventService
from livevent.events.exports import to_srt
from livevent.model import (
    ChannelKind,
    ChannelSpec,
    Event,
    EventCreate,
    EventStatus,
    Role,
    UserCreate,
)
from livevent.runtime import LiveRuntime, LiveSession
from livevent.runtime.media.audio import SAMPLE_RATE
from livevent.runtime.media.sources import file_source
from livevent.server import create_runtime_app
from livevent.settings import Settings

TALK = [
    "Good morning everyone, and welcome to our annual meeting.",
    "Today we will talk about the new library in the city centre.",
    "More than two thousand families visited it in the first month.",
    "Next year we plan to open a second library near the river.",
    "Thank you very much for coming.",
]
SOURCE, TARGETS = "en-US", ("es-ES", "ca-ES")
DEMO_ADMIN = "admin@demo.livevent.example"
COLOURS = {"en-US": "cyan", "es-ES": "yellow", "ca-ES": "magenta"}


async def _write_talk(runtime: LiveRuntime, folder: Path) -> Path:
    tts = await runtime.engines.tts()
    # People do not pause long between sentences: 0.3 s, well under the 0.5 s that
    # ends an utterance, so the machine channels must follow a continuous talk.
    pause = bytes(int(SAMPLE_RATE * 0.3) * 2)
    pcm = pause.join([await tts.synthesize(line, SOURCE) for line in TALK]) + pause
    path = folder / "talk.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm)
    return path


def _printer(language: str) -> Callable[[dict[str, Any]], None]:
    def show(message: dict[str, Any]) -> None:
        if message.get("type") == "caption" and message.get("final"):
            colour = COLOURS.get(language, "white")
            console.print(f"[{colour}]{language}[/] {message['text']}", highlight=False)

    return show


async def _drained(session: LiveSession, heard: dict[str, Heard], deadline: float) -> None:
    """Wait until the pipeline has interpreted everything and every channel went quiet."""
    while time.monotonic() < deadline:
        snapshot = session.snapshot()
        busy = snapshot["pipeline"].get("busy", True)
        speaking = any(session.channels[language].playing for language in TARGETS) or any(
            snapshot["channels"][language].get("backlog_s", 0) > 0 for language in TARGETS
        )
        floor = len(heard[SOURCE].captions())
        if (
            not busy
            and not speaking
            and floor
            and all(len(heard[language].captions()) >= floor for language in TARGETS)
        ):
            return
        await asyncio.sleep(0.1)  # polling with a deadline


async def _scheduled_event(service: EventService) -> Event:
    owner = await service.ensure_customer("demo")
    event = await service.create_event(
        EventCreate(
            customer_id=owner.id,
            name="livevent demo: welcome talk",
            starts_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            source_language=SOURCE,
            channels=[ChannelSpec(language=t, kind=ChannelKind.MACHINE) for t in TARGETS],
        ),
        actor=actor(),
    )
    await service.act(event.id, "schedule", actor=actor(), reason="demo")
    return event


async def _demo_admin(runtime: LiveRuntime) -> tuple[str, str]:
    """The demo's admin, with a new password each run: what the console signs in with."""
    service = runtime.service
    assert service is not None
    accounts = Accounts.from_settings(
        runtime.settings, users=service.store.users, bus=service.bus, verifier=runtime.verifier
    )
    password = secrets.token_urlsafe(12)
    try:
        user = await accounts.find(DEMO_ADMIN)
    except NotFound:
        data = UserCreate(
            email=DEMO_ADMIN, name="Demo admin", role=Role.ADMIN, password=SecretStr(password)
        )
        await accounts.create_user(data)
    else:
        await accounts.set_password(user.id, password)
    return DEMO_ADMIN, password


async def run_demo(settings: Settings, *, serve: bool = False) -> None:
    async with LiveRuntime(settings) as runtime:
        service = runtime.service
        assert service is not None
        event = await _scheduled_event(service)
        console.rule(f"livevent demo: event {event.id}")
        console.print("Loading the engines (Whisper base, Apertium, the voices)...", style="dim")
        session = await runtime.start(event.id)
        if not session.machine_ready:
            raise typer.Exit(code=_fail(f"machine channels unavailable: {session.duties.problem}"))

        app = create_runtime_app(settings, runtime=runtime, auto_start=False)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        host, port = (settings.host, settings.port) if serve else ("127.0.0.1", 0)
        await web.TCPSite(runner, host, port).start()
        base_url = f"http://{host}:{runner.addresses[0][1]}"
        with tempfile.TemporaryDirectory() as scratch:
            talk = await _write_talk(runtime, Path(scratch))
            console.print(
                f"LIVE at {base_url}/listen/{event.id} ;"
                f" replaying {len(TALK)} sentences into the floor\n"
            )
            async with contextlib.AsyncExitStack() as listening:
                heard = {
                    language: (
                        await listening.enter_async_context(
                            ListenerClient.connect(
                                base_url,
                                event.id,
                                channel=language,
                                keep_audio=False,
                                on_message=_printer(language),
                            )
                        )
                    ).heard
                    for language in (SOURCE, *TARGETS)
                }
                await _until_joined(session)
                speaker = await session.speakers.claim(SOURCE)
                assert speaker is not None
                async for frame, arrived in file_source(talk):
                    session.feed(SOURCE, frame, arrived)
                session.speakers.release(SOURCE, speaker)
                await _drained(session, heard, time.monotonic() + 60)
                stats = session.snapshot()
                await runtime.stop(event.id, reason="the demo is over")
        try:
            await _afterwards(runtime, event.id, heard, stats, base_url=base_url, serve=serve)
        finally:
            await runner.cleanup()


async def _afterwards(
    runtime: LiveRuntime,
    event_id: int,
    heard: dict[str, Heard],
    stats: dict[str, Any],
    *,
    base_url: str,
    serve: bool,
) -> None:
    """What was heard, the transcript, and the way into the console."""
    service = runtime.service
    assert service is not None
    settings = runtime.settings
    final = await service.get_event(event_id)
    segments = await service.transcript(event_id)
    _summary(heard, stats, final.status)
    console.print(
        "\nTranscript in Spanish (livevent transcript export "
        f"{event_id} --format srt --lang es-ES):\n",
        style="bold",
    )
    console.print(to_srt(segments, "es-ES"), highlight=False, markup=False)
    email, password = await _demo_admin(runtime)
    if serve:
        console.print(f"The console: {base_url}/manage#/events/{event_id}", style="bold")
    else:
        console.print(
            "The console: `livevent demo --serve` (or `livevent serve`), then"
            f" http://{settings.host}:{settings.port}/manage",
            style="bold",
        )
    console.print(f"Sign in as {email} with the password {password} (new each run).")
    if serve:
        console.print("Serving until Ctrl-C.", style="dim")
        await asyncio.Event().wait()


async def _until_joined(session: LiveSession) -> None:
    deadline = time.monotonic() + 10
    while sum(len(s.hub.listeners) for s in session.channels.values()) < 3:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)  # polling with a deadline


def _summary(heard: dict[str, Heard], stats: dict[str, Any], status: EventStatus) -> None:
    table = Table(title=f"Event {stats['event']} is {status.value}", title_justify="left")
    columns = ("Channel", "Mode", "Voice", "Captions", "Audio heard", "MT ms", "TTS ms", "Behind")
    for column in columns:
        table.add_column(column, justify="right")
    for language, result in heard.items():
        channel = stats["channels"].get(language, {})
        evs = channel.get("evs_s")
        table.add_row(
            language,
            str(channel.get("mode", "floor")),
            str(channel.get("voice") or "-"),
            str(len(result.captions())),
            f"{result.seconds:.1f} s",
            str(channel.get("mt_ms", "-")),
            str(channel.get("tts_ms", "-")),
            f"{evs:.1f} s" if evs is not None else "-",
        )
    console.print()
    console.print(table)
    pipeline = stats["pipeline"]
    console.print(
        f"Streaming speech-to-text: last decode {pipeline.get('stt_ms')} ms,"
        f" real-time factor {pipeline.get('stt_rtf')}. Behind: the ear-voice span, how long"
        " after the middle of a phrase its translation starts (a human booth: 2-3 s)."
    )


def _fail(message: str) -> int:
    console.print(f"[red]error:[/] {message}")
    return 3


def demo(
    ctx: typer.Context,
    serve: bool = typer.Option(
        False, "--serve", help="keep serving afterwards: open the console at the printed URL"
    ),
) -> None:
    """Run a live event end to end: English floor, Spanish and Catalan machine channels."""
    settings = guarded(lambda: state(ctx).settings)
    with contextlib.suppress(KeyboardInterrupt):
        guarded(lambda: asyncio.run(run_demo(settings, serve=serve)))
