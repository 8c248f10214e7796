"""`livevent engines`: which speech engines are installed and what each offers."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.table import Table

from livevent.cli._utilities import console, guarded, print_json, state
from livevent.model import ChannelKind, Event
from livevent.runtime.engines import Engines, VoiceReport, describe_engines, voice_report
from livevent.runtime.speech.channel_engines import NO_VOICE
from livevent.settings import Settings


def engines(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """List the speech-to-text, translation and text-to-speech engines."""
    options = guarded(lambda: state(ctx).settings.engine_options)
    found = guarded(lambda: asyncio.run(describe_engines(options)))
    if as_json:
        print_json(found)
        return
    table = Table(title="Engines", title_justify="left")
    for column in ("Stage", "Name", "Default", "Offers"):
        table.add_column(column)
    for row in found:
        offers = ", ".join(
            f"{k}: {', '.join(v) if isinstance(v, list) else v}"
            for k, v in row.items()
            if k not in ("stage", "name", "default", "available")
        )
        table.add_row(row["stage"], row["name"], "*" if row["default"] else "", offers)
    console.print(table)


def warn_of_voices(event: Event, settings: Settings) -> None:
    """Machine channels whose voice listeners will find hard to follow, or have none."""
    machine = [c for c in event.channels if c.kind is ChannelKind.MACHINE and c.voice != NO_VOICE]
    if not machine:
        return

    async def reports() -> list[VoiceReport]:
        engines = Engines(settings.engine_options)
        try:
            return [
                await voice_report(engines, c.language, c.voice, c.engines.get("tts"))
                for c in machine
            ]
        finally:
            await engines.aclose()

    for report in guarded(lambda: asyncio.run(reports())):
        if report.warning:
            console.print(f"[yellow]Warning[/]: channel {report.language}: {report.warning}.")
