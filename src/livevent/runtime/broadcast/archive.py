"""An ended event's transcript for its listeners: what the archive page offers beside
the recording, in the listener's language.

Offered on the listen terms (a public event to anyone, a private one to a token that
grants it), once the event has ended, and only where its organizer lets the event's
broadcast be its archive (`broadcast`): the same switch that keeps the recording off.
"""

from __future__ import annotations

from aiohttp import web

from livevent.auth.access import may_listen
from livevent.errors import BadRequest, Conflict, NotFound
from livevent.events.exports import export, export_filename, export_language
from livevent.http.downloads import attachment
from livevent.http.params import bearer_token, event_id_of, shown
from livevent.model import EventStatus
from livevent.runtime.appkeys import RUNTIME

# What a listener downloads: subtitles to play beside the recording, or plain text.
LISTENER_FORMATS = {"srt": "application/x-subrip", "vtt": "text/vtt", "txt": "text/plain"}


async def archive_transcript(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    config = await runtime.cache.get(event_id_of(request))
    may_listen(runtime.verifier, bearer_token(request, query=True), config)
    if config.status is not EventStatus.ENDED:
        raise Conflict(f"event {config.id} has not ended: its transcript comes afterwards")
    if not config.broadcast:
        raise NotFound(f"event {config.id} keeps no archive for its listeners")
    fmt = request.query.get("format", "txt")
    if fmt not in LISTENER_FORMATS:
        raise BadRequest(f"format is one of {', '.join(LISTENER_FORMATS)}, not {shown(fmt)}")
    language = export_language(request.query.get("language"))
    segments = await runtime.gateway.transcript(config.id)
    if not segments:
        raise NotFound(f"event {config.id} has no transcript")
    text = export(segments, fmt, language)
    filename = export_filename(config.id, fmt, language)
    return web.Response(
        text=text,
        content_type=LISTENER_FORMATS[fmt],
        headers={"Content-Disposition": attachment(filename)},
    )
