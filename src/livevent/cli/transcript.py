"""`livevent transcript export`: what was said, and its translations, as a file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from livevent.cli._utilities import EventId, guarded, run
from livevent.errors import InvalidInput
from livevent.events.exports import FORMATS, export
from livevent.model import normalize_language

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
    language = guarded(lambda: _language(lang))
    segments = run(ctx, lambda service: service.transcript(event_id))
    text = guarded(lambda: export(segments, fmt, language))
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


def _language(tag: str | None) -> str | None:
    if tag is None:
        return None
    try:
        return normalize_language(tag)
    except ValueError as error:
        raise InvalidInput(str(error)) from None
