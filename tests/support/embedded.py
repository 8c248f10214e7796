"""A runtime on the embedded default (a SQLite file, the in-process bus) served on a
free port: what most browser and runtime tests stand on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer
from pytest_aiohttp import AiohttpServer

from livevent.bus import MemoryBus
from livevent.runtime import LiveRuntime
from livevent.server import create_runtime_app
from livevent.settings import Settings


@asynccontextmanager
async def embedded_runtime(folder: Path, **settings: Any) -> AsyncIterator[LiveRuntime]:
    """A runtime whose store, recordings and HLS live in `folder`, with no rate limits
    (tests join and ask often); `settings` override the rest."""
    chosen: dict[str, Any] = {
        "database_url": f"sqlite:///{folder / 'livevent.db'}",
        "recordings_dir": folder / "recordings",
        "api_requests_per_ip_per_minute": 0,
        "joins_per_ip_per_minute": 0,
        **settings,
    }
    async with LiveRuntime(Settings(**chosen), bus=MemoryBus()) as opened:
        yield opened


async def served(aiohttp_server: AiohttpServer, runtime: LiveRuntime) -> TestServer:
    """The runtime's whole application (pages, /api, /live, /hls) on 127.0.0.1."""
    app = create_runtime_app(runtime.settings, runtime=runtime)
    return await aiohttp_server(app, host="127.0.0.1")
