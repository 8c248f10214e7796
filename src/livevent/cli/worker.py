"""`livevent worker`: run live events' speech (recognition, translation, voices) for the
live instances that place it here (`speech = "workers"`)."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer

from livevent.cli._utilities import exit_with_error, guarded, state
from livevent.logs import configure_logging
from livevent.runtime.workers.worker import run_worker


def worker(
    ctx: typer.Context,
    slots: Annotated[
        int | None,
        typer.Option(
            "--slots",
            help="Events whose speech this worker takes at once (default: half its cores,"
            " at least one).",
        ),
    ] = None,
) -> None:
    """Run speech work for live events until SIGTERM or Ctrl-C, then hand it over."""
    if slots is not None and slots < 1:
        exit_with_error(f"--slots must be at least 1, not {slots}")
    settings = guarded(lambda: state(ctx).settings)
    configure_logging(settings)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await run_worker(settings, slots=slots, stop=stop)

    guarded(lambda: asyncio.run(main()))
