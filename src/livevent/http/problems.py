"""Errors as `application/problem+json` (RFC 9457), decided in this one place."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from aiohttp import web

from livevent.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidInput,
    LiveventError,
    NotFound,
    PreconditionRequired,
    TooManyAttempts,
    Unauthorized,
    Unavailable,
)

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# Most specific first: the first class an error is an instance of decides.
_STATUS: list[tuple[type[LiveventError], int]] = [
    (BadRequest, 400),
    (InvalidInput, 422),
    (NotFound, 404),
    (Unauthorized, 401),
    (Forbidden, 403),
    (TooManyAttempts, 429),
    (PreconditionRequired, 428),
    (Conflict, 409),
    (Unavailable, 503),
]


def _code(error: LiveventError) -> str:
    name = type(error).__name__
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in name).lstrip("-")


def problem(status: int, detail: str, *, code: str | None = None, **extra: Any) -> web.Response:
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": f"urn:livevent:problem:{code or phrase.lower().replace(' ', '-')}",
        "title": phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    return web.Response(
        status=status,
        text=json.dumps(body, default=str),
        content_type=PROBLEM_JSON,
    )


def status_for(error: LiveventError) -> int:
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 500


def problem_for(error: LiveventError) -> web.Response:
    response = problem(status_for(error), error.message, code=_code(error), **error.details)
    if isinstance(error, Unauthorized):
        response.headers["WWW-Authenticate"] = 'Bearer realm="livevent"'
    if isinstance(error, TooManyAttempts):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except LiveventError as error:
        return problem_for(error)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        headers = {k: v for k, v in error.headers.items() if k.lower() in ("allow", "retry-after")}
        response = problem(error.status, error.reason if error.text is None else _text(error))
        response.headers.update(headers)
        return response
    except Exception:
        # Never let a traceback reach a client; the log keeps it for us.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem(500, "the server failed to answer this request")


def _text(error: web.HTTPException) -> str:
    text = error.text or error.reason
    # aiohttp's own bodies read "404: Not Found"; keep just the words.
    return text.split(": ", 1)[1] if text.startswith(f"{error.status}: ") else text
