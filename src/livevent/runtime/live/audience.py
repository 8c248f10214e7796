"""Who is connected to a live session here: every socket (closed together at the end),
and each listener's place on its channel, counted on the bus against the event's limit.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Coroutine
from typing import Any, Protocol

from aiohttp import web

from livevent.aio import raise_if_cancelled
from livevent.http.sockets import CloseCode, close_socket
from livevent.model import EventConfig
from livevent.runtime.cluster.scaleout import ScaleOut, SessionRole
from livevent.runtime.live.channels import ChannelState
from livevent.runtime.live.fanout import Listener
from livevent.runtime.live.presence import Presence

log = logging.getLogger(__name__)

PACE_PERIOD = 0.5


class Venue(Protocol):
    """What the audience needs of its session (live/session.py)."""

    config: EventConfig
    channels: dict[str, ChannelState]
    presence: Presence
    link: ScaleOut
    closing: bool

    @property
    def role(self) -> SessionRole: ...

    def spawn(self, coroutine: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]: ...


class Audience:
    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self._sockets: weakref.WeakValueDictionary[str, web.WebSocketResponse] = (
            weakref.WeakValueDictionary()
        )

    def track(self, socket_id: str, ws: web.WebSocketResponse) -> None:
        self._sockets[socket_id] = ws

    async def close_all(self, code: CloseCode, why: str) -> None:
        await asyncio.gather(
            *(close_socket(ws, code, why) for ws in list(self._sockets.values())),
            return_exceptions=True,
        )

    async def join(self, listener: Listener, language: str) -> bool:
        """Admit the listener to the channel; False when the event is full (its limit)."""
        venue = self.venue
        limit = venue.config.limits.max_listeners
        # Staff hear their feeds whatever the limit, and are not counted as audience.
        if not listener.staff and not await venue.presence.admit(language, listener.id, limit):
            return False
        state = venue.channels[language]
        state.hub.add(listener)
        state.idle_since = None
        state.paused = False
        if venue.role == "relay":
            venue.link.want_status(language)
            if not listener.captions_only:
                venue.link.want_audio(language)
        return True

    async def leave(self, listener_id: str, language: str) -> None:
        state = self.venue.channels[language]
        gone = state.hub.remove(listener_id)
        if gone is None:
            return
        if not state.hub.listeners:
            state.idle_since = time.monotonic()
        if not self.venue.closing and not gone.staff:
            await self.venue.presence.discharge(language, listener_id)

    def drop_slow(self, listener: Listener) -> None:
        # Its socket closes within the close deadline, aborted if it cannot take
        # the close frame; the listener's handler then leaves and frees its place.
        log.info("listener %s is too far behind the live edge: dropping it", listener.id)
        ws = self._sockets.get(listener.id)
        if ws is None:
            listener.transport.abort()
            return
        closing = close_socket(ws, CloseCode.TOO_SLOW, "too far behind the live edge")
        self.venue.spawn(closing, name=f"drop-slow:{listener.id}")

    async def watch_pace(self) -> None:
        while True:
            raise_if_cancelled()
            now = time.monotonic()
            for state in list(self.venue.channels.values()):
                state.hub.check_pace(now)
            await asyncio.sleep(PACE_PERIOD)  # the probe's period, not a synchronisation
