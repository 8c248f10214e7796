"""`livevent serve`: the HTTP API on the configured host and port."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from aiohttp import web

from livevent.api import create_app
from livevent.cli._utilities import guarded, state


def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option("--host", help="Listen address.")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Listen port.", min=0)] = None,
) -> None:
    """Serve the event API (/api/events, /api/openapi.json) until Ctrl-C or SIGTERM."""
    settings = guarded(lambda: state(ctx).settings)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(message)s")
    app = create_app(settings)
    guarded(
        lambda: web.run_app(
            app,
            host=host or settings.host,
            port=settings.port if port is None else port,
            print=lambda text: typer.echo(text.strip()),
            access_log=None,
        )
    )
