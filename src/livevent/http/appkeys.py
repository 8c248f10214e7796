"""What both web applications share, behind typed keys: settings, service, verifier."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from livevent.auth.tokens import TokenClaims, TokenVerifier
from livevent.events.service import EventService
from livevent.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
SERVICE = web.AppKey("service", EventService)
VERIFIER = web.AppKey("verifier", TokenVerifier)
OPENAPI: web.AppKey[dict[str, Any]] = web.AppKey("openapi")
# The claims of the request's token, once auth's middleware has checked it.
CLAIMS = web.RequestKey("claims", TokenClaims)
