"""What both web applications share, behind typed keys: settings, service, verifier."""

from __future__ import annotations

from aiohttp import web

from livevent.auth.tokens import TokenVerifier
from livevent.events.service import EventService
from livevent.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
SERVICE = web.AppKey("service", EventService)
VERIFIER = web.AppKey("verifier", TokenVerifier)
