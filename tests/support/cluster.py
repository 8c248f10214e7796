"""Several `livevent serve` processes on one store and one bus, and what tests do with them.

Each instance is a real process on a free port, its output in a log file of the
test's folder; `Cluster` starts them and kills whatever is left at the end.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from uuid import uuid4

import aiohttp
import redis
import redis.asyncio
from yarl import URL

from livevent.bus import MemoryBus, keys
from livevent.client import ListenerClient
from livevent.events.service import EventService
from livevent.model import ChannelKind, ChannelSpec, CustomerCreate, EventCreate
from livevent.store import open_store
from tests.support.live import go_live, listening
from tests.support.servers import LIVEVENT, free_port, wait_for_port

OWNER_TTL = 2.0


@dataclass
class Instance:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    settings: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def ws(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"


@dataclass
class Cluster:
    database_url: str
    redis_url: str
    folder: Path
    instances: dict[str, Instance] = field(default_factory=dict)

    def start(self, name: str, *, port: int | None = None, **settings: str) -> Instance:
        """Settings beyond the cluster's as LIVEVENT_* variables: `spool_dir="/tmp/x"`."""
        port = port or free_port()
        process, log = self._spawn(name, ["serve", "--port", str(port)], settings)
        wait_for_port(port, f"instance {name}")
        instance = Instance(name, port, process, log, settings)
        self.instances[name] = instance
        return instance

    def worker(self, name: str, *, slots: int = 1, **settings: str) -> Instance:
        """A `livevent worker` process, returned once its heartbeat is on the bus."""
        process, log = self._spawn(name, ["worker", "--slots", str(slots)], settings)
        instance = Instance(name, 0, process, log, settings)
        self.instances[name] = instance
        client = redis.Redis.from_url(self.redis_url)
        deadline = time.monotonic() + 90  # loading the recogniser on a busy machine
        try:
            while not client.exists(keys.worker_alive(name)):
                if process.poll() is not None:
                    raise AssertionError(f"worker {name} exited: {log.read_text()[-2000:]}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"worker {name} never registered")
                time.sleep(0.1)  # polling the bus for its heartbeat, with a deadline
        finally:
            client.close()
        return instance

    def _spawn(
        self, name: str, command: list[str], settings: dict[str, str]
    ) -> tuple[subprocess.Popen[bytes], Path]:
        env = {
            **os.environ,
            "LIVEVENT_DATABASE_URL": self.database_url,
            "LIVEVENT_REDIS_URL": self.redis_url,
            "LIVEVENT_INSTANCE_NAME": name,
            "LIVEVENT_OWNER_LOCK_TTL": str(OWNER_TTL),
            "LIVEVENT_JOINS_PER_IP_PER_MINUTE": "0",
            "LIVEVENT_API_REQUESTS_PER_IP_PER_MINUTE": "0",
            "LIVEVENT_LOG_FORMAT": "json",
            **{f"LIVEVENT_{key.upper()}": value for key, value in settings.items()},
        }
        log = self.folder / f"{name}.log"
        with log.open("ab") as sink:
            process = subprocess.Popen(
                [LIVEVENT, *command],
                env=env,
                cwd=self.folder,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        return process, log

    def restart(self, name: str) -> Instance:
        """SIGTERM (it drains), then the same instance again on its port, as an operator
        upgrading one instance of a running deployment does."""
        old = self.instances[name]
        old.process.terminate()
        old.process.wait(timeout=30)
        return self.start(name, port=old.port, **old.settings)

    def stop_all(self) -> None:
        for instance in self.instances.values():
            if instance.process.poll() is None:
                instance.process.kill()
                instance.process.wait()


async def scheduled_event(
    database_url: str,
    *,
    machine: bool = False,
    fallback: bool = False,
    live: bool = False,
    relay: bool = False,
) -> int:
    """An English event with one es-ES channel: an interpreter's (with the machine standing
    in, `fallback`) or a machine channel's; `live`: the organizer went live before anyone
    joined (speakers go on air at once, no rehearsal); `relay`: a Catalan machine channel
    relayed from the Spanish one too."""
    store = await open_store(database_url)
    try:
        service = EventService(store=store, bus=MemoryBus())
        kind = ChannelKind.MACHINE if machine else ChannelKind.HUMAN
        relayed = [ChannelSpec(language="ca-ES", kind=ChannelKind.MACHINE, source="es-ES")]
        relayed = relayed if relay else []
        # A customer of its own: the tests share one database, and the events they leave
        # LIVE must not count against another test's limit of live events.
        customer = await store.create_customer(CustomerCreate(name=f"Cluster {uuid4().hex}"))
        event = await service.create_event(
            EventCreate(
                customer_id=customer.id,
                name="Scaled out",
                starts_at="2026-12-01T10:00Z",
                source_language="en-US",
                channels=[
                    ChannelSpec(
                        language="es-ES", kind=kind, fallback="machine" if fallback else None
                    ),
                    *relayed,
                ],
            ),
            actor="test",
        )
        await service.act(event.id, "schedule", actor="test")
        if live:
            await service.act(event.id, "start", actor="test")
        return event.id
    finally:
        await store.aclose()


async def counts(client: redis.asyncio.Redis, event_id: int) -> dict[str, str]:
    values = await client.hgetall(keys.live_listeners(event_id))
    return {language: count for language, count in values.items() if count != "0"}


async def joined(http: aiohttp.ClientSession, url: str) -> ListenerClient:
    listener = listening(await http.ws_connect(url))
    await listener.until(lambda log: bool(log.of_type("status")))
    return listener


async def speaker(http: aiohttp.ClientSession, url: str) -> aiohttp.ClientWebSocketResponse:
    """A floor speaker on air at `url` (/speak/...): one who joins before the event is live
    rehearses until the organizer goes live, on the same instance."""
    ws = await http.ws_connect(url)
    greeting = await ws.receive_json()
    assert greeting["type"] == "ready", greeting
    if greeting.get("rehearsal"):
        speak = URL(url)
        event_id = speak.path.split("/")[2]
        scheme = "https" if speak.scheme == "wss" else "http"
        await go_live(http, str(speak.with_scheme(scheme).with_path(f"/live/{event_id}/start")))
        live = await ws.receive_json()
        assert live["type"] == "ready" and not live.get("rehearsal"), live
    return ws


async def say(ws: aiohttp.ClientWebSocketResponse, pcm: bytes) -> None:
    for offset in range(0, len(pcm), 3200):
        await ws.send_bytes(pcm[offset : offset + 3200])
        await asyncio.sleep(0.1)  # pacing: 100 ms of audio every 100 ms, as a microphone


async def hears(listener: ListenerClient, seconds: float, within: float = 30) -> None:
    """Wait until the listener has decoded `seconds` more of audio."""
    await heard(listener, listener.heard.seconds + seconds, within)


async def heard(listener: ListenerClient, target: float, within: float = 30) -> None:
    await listener.until(lambda log: log.seconds >= target, within=within)
    assert listener.heard.close_code is None, f"closed: {listener.heard.close_code}"


async def hear_all(saying: asyncio.Task[None], *listeners: ListenerClient) -> None:
    """Each listener decodes 2 s more of audio than it had when the speaker began."""
    targets = [listener.heard.seconds + 2.0 for listener in listeners]
    for listener, target in zip(listeners, targets, strict=True):
        await heard(listener, target)
    await saying
