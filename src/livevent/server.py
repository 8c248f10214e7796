"""The live server: the runtime's routes, the pages and, unless another process serves it,
the event service's /api, in one aiohttp application (what `livevent serve` runs).

The runtime and the event service never import each other; this is where they meet.
"""

from __future__ import annotations

from aiohttp import web

from livevent.api.app import base_app, install_api
from livevent.runtime.app import install_runtime
from livevent.runtime.runtime import LiveRuntime
from livevent.settings import Settings


def create_runtime_app(
    settings: Settings,
    *,
    runtime: LiveRuntime | None = None,
    auto_start: bool = True,
    end_events_on_exit: bool = False,
    address: str | None = None,
) -> web.Application:
    """The live runtime over HTTP; opens its own `LiveRuntime` unless given one.

    With `auto_start`, a speaker connecting to a SCHEDULED or READY event rehearses in it.
    """
    app = base_app(settings)
    install_runtime(
        app,
        runtime=runtime,
        auto_start=auto_start,
        end_events_on_exit=end_events_on_exit,
        address=address,
    )
    if not settings.event_service_url:
        install_api(app)
    return app
