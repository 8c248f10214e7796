"""Who may do what on /api: a bearer token with a role, scoped to a customer.

admin: everything. manager: the events (and the customer) of its own customer.
A `manage` grant opens one event's routes to its holder, whatever the role.
Other speaker and listener tokens open no /api door but /api/auth/me. Logins,
the OpenAPI document, /healthz and /readyz need no token.
"""

from __future__ import annotations

import math

from aiohttp import web

from livevent import keys
from livevent.api.keys import SERVICE, SETTINGS, VERIFIER
from livevent.auth import TokenClaims
from livevent.errors import Forbidden, LiveventError, Unauthorized
from livevent.http.params import bearer_token, event_id_of, names_event
from livevent.http.problems import Handler, problem
from livevent.model import Capability, Role

CLAIMS = web.RequestKey("claims", TokenClaims)
_OPEN = ("/api/openapi.json", "/api/auth/token", "/api/auth/refresh")
_ANY_ROLE = ("/api/auth/me",)


def claims_of(request: web.Request) -> TokenClaims:
    return request[CLAIMS]


def actor_of(request: web.Request) -> str:
    """Who the audit trail names for a change made with this request's token."""
    claims = claims_of(request)
    return f"{claims.role.value}:{claims.sub}"


def own_customer(request: web.Request, requested: int | None) -> int | None:
    """The customer a manager is held to (its own); an admin may name any or none."""
    claims = claims_of(request)
    if claims.role is Role.ADMIN:
        return requested
    if requested is not None and requested != claims.customer:
        raise Forbidden(f"this token manages customer {claims.customer}, not {requested}")
    return claims.customer


def require_admin(request: web.Request) -> None:
    if claims_of(request).role is not Role.ADMIN:
        raise Forbidden("only an admin token may do this")


@web.middleware
async def rate_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Requests per address per minute on /api and /live (`rate:ip:{ip}:api`); 429 + Retry-After."""
    per_minute = request.app[SETTINGS].api_requests_per_ip_per_minute
    limited = request.path.startswith(("/api/", "/live/"))
    if per_minute <= 0 or not limited or SERVICE not in request.app:
        return await handler(request)
    bus = request.app[SERVICE].bus
    key = keys.rate_ip(request.remote or "-") + ":api"
    try:
        count = await bus.incr_window(key, 60)
        retry_after = await bus.ttl(key) if count > per_minute else None
    except LiveventError:
        return await handler(request)  # a bus outage locks nobody out
    if count > per_minute:
        response = problem(429, f"more than {per_minute} requests a minute from your address")
        response.headers["Retry-After"] = str(max(1, math.ceil(retry_after or 60)))
        return response
    return await handler(request)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = request.path
    if not path.startswith(("/api/", "/live/")) or path in _OPEN:
        return await handler(request)
    # The id is read here, once, in its one spelling; handlers get the same number.
    event_id = event_id_of(request) if names_event(request) else None
    if path.startswith("/live/") and request.method == "GET":
        return await handler(request)  # listen access, checked by the handler on the event
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("send a token: Authorization: Bearer <token> (livevent token create)")
    claims = request.app[VERIFIER].verify(token)
    request[CLAIMS] = claims
    if path in _ANY_ROLE:
        return await handler(request)
    if event_id is not None and claims.can(Capability.MANAGE, event_id):
        return await handler(request)  # a per-event grant, whatever the role
    if claims.role not in (Role.ADMIN, Role.MANAGER):
        raise Forbidden(f"a {claims.role.value} token cannot use this API")
    if claims.role is Role.MANAGER and claims.customer is None:
        raise Forbidden("a manager token must name its customer")
    if event_id is not None and claims.role is Role.MANAGER:
        event = await request.app[SERVICE].get_event(event_id)
        if event.customer_id != claims.customer:
            raise Forbidden(f"event {event_id} belongs to another customer")
    return await handler(request)
