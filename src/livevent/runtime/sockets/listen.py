"""`/listen/{event_id}`: a listener picks a channel and gets its audio, captions and status."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import uuid
from collections.abc import Coroutine
from typing import Any, Literal

from aiohttp import WSMsgType, web
from pydantic import ValidationError

from livevent import logs
from livevent.auth.access import is_staff, may_listen
from livevent.auth.tokens import TokenClaims
from livevent.bus import keys
from livevent.errors import LimitReached, LiveventError, NotFound, TooManyAttempts
from livevent.http.appkeys import SETTINGS
from livevent.http.params import bearer_token, event_id_of, shown
from livevent.http.sockets import SOCKET, CloseCode, close_socket, expiry_watch
from livevent.model import EventConfig, EventStatus
from livevent.model.ids import channel_key
from livevent.runtime.appkeys import RUNTIME, SOCKETS, STAFF_FEEDS
from livevent.runtime.live.fanout import Listener
from livevent.runtime.live.session import LiveSession
from livevent.runtime.opening import CalledOff
from livevent.runtime.wire import (
    Announcement,
    ErrorMessage,
    ListenerHello,
    ListenerSwitch,
    Status,
    listener_messages,
    send,
)

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30.0
MAX_MESSAGE_BYTES = 4096  # inclusive, as docs/protocol.md says
# How long a close waits for the client's answer: a client that never answers
# must not hold up a drain (SIGTERM has 10 s in all).
CLOSE_HANDSHAKE_SECONDS = 2.0


async def accept(
    request: web.Request, max_message: int, *, listener: bool = False
) -> tuple[web.WebSocketResponse, int]:
    """The socket, opened and tracked for shutdown, and the event id its path names.

    Anything wrong from here on (a bad id, a limit) is raised, and `socket_guard`
    closes the socket with the code for it. A listener's socket hands pongs to
    its handler: they measure how far behind the live edge it is (fanout.py).
    """
    ws = web.WebSocketResponse(
        heartbeat=HEARTBEAT_SECONDS,
        autoping=not listener,
        compress=False,
        # aiohttp refuses a message of exactly max_msg_size; our limits include theirs.
        max_msg_size=max_message + 1,
        timeout=CLOSE_HANDSHAKE_SECONDS,
    )
    await ws.prepare(request)
    request[SOCKET] = ws
    request.app[SOCKETS].add(ws)
    send_buffer = request.app[SETTINGS].listener_send_buffer_bytes
    raw = request.transport.get_extra_info("socket") if request.transport else None
    if listener and send_buffer and raw is not None:
        # Linux's default lets a listener that stopped reading pin megabytes here.
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    if not await _within_rate(request):
        per_minute = request.app[SETTINGS].joins_per_ip_per_minute
        raise TooManyAttempts(
            f"too many joins from your address ({per_minute} a minute)", retry_after=60
        )
    return ws, event_id_of(request)


async def _within_rate(request: web.Request) -> bool:
    """Joins per address per minute (`rate:ip:{ip}`); a bus outage locks nobody out."""
    per_minute = request.app[SETTINGS].joins_per_ip_per_minute
    if per_minute <= 0:
        return True
    try:
        count = await request.app[RUNTIME].bus.incr_window(keys.rate_ip(request.remote or "-"), 60)
    except LiveventError:
        return True
    return count <= per_minute


async def listen(request: web.Request) -> web.WebSocketResponse:
    runtime = request.app[RUNTIME]
    ws, event_id = await accept(request, MAX_MESSAGE_BYTES, listener=True)
    logs.EVENT.set(event_id)
    config = await runtime.cache.get(event_id)
    audio_format: Literal["opus", "pcm"] = "pcm" if request.query.get("format") == "pcm" else "opus"
    listener = Listener(
        id=uuid.uuid4().hex,
        transport=request.transport,  # type: ignore[arg-type]
        format=audio_format,
        captions_only=request.query.get("captions_only") in ("1", "true"),
    )
    claims = may_listen(runtime.verifier, bearer_token(request, query=True), config)
    listener.staff = is_staff(claims, config)
    with _staff_feed(request, event_id, claims if listener.staff else None):
        return await _listen(request, ws, event_id, config, listener, claims)


async def _listen(
    request: web.Request,
    ws: web.WebSocketResponse,
    event_id: int,
    config: EventConfig,
    listener: Listener,
    claims: TokenClaims | None,
) -> web.WebSocketResponse:
    runtime = request.app[RUNTIME]
    wanted = request.query.get("channel")
    if wanted is not None and config.channel(channel_key(wanted)) is None:
        raise NotFound(f"no channel {shown(wanted)} in this event")
    session = runtime.sessions.get(event_id)
    if session is None and config.status is EventStatus.LIVE:
        # Live, but not here: relay it from the instance that owns it (or resume it).
        try:
            session = await runtime.start(event_id)
        except LiveventError as error:
            log.info("listener of event %s waits: %s", event_id, error)
    elif session is None and listener.staff:
        session = await runtime.rehearsals.join(event_id)  # the stage hears its rehearsal
    if session is not None and session.rehearsing and not listener.staff:
        session = None  # a rehearsal is for the stage: listeners wait for the start
    if session is None:
        if config.status not in (EventStatus.SCHEDULED, EventStatus.READY, EventStatus.LIVE):
            await _say_over(ws, request, event_id, config.status)
            return ws
        planned = config.starts_at.isoformat()
        await send(ws, Status(event=event_id, event_status="WAITING", starts_at=planned))
        try:
            session = await _wait_for_start(ws, runtime.wait_for_session(event_id))
        except CalledOff as off:
            await _say_over(ws, request, event_id, off.status)  # cancelled while they waited
            return ws
        if session is None:
            return ws
    async with expiry_watch(ws, claims.exp if claims else None):
        await _serve(ws, session, listener, wanted)
    return ws


async def _say_over(
    ws: web.WebSocketResponse, request: web.Request, event_id: int, over: EventStatus
) -> None:
    """Tell a listener the event is over (ended or cancelled), and why, then close."""
    status = Status(event=event_id, event_status=over.value)
    with contextlib.suppress(LiveventError):
        change = await request.app[RUNTIME].gateway.last_change(event_id)
        if change is not None and change.reason:
            status.reason = change.reason  # why it ended, for latecomers too
    await send(ws, status)
    await close_socket(ws, CloseCode.EVENT_OVER, f"event {event_id} is {over}")


def _staff_feed(
    request: web.Request, event_id: int, claims: TokenClaims | None
) -> contextlib.AbstractContextManager[None]:
    """A staff token's feed, counted against its few; nothing for the audience."""
    if claims is None:
        return contextlib.nullcontext()
    return request.app[STAFF_FEEDS].hold(event_id, claims.jti)


async def _wait_for_start(
    ws: web.WebSocketResponse, started: Coroutine[Any, Any, LiveSession]
) -> LiveSession | None:
    """Hold the socket until the event goes live; None when the listener left first."""
    waiter = asyncio.ensure_future(started)
    reader = asyncio.ensure_future(ws.receive())
    try:
        while True:
            done, _ = await asyncio.wait({waiter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if waiter in done:
                return waiter.result()
            message = reader.result()
            if message.type is WSMsgType.PING:
                await ws.pong(message.data)
            elif message.type in (
                WSMsgType.CLOSE,
                WSMsgType.CLOSING,
                WSMsgType.CLOSED,
                WSMsgType.ERROR,
            ):
                return None
            reader = asyncio.ensure_future(ws.receive())
    finally:
        for task in (waiter, reader):
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


async def _serve(
    ws: web.WebSocketResponse, session: LiveSession, listener: Listener, wanted: str | None
) -> None:
    state = session.find_channel(wanted)
    if state is None:
        raise NotFound(f"no channel {shown(wanted or '')} in this event")
    language = state.hub.language
    logs.CHANNEL.set(language)
    session.audience.track(listener.id, ws)
    await send(ws, session.welcome(language, listener.format))
    if not await session.audience.join(listener, language):
        limit = session.config.limits.max_listeners
        raise LimitReached(f"the event is full ({limit} listeners)")
    try:
        await send(ws, session.status_message(language))
        banner = session.notes.banner
        if banner is not None and banner.text is not None:
            await send(ws, Announcement(text=banner.text, at=banner.at))
        async for message in ws:
            if message.type is WSMsgType.PONG:
                listener.pong(message.data)
                continue
            if message.type is WSMsgType.PING:
                await ws.pong(message.data)
                continue
            if message.type is not WSMsgType.TEXT:
                continue  # listeners send no audio; ignore rather than fail
            language = await _control(ws, session, listener, language, message.data)
    finally:
        await session.audience.leave(listener.id, language)


async def _control(
    ws: web.WebSocketResponse,
    session: LiveSession,
    listener: Listener,
    language: str,
    text: str,
) -> str:
    """Apply a hello or switch message; returns the channel the listener is on after it."""
    try:
        parsed = listener_messages.validate_json(text)
    except ValidationError as error:
        await send(ws, ErrorMessage(message=f"unreadable message: {error.errors()[0]['msg']}"))
        return language
    except json.JSONDecodeError:
        await send(ws, ErrorMessage(message="messages must be JSON"))
        return language
    target = language
    if isinstance(parsed, ListenerHello):
        session.channels[language].hub.reshape(listener, parsed.format, parsed.captions_only)
        target = parsed.channel or language
    elif isinstance(parsed, ListenerSwitch):
        target = parsed.channel
    state = session.find_channel(target)
    if state is None:
        await send(ws, ErrorMessage(message=f"no channel {shown(target)} in this event"))
        return language
    await send(ws, session.welcome(state.hub.language, listener.format))
    if state.hub.language != language:
        await session.audience.leave(listener.id, language)
        if not await session.audience.join(listener, state.hub.language):
            # The slot just freed was taken meanwhile: stay where we were if we can.
            if not await session.audience.join(listener, language):
                raise LimitReached("the event is full")
            return language
        language = state.hub.language
    await send(ws, session.status_message(language))
    return language
