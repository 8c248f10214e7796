"""WebSocket endings, decided in one place: close codes from the error tree, reasons that fit,
closes that cannot hang, and a guard that turns any failure of a socket handler into a close code.

The problem table in `problems.py` answers HTTP requests; this is its twin for
connections that were upgraded, where an HTTP answer can no longer be written.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from enum import IntEnum

from aiohttp import web

from livevent.errors import (
    Forbidden,
    InvalidInput,
    LimitReached,
    LiveventError,
    NotFound,
    NotStartable,
    TooManyAttempts,
    Unauthorized,
    Unavailable,
)

log = logging.getLogger(__name__)

# RFC 6455 5.5: a control frame's payload is at most 125 bytes, two of them the code.
MAX_REASON_BYTES = 123
# How long a close may take before the connection is cut: a client that stopped
# reading never takes the close frame, and must not hold a drain or a slot.
CLOSE_DEADLINE_SECONDS = 2.0

SocketHandler = Callable[[web.Request], Awaitable[web.WebSocketResponse]]


class CloseCode(IntEnum):
    """WebSocket close codes livevent uses; 4000-4999 are ours."""

    NORMAL = 1000
    GOING_AWAY = 1001
    INTERNAL_ERROR = 1011  # a bug of ours; the log has it
    PROTOCOL_ERROR = 4000  # a message we cannot read
    UNAUTHORIZED = 4001  # no token, a bad one, or one that expired
    FORBIDDEN = 4003  # a good token that does not grant this event or channel
    NOT_FOUND = 4004  # no such event or channel
    TOO_SLOW = 4008  # a listener that stayed behind the live edge
    CHANNEL_BUSY = 4009  # the channel already has a speaker
    EVENT_OVER = 4010  # the event ended or was cancelled
    NOT_LIVE = 4011  # the event cannot go live (a DRAFT, say)
    REPLACED = 4012  # the same speaker connected again (a reload): this socket is off
    LIMITED = 4029  # a limit: the event is full, or too many joins from one address


# Most specific first, as in the problem table; anything else of ours is "try again".
_CLOSE: list[tuple[type[LiveventError], CloseCode]] = [
    (Unauthorized, CloseCode.UNAUTHORIZED),
    (Forbidden, CloseCode.FORBIDDEN),
    (NotFound, CloseCode.NOT_FOUND),
    (NotStartable, CloseCode.NOT_LIVE),
    (LimitReached, CloseCode.LIMITED),
    (TooManyAttempts, CloseCode.LIMITED),
    (InvalidInput, CloseCode.PROTOCOL_ERROR),
    (Unavailable, CloseCode.GOING_AWAY),
]


def close_code_for(error: LiveventError) -> CloseCode:
    for kind, code in _CLOSE:
        if isinstance(error, kind):
            return code
    return CloseCode.GOING_AWAY


def close_reason(text: str) -> bytes:
    """`text` as UTF-8, cut to what a close frame holds, never inside a character."""
    data = text.encode("utf-8", "replace")
    if len(data) <= MAX_REASON_BYTES:
        return data
    return data[:MAX_REASON_BYTES].decode("utf-8", "ignore").encode()


async def close_socket(
    ws: web.WebSocketResponse,
    code: int,
    reason: str,
    *,
    deadline: float = CLOSE_DEADLINE_SECONDS,
) -> None:
    """Close politely when the client takes the close frame in time, else cut the connection.

    aiohttp's close drains the close frame into the transport and then closes it
    gracefully, which for a client that stopped reading waits forever: so when
    the transport has not let go of its bytes by the deadline, it is aborted.
    """
    transport = ws._req.transport if ws._req is not None else None
    loop = asyncio.get_running_loop()
    give_up = loop.time() + deadline
    if not ws.closed:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(code=code, message=close_reason(reason)), deadline)
    if transport is None:
        return
    # Another task may be closing the socket too: give it the same deadline.
    while not transport.is_closing() or transport.get_write_buffer_size() > 0:
        if loop.time() >= give_up:
            transport.abort()
            return
        await asyncio.sleep(0.05)  # polling the transport, which has no "drained" event


SOCKET = web.RequestKey("socket", web.WebSocketResponse)


def socket_guard(handler: SocketHandler) -> SocketHandler:
    """Whatever a socket handler raises ends as a close code, never as HTTP on an upgraded line.

    A handler stores its socket in `request[SOCKET]` as soon as it is prepared.
    """

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.WebSocketResponse:
        try:
            return await handler(request)
        except ConnectionError:
            if SOCKET not in request:
                raise
            return request[SOCKET]  # the client left: nobody to tell anything
        except LiveventError as error:
            code, reason = close_code_for(error), error.message
            failure: LiveventError | None = error
        except Exception:
            log.exception("socket %s failed", request.path)
            code, reason, failure = CloseCode.INTERNAL_ERROR, "the server failed; reconnect", None
        if SOCKET not in request:
            # Not upgraded yet: an HTTP answer is still possible, and problem_middleware writes it.
            if failure is not None:
                raise failure
            raise web.HTTPInternalServerError(text=reason)
        ws = request[SOCKET]
        await close_socket(ws, code, reason)
        return ws

    return guarded


@contextlib.asynccontextmanager
async def expiry_watch(ws: web.WebSocketResponse, expires_at: float | None) -> AsyncIterator[None]:
    """Close the socket with 4001 when its token expires (`expires_at`, unix time), so a
    client reconnects with a fresh one; the block owns the timer. None: never."""
    if expires_at is None:
        yield
        return

    async def expire() -> None:
        await asyncio.sleep(max(0.0, expires_at - time.time()))  # until the token's expiry
        await close_socket(ws, CloseCode.UNAUTHORIZED, "token expired: reconnect with a fresh one")

    timer = asyncio.create_task(expire(), name="token-expiry")
    try:
        yield
    finally:
        timer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await timer
