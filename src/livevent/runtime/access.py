"""Who may speak on a channel or listen to a private event, from the token they bring.

Tokens arrive as `?token=` (browsers cannot set headers on WebSockets) or as
`Authorization: Bearer ...`. A socket is closed with 4001 when its token
expires, so a client reconnects with a fresh one.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from aiohttp import web

from livevent.auth import Role, TokenClaims, TokenVerifier
from livevent.errors import Forbidden, Unauthorized
from livevent.http.params import bearer_token
from livevent.http.sockets import CloseCode, close_socket
from livevent.model import Capability, Channel, ChannelKind, EventConfig, EventStatus


def bearer(request: web.Request) -> str | None:
    return bearer_token(request, query=True)


def _owner_or_admin(claims: TokenClaims, config: EventConfig) -> bool:
    if claims.role is Role.ADMIN:
        return True
    return claims.role is Role.MANAGER and claims.customer == config.customer_id


def may_speak(
    verifier: TokenVerifier, token: str | None, config: EventConfig, channel: Channel
) -> TokenClaims:
    """The speaker's claims, or Unauthorized / Forbidden saying why not."""
    if not token:
        raise Unauthorized("speaking needs a token (?token=...)")
    claims = verifier.verify(token)
    if _owner_or_admin(claims, config) or claims.can(Capability.MANAGE, config.id):
        return claims
    if channel.kind is ChannelKind.FLOOR and claims.can(Capability.SPEAK, config.id):
        return claims
    if claims.can(Capability.INTERPRET, config.id, channel.number):
        return claims
    if claims.grants:
        raise Forbidden(f"your grants do not include speaking on channel {channel.number}")
    if claims.role is not Role.SPEAKER:
        raise Forbidden(f"a {claims.role.value} token cannot speak")
    if not claims.grants_event(config.id):
        raise Forbidden(f"the token does not grant event {config.id}")
    allowed = claims.channel if claims.channel is not None else None
    if allowed is None and channel.kind is not ChannelKind.FLOOR:
        raise Forbidden("a token without a channel speaks on the floor only")
    if allowed is not None and allowed != channel.number:
        raise Forbidden(f"the token grants channel {allowed}, not {channel.number}")
    return claims


def may_listen(
    verifier: TokenVerifier, token: str | None, config: EventConfig
) -> TokenClaims | None:
    """None for a public event without a token; claims when one was given and is good.

    A DRAFT is nobody's business yet: public or not, it needs a token like a private event.
    """
    if not token:
        if config.public and config.status is not EventStatus.DRAFT:
            return None
        raise Unauthorized(f"event {config.id} is not open to the public: listening needs a token")
    claims = verifier.verify(token)
    if not (_owner_or_admin(claims, config) or claims.grants_event(config.id)):
        raise Forbidden(f"the token does not grant event {config.id}")
    return claims


@contextlib.asynccontextmanager
async def expiry_watch(
    ws: web.WebSocketResponse, claims: TokenClaims | None
) -> AsyncIterator[None]:
    """Close the socket with 4001 when its token expires; the block owns the timer."""
    if claims is None:
        yield
        return

    async def expire() -> None:
        await asyncio.sleep(max(0.0, claims.exp - time.time()))  # until the token's expiry
        await close_socket(ws, CloseCode.UNAUTHORIZED, "token expired: reconnect with a fresh one")

    timer = asyncio.create_task(expire(), name="token-expiry")
    try:
        yield
    finally:
        timer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await timer
