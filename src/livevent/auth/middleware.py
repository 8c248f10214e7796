"""Who may do what on /api: a bearer token with a role, scoped to a customer.

admin: everything. manager: the events (and the customer) of its own customer.
A `manage` grant opens one event's routes to its holder, whatever the role.
Other speaker and listener tokens, and every session a sign-in link opened,
open no /api door but /api/auth/me. Logins,
the OpenAPI document, /healthz and /readyz need no token.
"""

from __future__ import annotations

from aiohttp import web

from livevent.auth.tokens import TokenClaims
from livevent.errors import Forbidden, Unauthorized
from livevent.http.appkeys import CLAIMS, SERVICE, VERIFIER
from livevent.http.params import bearer_token, event_id_of, names_event
from livevent.http.problems import Handler
from livevent.model import Capability, Role

_OPEN = (
    "/api/openapi.json",
    "/api/auth/token",
    "/api/auth/refresh",
    "/api/auth/link",
    "/api/auth/welcome",
)
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


def delegate_of(request: web.Request, customer_id: int) -> str | None:
    """The caller's subject when only a `manage` grant on the event let them in (neither an
    admin nor the customer's manager); None for those two."""
    claims = claims_of(request)
    if claims.role is Role.ADMIN:
        return None
    if claims.role is Role.MANAGER and claims.customer == customer_id:
        return None
    return claims.sub


def require_admin(request: web.Request) -> None:
    if claims_of(request).role is not Role.ADMIN:
        raise Forbidden("only an admin token may do this")


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
    if claims.scope is not None:
        raise Forbidden("a sign-in link's session opens its speak page only, not this API")
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
