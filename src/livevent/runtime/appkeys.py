"""The runtime's shared objects, behind typed keys."""

from __future__ import annotations

import weakref

from aiohttp import web

from livevent.runtime.runtime import LiveRuntime
from livevent.runtime.sockets.staff import StaffFeeds

RUNTIME = web.AppKey("runtime", LiveRuntime)
SOCKETS: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("sockets")
# Whether a speaker connecting opens the event's session here (`livevent serve`): a
# rehearsal until the organizer goes live.
AUTO_START = web.AppKey("auto_start", bool)
STAFF_FEEDS = web.AppKey("staff_feeds", StaffFeeds)
