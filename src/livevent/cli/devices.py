"""`livevent devices`: the sound devices that can capture a speaker."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from livevent.cli._utilities import console, guarded, print_json
from livevent.runtime.media.sources import list_input_devices


def devices(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """List input devices (use one with `livevent live start ID --input device:NAME`)."""
    found = guarded(list_input_devices)
    if as_json:
        print_json(found)
        return
    table = Table(title="Input devices", title_justify="left")
    for column in ("#", "Name", "Host API", "Channels", "Rate", "Default"):
        table.add_column(column)
    for device in found:
        table.add_row(
            str(device["index"]),
            device["name"],
            device["hostapi"],
            str(device["channels"]),
            f"{device['default_samplerate']:.0f}",
            "*" if device["default"] else "",
        )
    console.print(table)
