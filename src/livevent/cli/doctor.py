"""`livevent doctor`: check the store, the bus, the engines, audio devices, ports and secrets."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from livevent.cli._utilities import EXIT_UNAVAILABLE, console, guarded, print_json, state
from livevent.doctor import run_checks

STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}


def doctor(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Check what livevent needs here and say what to fix (exit 3 when something fails)."""
    settings = guarded(lambda: state(ctx).settings)
    checks = guarded(lambda: asyncio.run(run_checks(settings)))
    if as_json:
        print_json([check.as_dict() for check in checks])
    else:
        table = Table(title="livevent doctor", title_justify="left")
        for column in ("Check", "", "Found", "Fix"):
            table.add_column(column)
        for check in checks:
            table.add_row(
                check.name, Text(check.status, style=STYLE[check.status]), check.detail, check.fix
            )
        console.print(table)
    if any(check.status == "fail" for check in checks):
        raise typer.Exit(EXIT_UNAVAILABLE)
