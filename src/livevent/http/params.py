"""What a request names, read once: the event id in its path and the bearer token it carries.

The access check and the handler both call these, and the event id is kept on
the request after the first read, so the two can never disagree about which
event a request is about.
"""

from __future__ import annotations

import re

from aiohttp import web

from livevent.errors import NotFound, Unauthorized
from livevent.model.ids import parse_event_id

EVENT_ID = web.RequestKey("event_id", int)
# A JWT is three base64url parts; anything else (spaces, non-ASCII bytes,
# megabytes of junk) is refused before a verifier sees it.
_TOKEN = re.compile(r"[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]*){1,4}")
MAX_TOKEN_CHARS = 8192


def shown(raw: str, limit: int = 32) -> str:
    """Input quoted back in an error, cut so a hostile megabyte is not echoed."""
    return repr(raw if len(raw) <= limit else raw[:limit] + "...")


def event_id_of(request: web.Request) -> int:
    """The event the path names, in its one canonical spelling; NotFound for any other."""
    if EVENT_ID in request:
        return request[EVENT_ID]
    raw = request.match_info.get("event_id", "")
    event_id = parse_event_id(raw)
    if event_id is None:
        raise NotFound(f"no event {shown(raw)}: an event id is a positive integer")
    request[EVENT_ID] = event_id
    return event_id


def names_event(request: web.Request) -> bool:
    return "event_id" in request.match_info


def bearer_token(request: web.Request, *, query: bool = False) -> str | None:
    """The token of `Authorization: Bearer ...` (or, with `query`, of `?token=`); None if absent.

    Browsers cannot set headers on a WebSocket or a link, hence `?token=` there.
    A token that is not even shaped like one is Unauthorized here.
    """
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            raise Unauthorized("send a token: Authorization: Bearer <token>")
        return check_token_form(token.strip())
    if query and request.query.get("token"):
        return check_token_form(request.query["token"])
    return None


def check_token_form(token: str) -> str:
    if len(token) > MAX_TOKEN_CHARS or _TOKEN.fullmatch(token) is None:
        raise Unauthorized("that is not a token")
    return token
