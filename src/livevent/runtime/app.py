"""The live runtime's routes: the listen and speak sockets (or their pages), /live, /metrics."""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from livevent.auth.signing import verifier_for
from livevent.http.appkeys import SERVICE, SETTINGS, VERIFIER
from livevent.http.sockets import CloseCode, close_socket, socket_guard
from livevent.runtime import metrics
from livevent.runtime.appkeys import AUTO_START, RUNTIME, SOCKETS, STAFF_FEEDS
from livevent.runtime.broadcast import archive
from livevent.runtime.broadcast import routes as hls_routes
from livevent.runtime.cluster.line import default_peer_url
from livevent.runtime.runtime import LiveRuntime
from livevent.runtime.sockets import routes as live_routes
from livevent.runtime.sockets.line import line
from livevent.runtime.sockets.listen import listen
from livevent.runtime.sockets.speak import speak
from livevent.runtime.sockets.staff import StaffFeeds
from livevent.web import pages

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

DRAIN_REASON = "server shutting down: reconnect"


def _socket_or_page(socket: Handler, page: Handler) -> Handler:
    """One URL for a person and their browser's socket: the page, or the WebSocket."""

    async def route(request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return await page(request)
        return await socket(request)

    return route


def install_runtime(
    app: web.Application,
    *,
    runtime: LiveRuntime | None = None,
    auto_start: bool = True,
    end_events_on_exit: bool = False,
    address: str | None = None,
) -> None:
    """The live runtime's routes on `app` (which sets SETTINGS); opens its own `LiveRuntime`
    unless given one. With `auto_start`, a speaker connecting opens a SCHEDULED or READY
    event here, as a rehearsal until the organizer goes live.
    """
    settings = app[SETTINGS]
    if VERIFIER not in app:  # one verifier (one JWKS read) for the routes and the runtime
        app[VERIFIER] = runtime.verifier if runtime is not None else verifier_for(settings)
    verifier = app[VERIFIER]
    app[AUTO_START] = auto_start
    app[SOCKETS] = weakref.WeakSet()
    app[STAFF_FEEDS] = StaffFeeds(settings.staff_feeds_per_token)

    async def runtime_ctx(app: web.Application) -> AsyncIterator[None]:
        if runtime is not None:
            app[RUNTIME] = runtime
            if runtime.service is not None:
                app[SERVICE] = runtime.service
            yield
            return
        opened = LiveRuntime(settings, verifier=verifier)
        opened.address = address
        opened.peer_url = settings.peer_url or default_peer_url(address)
        await opened.__aenter__()
        app[RUNTIME] = opened
        if opened.service is not None:
            app[SERVICE] = opened.service
        try:
            yield
        finally:
            await opened.aclose(end_events=end_events_on_exit)

    app.cleanup_ctx.append(runtime_ctx)
    app.on_shutdown.append(functools.partial(_drain, end_events=end_events_on_exit))
    _add_routes(app)
    pages.install_pages(app)


def _add_routes(app: web.Application) -> None:
    app.router.add_get(
        "/listen/{event_id}", _socket_or_page(socket_guard(listen), pages.listen_page)
    )
    app.router.add_get(
        "/speak/{event_id}/{channel}", _socket_or_page(socket_guard(speak), pages.speak_page)
    )
    app.router.add_get("/live/voices/{language}", live_routes.voice_of)
    app.router.add_get("/live/workers", live_routes.live_workers)
    app.router.add_get("/live/{event_id}/channels", live_routes.live_channels)
    app.router.add_get("/live/{event_id}/line", socket_guard(line))
    app.router.add_get("/live/{event_id}/hls", hls_routes.hls_address)
    app.router.add_get("/live/{event_id}/transcript", archive.archive_transcript)
    app.router.add_get("/hls/{event_id}/{path:.+}", hls_routes.hls_file)
    app.router.add_get("/live/{event_id}/stats", live_routes.live_stats)
    app.router.add_get("/live/{event_id}/notes", live_routes.live_notes)
    app.router.add_post("/live/{event_id}/notes", live_routes.send_note)
    app.router.add_post("/live/{event_id}/announce", live_routes.announce)
    app.router.add_post("/live/{event_id}/start", live_routes.live_start)
    app.router.add_post("/live/{event_id}/stop", live_routes.live_stop)
    app.router.add_get("/metrics", metrics.metrics)
    app.router.add_get("/healthz", live_routes.healthz)
    app.router.add_get("/readyz", live_routes.readyz)


async def _drain(app: web.Application, *, end_events: bool) -> None:
    """Shutting down: the listening socket is closed by now (no new joins). Hand each
    event over first (ownership released), then tell everyone to move."""
    if not end_events and RUNTIME in app:
        running = app[RUNTIME]
        for event_id in list(running.sessions):
            await running.leave(event_id, reason=DRAIN_REASON)
    sockets: weakref.WeakSet[web.WebSocketResponse] = app[SOCKETS]
    # Each close has its own deadline, after which its connection is cut:
    # clients that stopped reading cannot hold the drain up.
    await asyncio.gather(
        *(close_socket(ws, CloseCode.GOING_AWAY, DRAIN_REASON) for ws in list(sockets)),
        return_exceptions=True,
    )
