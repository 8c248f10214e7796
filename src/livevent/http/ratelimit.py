"""Requests per address per minute on /api and /live, counted on the bus."""

from __future__ import annotations

import math

from aiohttp import web

from livevent.bus import keys
from livevent.errors import LiveventError
from livevent.http.appkeys import SERVICE, SETTINGS
from livevent.http.problems import Handler, problem


@web.middleware
async def rate_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Requests per address per minute on /api and /live (`rate:ip:{ip}:api`); 429 + Retry-After."""
    per_minute = request.app[SETTINGS].api_requests_per_ip_per_minute
    limited = request.path.startswith(("/api/", "/live/"))
    if per_minute <= 0 or not limited or SERVICE not in request.app:
        return await handler(request)
    bus = request.app[SERVICE].bus
    key = keys.rate_ip(request.remote or "-") + ":api"
    try:
        count = await bus.incr_window(key, 60)
        retry_after = await bus.ttl(key) if count > per_minute else None
    except LiveventError:
        return await handler(request)  # a bus outage locks nobody out
    if count > per_minute:
        response = problem(429, f"more than {per_minute} requests a minute from your address")
        response.headers["Retry-After"] = str(max(1, math.ceil(retry_after or 60)))
        return response
    return await handler(request)
