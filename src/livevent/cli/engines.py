"""`livevent engines`: which speech engines are installed and what each offers."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.table import Table

from livevent.cli._utilities import console, guarded, print_json, state
from livevent.runtime.engines import describe_engines


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
