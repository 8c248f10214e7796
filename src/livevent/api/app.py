"""The event service's web application: /api routes, the OpenAPI document, health."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from livevent import logs
from livevent.api import customers, events, links, outputs, people, recordings, transcripts
from livevent.auth import routes as auth_routes
from livevent.auth.middleware import auth_middleware
from livevent.auth.signing import verifier_for
from livevent.errors import LiveventError
from livevent.events.service import EventService, open_service
from livevent.http.appkeys import OPENAPI, SERVICE, SETTINGS, VERIFIER
from livevent.http.forwarded import Trust, forwarded_middleware, parse_networks
from livevent.http.openapi import build_openapi
from livevent.http.operations import Operation
from livevent.http.problems import problem, problem_middleware
from livevent.http.ratelimit import rate_middleware
from livevent.settings import Settings

# Event bodies are small; anything bigger is a mistake or an attack.
MAX_BODY_BYTES = 256 * 1024


def base_app(settings: Settings) -> web.Application:
    """An application with the problem, rate and auth middlewares every livevent app runs."""
    logs.quiet_parser_errors()
    # Who the client is comes first: every limit, log line and link after it uses it.
    trust = Trust(
        networks=parse_networks(settings.trusted_proxies),
        header=settings.forwarded_header,
        hops=settings.trusted_hops,
    )
    forwarded = forwarded_middleware(trust)
    app = web.Application(
        middlewares=[forwarded, problem_middleware, rate_middleware, auth_middleware],
        client_max_size=MAX_BODY_BYTES,
    )
    app[SETTINGS] = settings
    return app


def operations() -> list[Operation]:
    return [
        *events.table.operations,
        *recordings.table.operations,
        *transcripts.table.operations,
        *people.table.operations,
        *links.table.operations,
        *outputs.table.operations,
        *customers.table.operations,
        *auth_routes.table.operations,
    ]


async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI])


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    try:
        await request.app[SERVICE].store.ping()
    except LiveventError as error:
        return problem(503, f"store not ready: {error}")
    return web.json_response({"status": "ready"})


def create_app(settings: Settings, *, service: EventService | None = None) -> web.Application:
    """The event service over HTTP; opens its own store and bus unless given a service."""
    app = base_app(settings)

    if service is not None:
        app[SERVICE] = service
    else:

        async def service_ctx(app: web.Application) -> AsyncIterator[None]:
            async with open_service(settings) as opened:
                app[SERVICE] = opened
                yield

        app.cleanup_ctx.append(service_ctx)

    install_api(app)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


def install_api(app: web.Application) -> None:
    """The /api routes, for an app that sets SERVICE (this one, or the live runtime's)."""
    if VERIFIER not in app:
        app[VERIFIER] = verifier_for(app[SETTINGS])
    app[OPENAPI] = build_openapi(operations())
    app.add_routes(events.table.routes())
    app.add_routes(recordings.table.routes())
    app.add_routes(transcripts.table.routes())
    app.add_routes(people.table.routes())
    app.add_routes(links.table.routes())
    app.add_routes(outputs.table.routes())
    app.add_routes(customers.table.routes())
    app.add_routes(auth_routes.table.routes())
    app.router.add_get("/api/openapi.json", openapi_document)
