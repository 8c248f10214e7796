"""`livevent engines`: which speech engines are installed and what each offers."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer
from rich.table import Table

from livevent.cli._utilities import console, guarded, print_json, state
from livevent.errors import LiveventError
from livevent.runtime.engines import DEFAULTS, STAGES, engine_classes


async def describe_engines(options: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for stage in STAGES:
        for name, cls in sorted(engine_classes(stage).items()):
            row: dict[str, Any] = {"stage": stage, "name": name, "default": DEFAULTS[stage] == name}
            engine = cls(**options.get(f"{stage}.{name}", {}))
            try:
                if name != "whisper":  # loading Whisper takes seconds; describe it lazily
                    await engine.start()
                row.update(engine.describe())
                row["available"] = True
            except LiveventError as error:
                row["available"] = False
                row["problem"] = str(error)
            finally:
                await engine.aclose()
            found.append(row)
    return found


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
