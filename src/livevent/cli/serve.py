"""`livevent serve`: the event API and the live runtime; a speaker connecting early rehearses."""

from __future__ import annotations

from typing import Annotated

import typer
from aiohttp import web

from livevent.cli._utilities import exit_with_error, guarded, state
from livevent.logs import configure_logging
from livevent.server import ServeRole, create_runtime_app
from livevent.settings import check_exposure


def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option("--host", help="Listen address.")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Listen port.", min=0)] = None,
    role: Annotated[
        str | None,
        typer.Option(
            "--role",
            help="api: the event API and the console; live: the live runtime (/listen,"
            " /speak, /live); all: both (default: the role setting).",
        ),
    ] = None,
) -> None:
    """Serve /api, /listen and /speak until Ctrl-C or SIGTERM (live events stay LIVE)."""
    if role is not None and role not in ("api", "live", "all"):
        exit_with_error(f"--role is api, live or all, not {role!r}")
    settings = guarded(lambda: state(ctx).settings)
    chosen_role: ServeRole = role or settings.role  # type: ignore[assignment]
    configure_logging(settings)
    bind = host or settings.host
    guarded(lambda: check_exposure(settings, bind))
    chosen = settings.port if port is None else port
    address = f"{bind}:{chosen}"
    app = create_runtime_app(settings, auto_start=True, address=address, role=chosen_role)
    guarded(
        lambda: web.run_app(
            app,
            host=bind,
            port=chosen,
            print=lambda text: typer.echo(text.strip()),
            access_log=None,
            shutdown_timeout=10,
        )
    )
