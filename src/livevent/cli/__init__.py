"""The `livevent` command: one typer group per area, errors out through one helper."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from livevent.__about__ import __version__
from livevent.cli import (
    customer,
    db,
    demo,
    devices,
    doctor,
    engines,
    event,
    live,
    output,
    recording,
    serve,
    stats,
    token,
    transcript,
    user,
    worker,
)
from livevent.cli._utilities import EXIT_BAD_INPUT, EXIT_INTERNAL, CliState


class LiveventGroup(TyperGroup):
    """Keeps usage errors to one line and exit code 1, like every other bad input."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            result = super().main(
                args,
                prog_name,
                complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                **extra,
            )
        except typer.Exit as done:
            sys.exit(done.exit_code)
        except typer.Abort:
            sys.stderr.write("error: aborted\n")
            sys.exit(130)
        except typer.TyperException as error:
            message = " ".join(error.format_message().split())
            sys.stderr.write(f"error: {message}\n")
            sys.exit(EXIT_BAD_INPUT)
        except Exception as error:
            if os.environ.get("LIVEVENT_DEBUG"):
                raise
            sys.stderr.write(
                f"error: internal error ({type(error).__name__}: {error});"
                " run with LIVEVENT_DEBUG=1 for the traceback\n"
            )
            sys.exit(EXIT_INTERNAL)
        # Outside standalone mode typer returns an Exit's code instead of raising it.
        if isinstance(result, int):
            sys.exit(result)
        return result


app = typer.Typer(
    cls=LiveventGroup,
    help="livevent: multilingual live events with floor, human and machine channels.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
app.add_typer(event.app, name="event")
app.add_typer(output.app, name="output")
app.add_typer(customer.app, name="customer")
app.add_typer(db.app, name="db")
app.add_typer(live.app, name="live")
app.add_typer(transcript.app, name="transcript")
app.add_typer(recording.app, name="recording")
app.add_typer(token.app, name="token")
app.add_typer(user.app, name="user")
app.command("engines")(engines.engines)
app.command("stats")(stats.stats)
app.command("devices")(devices.devices)
app.command("doctor")(doctor.doctor)
app.command("demo")(demo.demo)
app.command("serve")(serve.serve)
app.command("worker")(worker.worker)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"livevent {__version__}\n")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="TOML settings file (else $LIVEVENT_CONFIG, ...)"),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    ctx.obj = CliState(config_file=config)


def main() -> None:
    # Whatever the CLI or its server writes (recordings, exports, the store and what
    # ffmpeg or SQLite add beside them) is for this user only, as the unit's UMask says.
    os.umask(0o077)
    app()
