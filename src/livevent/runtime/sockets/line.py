"""`/live/{event_id}/line`: the owner's end of a relay's line (runtime/cluster/line.py).

Only this deployment's own instances open a line: a line token (auth/signing.py), signed
with the deployment's secret for this event's line alone, is checked before the upgrade,
so anyone else gets an HTTP problem and never a socket.
"""

from __future__ import annotations

from aiohttp import web

from livevent.auth.signing import SERVICE_SUBJECT, line_verifier
from livevent.errors import Conflict, Forbidden, Unauthorized
from livevent.http.appkeys import SETTINGS
from livevent.http.params import bearer_token, event_id_of, shown
from livevent.runtime.appkeys import RUNTIME, SOCKETS
from livevent.runtime.cluster.line import LINE_HEARTBEAT_SECONDS, MAX_LINE_MESSAGE, Line


async def line(request: web.Request) -> web.WebSocketResponse:
    runtime = request.app[RUNTIME]
    event_id = event_id_of(request)
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("a line is for this deployment's instances: send a line token")
    claims = line_verifier(request.app[SETTINGS]).verify(token)
    if claims.sub != SERVICE_SUBJECT or claims.events != [event_id]:
        raise Forbidden("this token opens another event's line")
    session = runtime.sessions.get(event_id)
    if session is None or session.role != "owner":
        raise Conflict(f"event {event_id} is not run by this instance")
    ws = web.WebSocketResponse(
        heartbeat=LINE_HEARTBEAT_SECONDS, max_msg_size=MAX_LINE_MESSAGE, compress=False
    )
    await ws.prepare(request)
    request.app[SOCKETS].add(ws)
    relay = shown(request.query.get("instance", "a relay"), 100)
    await session.link.serve_line(Line(ws, relay))
    return ws
