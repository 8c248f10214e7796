"""The live server: the runtime's routes, the pages and, unless another process serves it,
the event service's /api, in one aiohttp application (what `livevent serve` runs).

The runtime and the event service never import each other; this is where they meet.
"""

from __future__ import annotations

from typing import Literal

from aiohttp import web

from livevent.api.app import base_app, create_app, install_api
from livevent.runtime.app import install_runtime
from livevent.runtime.runtime import LiveRuntime
from livevent.settings import Settings
from livevent.web import pages

# What one `livevent serve` runs: the event service's API (and the console), the live
# runtime (sockets, /live, the listener and speaker pages), or both.
ServeRole = Literal["api", "live", "all"]


def create_runtime_app(
    settings: Settings,
    *,
    runtime: LiveRuntime | None = None,
    auto_start: bool = True,
    end_events_on_exit: bool = False,
    address: str | None = None,
    role: ServeRole = "all",
) -> web.Application:
    """The live runtime over HTTP; opens its own `LiveRuntime` unless given one.

    With `auto_start`, a speaker connecting to a SCHEDULED or READY event rehearses in it.
    `role` "api" serves the event service and the console only; "live" the runtime only
    (it reads events from the store, or from `event_service_url`).
    """
    if role == "api":
        app = create_app(settings)
        pages.install_pages(app)
        return app
    app = base_app(settings)
    install_runtime(
        app,
        runtime=runtime,
        auto_start=auto_start,
        end_events_on_exit=end_events_on_exit,
        address=address,
    )
    if role == "all" and not settings.event_service_url:
        install_api(app)
    return app
