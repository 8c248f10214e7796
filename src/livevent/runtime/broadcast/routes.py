"""/hls/: livevent as the origin of its events' HLS, with the headers a CDN caches by.

A public event's broadcast is open: `/hls/{event}/master.m3u8`. A private event's
address carries a signature that names the event and expires, in the path (so the
playlists' relative addresses keep it, and a CDN caches one copy per address):
`/hls/{event}/k/{expires}.{signature}/master.m3u8`, given to listeners by
`GET /live/{event}/hls` on the same terms as the listen socket. Playlists are cached
for at most half a segment while live, segments for good (they never change).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from livevent.auth.access import may_listen
from livevent.errors import Forbidden, NotFound
from livevent.http.params import bearer_token, event_id_of
from livevent.model import EventConfig, EventStatus
from livevent.runtime.appkeys import RUNTIME
from livevent.runtime.broadcast.hls import MASTER, hls_root
from livevent.runtime.broadcast.stitch import ARCHIVE, RUN
from livevent.settings import Settings

LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}$")
FILE = re.compile(r"^(audio\.m3u8|subs\.m3u8|a[0-9]{5}\.ts|s[0-9]{5}\.vtt)$")
KEY = re.compile(r"^([0-9]{10})\.([0-9a-f]{32})$")
TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".vtt": "text/vtt",
}
SEGMENT_CACHE = "public, max-age=31536000, immutable"
ARCHIVE_CACHE = "public, max-age=3600"


def signature(settings: Settings, event_id: int, expires: int) -> str:
    secret = settings.auth_secret.get_secret_value().encode()
    message = f"hls:{event_id}:{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def signed_key(settings: Settings, event_id: int, now: float | None = None) -> str:
    """`{expires}.{signature}`, good for `hls_link_ttl` and up to an hour more: listeners
    who ask within the same hour get the same address, which a CDN caches once."""
    moment = time.time() if now is None else now
    expires = math.ceil((moment + settings.hls_link_ttl) / 3600) * 3600
    return f"{expires:010d}.{signature(settings, event_id, expires)}"


def check_key(settings: Settings, event_id: int, key: str) -> None:
    match = KEY.match(key)
    if match is None:
        raise Forbidden("this broadcast address is not signed")
    expires = int(match[1])
    if expires < time.time():
        raise Forbidden("this broadcast address has expired: ask for a new one")
    if not hmac.compare_digest(match[2], signature(settings, event_id, expires)):
        raise Forbidden("this broadcast address is not signed for this event")


def broadcast_file(root: Path, config: EventConfig, parts: list[str]) -> Path:
    """The file `parts` names in the event's folder, each name checked: nothing else."""
    folder = root / str(config.id)
    if parts == [MASTER]:
        return folder / MASTER
    languages = {c.language for c in config.channels}
    if (
        len(parts) == 3
        and (RUN.match(parts[0]) or parts[0] == ARCHIVE)
        and LANGUAGE.match(parts[1])
        and parts[1] in languages
        and FILE.match(parts[2])
    ):
        return folder.joinpath(*parts)
    raise NotFound("no such file in this event's broadcast")


async def hls_file(request: web.Request) -> web.StreamResponse:
    runtime = request.app[RUNTIME]
    settings = runtime.settings
    event_id = event_id_of(request)
    config = await runtime.cache.get(event_id)
    parts = request.match_info["path"].split("/")
    signed = parts[:1] == ["k"]
    if signed:
        if len(parts) < 3:
            raise NotFound("no such file in this event's broadcast")
        check_key(settings, event_id, parts[1])
        parts = parts[2:]
    if not config.broadcast:
        raise NotFound(f"event {event_id} is not broadcast: its organizer turned it off")
    if not config.public and not signed:
        raise Forbidden(
            f"event {event_id} is private: its broadcast has signed addresses"
            f" (GET /live/{event_id}/hls with a listener's token)"
        )
    path = broadcast_file(hls_root(settings), config, parts)
    if not path.is_file():
        raise NotFound(f"event {event_id} is not broadcast (yet): nothing at this address")
    headers = {
        "Content-Type": TYPES[path.suffix],
        "Cache-Control": _cache_control(path, config, settings),
        "Access-Control-Allow-Origin": "*",  # players on other sites; the address is the key
    }
    # Small (a 1 s segment is about 8 kB), and a playlist is rewritten as the stream
    # grows: read whole, never half a file, and no file left open when a player leaves
    # mid-answer (aiohttp's FileResponse left one then).
    return web.Response(body=path.read_bytes(), headers=headers)


def _cache_control(path: Path, config: EventConfig, settings: Settings) -> str:
    if path.suffix != ".m3u8":
        return SEGMENT_CACHE
    over = config.status in (EventStatus.ENDED, EventStatus.CANCELLED)
    if over or (path.name != MASTER and b"#EXT-X-ENDLIST" in path.read_bytes()[-64:]):
        return ARCHIVE_CACHE
    # At most half a segment: a player never waits a whole segment for a stale playlist.
    return f"public, max-age={int(settings.hls_segment_seconds / 2)}"


async def hls_address(request: web.Request) -> web.Response:
    """Where a listener finds the event's broadcast: open, or signed for a while."""
    runtime = request.app[RUNTIME]
    settings = runtime.settings
    config = await runtime.cache.get(event_id_of(request))
    may_listen(runtime.verifier, bearer_token(request, query=True), config)
    if not settings.hls:
        raise NotFound("this server does not broadcast events as HLS (setting hls)")
    if not config.broadcast:
        raise NotFound(f"event {config.id} is not broadcast: its organizer turned it off")
    key = "" if config.public else f"k/{signed_key(settings, config.id)}/"
    body: dict[str, Any] = {
        "url": f"/hls/{config.id}/{key}{MASTER}",
        "segment_seconds": settings.hls_segment_seconds,
        # What a player keeps behind the live edge: about three segments.
        "delay_s": round(3 * settings.hls_segment_seconds + 1, 1),
        "live": (hls_root(settings) / str(config.id) / MASTER).is_file(),
    }
    if key:
        body["expires"] = int(key[2:12])
    return web.json_response(body)
