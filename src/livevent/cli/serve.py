"""`livevent serve`: the event API and the live runtime; a speaker connecting early rehearses."""

from __future__ import annotations

from typing import Annotated

import typer
from aiohttp import web

from livevent.cli._utilities import guarded, state
from livevent.logs import configure_logging
from livevent.server import create_runtime_app
from livevent.settings import check_exposure


def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option("--host", help="Listen address.")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Listen port.", min=0)] = None,
) -> None:
    """Serve /api, /listen and /speak until Ctrl-C or SIGTERM (live events stay LIVE)."""
    settings = guarded(lambda: state(ctx).settings)
    configure_logging(settings)
    bind = host or settings.host
    guarded(lambda: check_exposure(settings, bind))
    chosen = settings.port if port is None else port
    app = create_runtime_app(settings, auto_start=True, address=f"{bind}:{chosen}")
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
