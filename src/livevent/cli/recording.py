"""`livevent recording`: what was recorded of each channel of an event, and exporting it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from livevent.cli._utilities import EventId, console, guarded, print_json, run, state
from livevent.errors import InvalidInput
from livevent.events.recordings import list_parts
from livevent.model import normalize_language
from livevent.runtime.storage.recording import export_channel

app = typer.Typer(
    help="Recordings of live events (Ogg Opus, a file per channel).", no_args_is_help=True
)


@app.command("list")
def list_command(
    ctx: typer.Context,
    event_id: EventId,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """The recorded parts of every channel, in order."""
    run(ctx, lambda service: service.get_event(event_id))  # exists, or exit 2
    folder = state(ctx).settings.recordings_dir
    parts = list_parts(folder, event_id)
    if as_json:
        print_json(
            [
                {
                    "channel": p.language,
                    "part": p.name,
                    "started_at": p.started_at.isoformat(),
                    "instance": p.instance,
                    "bytes": p.size,
                    "path": str(p.path),
                }
                for p in parts
            ]
        )
        return
    table = Table(title=f"Recordings of event {event_id}", title_justify="left")
    for column in ("Channel", "Started (UTC)", "Instance", "Size"):
        table.add_column(column)
    for part in parts:
        table.add_row(
            part.language,
            part.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            part.instance,
            f"{part.size / 1024:.0f} KiB",
        )
    console.print(table if parts else f"nothing recorded of event {event_id} in {folder}")


@app.command("export")
def export_command(
    ctx: typer.Context,
    event_id: EventId,
    channel: Annotated[str, typer.Option("--channel", "-c", help="The channel's language.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The .ogg file to write.")],
) -> None:
    """One channel as one Ogg Opus file: its parts in order, silence between them."""
    language = guarded(lambda: _language(channel))
    run(ctx, lambda service: service.get_event(event_id))
    parts = [
        p
        for p in list_parts(state(ctx).settings.recordings_dir, event_id)
        if p.language == language
    ]
    seconds = guarded(lambda: export_channel(parts, output))
    console.print(f"wrote {output}: {seconds:.1f} s of {language} from {len(parts)} part(s)")


def _language(tag: str) -> str:
    try:
        return normalize_language(tag)
    except ValueError as error:
        raise InvalidInput(str(error)) from None
