"""Every object the aiohttp application shares, behind a typed key."""

from __future__ import annotations

from aiohttp import web

from livevent.auth import TokenVerifier
from livevent.service import EventService
from livevent.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
SERVICE = web.AppKey("service", EventService)
VERIFIER = web.AppKey("verifier", TokenVerifier)
