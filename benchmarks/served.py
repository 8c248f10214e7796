"""A live event with machine channels, served on a free port of 127.0.0.1, for the
benchmarks that listen to it over real sockets (lag.py, fidelity.py)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from livevent.auth import Role, issuer_for
from livevent.model import ChannelKind, ChannelSpec, EventCreate
from livevent.runtime import LiveRuntime
from livevent.runtime.live.session import LiveSession
from livevent.server import create_runtime_app


@dataclass
class Served:
    session: LiveSession
    url: str  # http://127.0.0.1:PORT
    token: str  # the floor speaker's
    runner: web.AppRunner

    @property
    def event_id(self) -> int:
        return self.session.event_id


async def serve_machine_event(runtime: LiveRuntime, targets: tuple[str, ...], name: str) -> Served:
    """An English event with a machine channel per target, live and served."""
    assert runtime.service is not None
    event = await runtime.service.create_event(
        EventCreate(
            name=name,
            starts_at="2026-12-01T10:00Z",
            source_language="en-US",
            channels=[ChannelSpec(language=t, kind=ChannelKind.MACHINE) for t in targets],
        ),
        actor="bench",
    )
    await runtime.service.act(event.id, "schedule", actor="bench")
    return await serve(runtime, event.id)


async def serve(runtime: LiveRuntime, event_id: int) -> Served:
    """A SCHEDULED event taken live and served; the token is the floor speaker's."""
    session = await runtime.start(event_id)
    runner = web.AppRunner(create_runtime_app(runtime.settings, runtime=runtime), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    token = issuer_for(runtime.settings).issue(
        sub="bench", role=Role.SPEAKER, ttl=3600, events=[event_id], channel=1
    )
    return Served(session, f"http://127.0.0.1:{runner.addresses[0][1]}", token, runner)
