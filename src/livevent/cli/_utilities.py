"""What every command shares: the console, settings, the service, and the way out on error.

Exit codes (also in README.md):
    0  success
    1  bad input: a wrong option, value or configuration
    2  not found, or a conflict with the stored state (illegal transition, stale version)
    3  a backing service (store, bus) is unavailable
    4  not allowed: credentials refused, a grant missing, or too many attempts
   70  an internal error (a bug: please report it)
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console

from livevent.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    LiveventError,
    NotFound,
    TooManyAttempts,
    Unauthorized,
    Unavailable,
)
from livevent.events.service import EventService, open_service
from livevent.model.ids import parse_event_id
from livevent.settings import Settings, load_settings

T = TypeVar("T")

EXIT_OK = 0
EXIT_BAD_INPUT = 1
EXIT_CONFLICT = 2
EXIT_UNAVAILABLE = 3
EXIT_DENIED = 4
EXIT_INTERNAL = 70

console = Console()
# Warnings go to stderr: what scripts read from stdout stays clean.
err_console = Console(stderr=True)


def event_id_value(value: str) -> int:
    """A command-line event id, read by the one parser every entry point uses."""
    event_id = parse_event_id(value)
    if event_id is None:
        raise typer.BadParameter(f"an event id is a positive integer, not {value!r}")
    return event_id


EventId = Annotated[int, typer.Argument(help="The event's id.", parser=event_id_value)]


@dataclass
class CliState:
    config_file: Path | None = None
    _settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_file)
        return self._settings


def exit_code_for(error: LiveventError) -> int:
    if isinstance(error, InvalidInput):
        return EXIT_BAD_INPUT
    if isinstance(error, NotFound | Conflict):
        return EXIT_CONFLICT
    if isinstance(error, Unavailable):
        return EXIT_UNAVAILABLE
    if isinstance(error, Unauthorized | Forbidden | TooManyAttempts):
        return EXIT_DENIED
    return EXIT_INTERNAL


def exit_with_error(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """One line on stderr, never a traceback, then exit with `code`."""
    line = " ".join(str(message).split())
    sys.stderr.write(f"error: {line}\n")
    sys.stderr.flush()
    raise typer.Exit(code)


def state(ctx: typer.Context) -> CliState:
    found = ctx.find_object(CliState)
    return found if found is not None else CliState()


def actor() -> str:
    """Who the audit trail names for changes made from this terminal."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return f"cli:uid{os.getuid()}"


def run(ctx: typer.Context, work: Callable[[EventService], Awaitable[T]]) -> T:
    """Open the event service from the settings, run `work` on it, and close it."""

    async def main() -> T:
        async with open_service(state(ctx).settings) as service:
            return await work(service)

    return guarded(lambda: asyncio.run(main()))


def guarded(call: Callable[[], T]) -> T:
    """Run `call`, turning livevent's errors into one line and an exit code."""
    try:
        return call()
    except LiveventError as error:
        exit_with_error(str(error), exit_code_for(error))


def print_json(value: BaseModel | list[Any] | dict[str, Any]) -> None:
    if isinstance(value, BaseModel):
        text = value.model_dump_json(indent=2)
    else:
        text = json.dumps(value, indent=2, default=str)
    sys.stdout.write(text + "\n")
