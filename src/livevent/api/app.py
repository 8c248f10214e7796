"""The aiohttp application of the event service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from livevent import logs
from livevent.api import accounts, customers, events
from livevent.api.auth import auth_middleware, rate_middleware
from livevent.api.keys import SERVICE, SETTINGS, VERIFIER
from livevent.api.openapi import build_openapi
from livevent.api.operations import Operation
from livevent.auth import Role, TokenIssuer, TokenVerifier
from livevent.errors import InvalidInput, LiveventError
from livevent.http.problems import problem, problem_middleware
from livevent.service import EventService, open_service
from livevent.settings import Settings

# Event bodies are small; anything bigger is a mistake or an attack.
MAX_BODY_BYTES = 256 * 1024

OPENAPI = web.AppKey("openapi", dict)


def operations() -> list[Operation]:
    return [*events.table.operations, *customers.table.operations, *accounts.table.operations]


def service_token(settings: Settings, *, ttl: int = 300) -> str:
    """An admin token, signed with this deployment's secret, for its own processes."""
    issuer = TokenIssuer(
        settings.auth_secret.get_secret_value(),
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
    )
    return issuer.issue(sub="livevent-service", role=Role.ADMIN, ttl=ttl, events="*")


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
    logs.quiet_parser_errors()
    app = web.Application(
        middlewares=[problem_middleware, rate_middleware, auth_middleware],
        client_max_size=MAX_BODY_BYTES,
    )
    app[SETTINGS] = settings

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


def verifier_for(settings: Settings) -> TokenVerifier:
    """Tokens from another issuer (public key or JWKS) when configured, else our own secret."""
    options: dict[str, Any] = {"audience": settings.auth_audience, "issuer": settings.auth_issuer}
    if settings.auth_jwks_file is not None:
        return TokenVerifier.from_jwks_file(settings.auth_jwks_file, **options)
    if settings.auth_public_key_file is not None:
        try:
            key = settings.auth_public_key_file.read_text()
        except OSError as error:
            raise InvalidInput(f"cannot read auth_public_key_file: {error}") from None
        return TokenVerifier(public_key=key, **options)
    return TokenVerifier(secret=settings.auth_secret.get_secret_value(), **options)


def install_api(app: web.Application) -> None:
    """The /api routes, for an app that sets SERVICE (this one, or the live runtime's)."""
    if VERIFIER not in app:
        app[VERIFIER] = verifier_for(app[SETTINGS])
    app[OPENAPI] = build_openapi(operations())
    app.add_routes(events.table.routes())
    app.add_routes(customers.table.routes())
    app.add_routes(accounts.table.routes())
    app.router.add_get("/api/openapi.json", openapi_document)
