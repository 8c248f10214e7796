"""`livevent live start|stop`: run an event live from this terminal, or end it from another."""

from __future__ import annotations

import asyncio
import io
import signal
from typing import Annotated, Any

import aiohttp
import segno
import typer
from aiohttp import web

from livevent.auth import service_token
from livevent.cli._utilities import EventId, actor, console, guarded, run, state
from livevent.errors import InvalidInput, Unavailable
from livevent.model import ChannelKind
from livevent.runtime import LiveRuntime, LiveSession
from livevent.runtime.media.sources import open_input
from livevent.server import create_runtime_app
from livevent.settings import Settings, check_exposure

app = typer.Typer(help="Run events live.", no_args_is_help=True)


def base_url(settings: Settings, host: str, port: int) -> str:
    if settings.public_url:
        return settings.public_url.rstrip("/")
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{shown}:{port}"


def qr_code(url: str) -> str:
    """The URL as a QR code of Unicode half blocks, for phones to scan off the terminal."""
    buffer = io.StringIO()
    segno.make(url, error="m").terminal(out=buffer, compact=True, border=2)
    return buffer.getvalue()


def print_links(session: LiveSession, http_base: str) -> None:
    event = session.config
    listen = f"{http_base}/listen/{event.id}"
    console.print(f"[bold red]LIVE[/] event {event.id}: {event.name}", highlight=False)
    console.print(f"  listeners: {listen}", highlight=False)
    console.out(qr_code(listen), highlight=False)
    for state_ in session.channels.values():
        channel = state_.hub.channel
        if channel.kind is ChannelKind.MACHINE:
            continue
        console.print(
            f"  channel {channel.number} {channel.language} ({channel.kind.value}):"
            f" speak at {http_base}/speak/{event.id}/{channel.number}",
            highlight=False,
        )
    console.print(f"  managers: {http_base}/manage", highlight=False)
    console.print("  stats: livevent stats " + str(event.id), highlight=False)
    console.print("Press Ctrl-C to end the event.", style="dim")


async def _feed(session: LiveSession, spec: str) -> None:
    floor = session.config.source_language
    speaker = await session.speakers.claim(floor)
    if speaker is None:
        raise InvalidInput("the floor channel already has a speaker")
    try:
        async for frame, arrived in open_input(spec):
            session.feed(floor, frame, arrived)
    finally:
        session.speakers.release(floor, speaker)


async def run_live(
    settings: Settings, event_id: int, *, input_spec: str | None, host: str, port: int
) -> str:
    """Serve the event live until Ctrl-C, SIGTERM, the input's end, or a stop from outside."""
    check_exposure(settings, host)
    async with LiveRuntime(settings) as runtime:
        application = create_runtime_app(settings, runtime=runtime, auto_start=False)
        runner = web.AppRunner(application, handle_signals=False, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port)
            try:
                await site.start()
            except OSError as error:
                raise Unavailable(f"cannot listen on {host}:{port}: {error}") from None
            bound = runner.addresses[0][1] if runner.addresses else port
            session = await runtime.start(event_id)
            print_links(session, base_url(settings, host, bound))
            return await _until_done(runtime, session, input_spec)
        finally:
            await runner.cleanup()


async def _until_done(runtime: LiveRuntime, session: LiveSession, input_spec: str | None) -> str:
    loop = asyncio.get_running_loop()
    interrupted = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, interrupted.set)
    waits: set[asyncio.Task[Any]] = {
        asyncio.create_task(interrupted.wait(), name="signal"),
        asyncio.create_task(session.ended.wait(), name="ended"),
    }
    if input_spec is not None:
        waits.add(asyncio.create_task(_feed(session, input_spec), name="input"))
    try:
        done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        for task in waits:
            task.cancel()
        await asyncio.gather(*waits, return_exceptions=True)
    finished = next(iter(done))
    if finished.get_name() == "input" and finished.exception() is not None:
        error = finished.exception()
        await runtime.stop(session.event_id, reason=f"the input failed: {error}")
        raise error  # type: ignore[misc]
    if not session.ended.is_set():
        reason = (
            "the recording ended" if finished.get_name() == "input" else "stopped by the operator"
        )
        await runtime.stop(session.event_id, reason=reason)
    return f"{session.status.value}" + (f" ({session.reason})" if session.reason else "")


@app.command("start")
def start(
    ctx: typer.Context,
    event_id: EventId,
    input_spec: Annotated[
        str | None,
        typer.Option(
            "--input",
            "-i",
            help="Floor audio from here: FILE (replayed in real time) or device[:NAME_OR_INDEX].",
        ),
    ] = None,
    host: Annotated[str | None, typer.Option("--host", help="Listen address.")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Listen port (0: any).", min=0)] = None,
) -> None:
    """Take a SCHEDULED or READY event live and serve its channels until it ends."""
    settings = guarded(lambda: state(ctx).settings)
    outcome = guarded(
        lambda: asyncio.run(
            run_live(
                settings,
                event_id,
                input_spec=input_spec,
                host=host or settings.host,
                port=settings.port if port is None else port,
            )
        )
    )
    console.print(f"Event {event_id} is {outcome}.", highlight=False)


@app.command("stop")
def stop(
    ctx: typer.Context,
    event_id: EventId,
    url: Annotated[
        str | None, typer.Option("--url", help="The runtime's base URL (else host:port).")
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", "-r")] = None,
) -> None:
    """End a live event: the runtime tells its listeners, sets ENDED and cleans up."""
    settings = guarded(lambda: state(ctx).settings)
    target = (url or base_url(settings, settings.host, settings.port)).rstrip("/")

    async def via_runtime() -> bool:
        params = {"reason": reason} if reason else {}
        try:
            async with (
                aiohttp.ClientSession(
                    # The runtime answers once the channels said their last words.
                    timeout=aiohttp.ClientTimeout(total=settings.finish_machine_seconds + 30),
                    headers={"Authorization": f"Bearer {service_token(settings)}"},
                ) as http,
                http.post(f"{target}/live/{event_id}/stop", params=params) as response,
            ):
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    if guarded(lambda: asyncio.run(via_runtime())):
        console.print(f"Event {event_id} ended.")
        return
    # No runtime answered for it here: end it in the store; a runtime elsewhere
    # hears of it on the bus (or its status watch) and closes the session.
    run(
        ctx,
        lambda service: service.act(
            event_id, "end", actor=actor(), reason=reason or "stopped by an operator"
        ),
    )
    console.print(f"Event {event_id} ended (through the event service).")
