"""`livevent transcript export`: what was said, and its translations, as a file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from livevent.cli._utilities import EventId, exit_with_error, guarded, run
from livevent.events.exports import FORMATS, export, export_language
from livevent.files import write_private_text

app = typer.Typer(help="Transcripts of live events.", no_args_is_help=True)


@app.command("export")
def export_command(
    ctx: typer.Context,
    event_id: EventId,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help=f"One of {', '.join(FORMATS)}.")
    ] = "srt",
    lang: Annotated[
        str | None, typer.Option("--lang", help="A translation (else the original).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here (else stdout).")
    ] = None,
) -> None:
    """Export the transcript as SubRip, WebVTT, text or JSON."""
    language = guarded(lambda: export_language(lang))
    segments = run(ctx, lambda service: service.transcript(event_id))
    text = guarded(lambda: export(segments, fmt, language))
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            write_private_text(output, text)
        except OSError as error:
            exit_with_error(f"cannot write {output}: {error.strerror or error}", 1)
