"""Several `livevent serve` instances on one Redis and one PostgreSQL, and the faults they ride out.

Every instance is a real process on its own port. Redis is a server of the
test's own (so it can be killed and restarted); PostgreSQL is the machine's,
except for the outage test, which stops one of its own.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio

from livevent.auth import service_token
from livevent.bus import MemoryBus, keys
from livevent.client import ListenerClient
from livevent.events.service import EventService
from livevent.model import ChannelKind, ChannelSpec, EventCreate
from livevent.settings import Settings
from livevent.store import open_store
from tests.support.live import Heard, listening, poll, speaker_token, speech_pcm
from tests.support.postgres_server import PostgresServer
from tests.support.redis_server import RedisServer
from tests.support.servers import LIVEVENT, free_port, wait_for_port

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
OWNER_TTL = 2.0
ENGLISH = "Good morning everyone, and welcome to our annual meeting. The weather is nice today."


@dataclass
class Instance:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

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

    def start(self, name: str) -> Instance:
        port = free_port()
        env = {
            **os.environ,
            "LIVEVENT_DATABASE_URL": self.database_url,
            "LIVEVENT_REDIS_URL": self.redis_url,
            "LIVEVENT_INSTANCE_NAME": name,
            "LIVEVENT_OWNER_LOCK_TTL": str(OWNER_TTL),
            "LIVEVENT_JOINS_PER_IP_PER_MINUTE": "0",
            "LIVEVENT_API_REQUESTS_PER_IP_PER_MINUTE": "0",
            "LIVEVENT_LOG_FORMAT": "json",
        }
        log = self.folder / f"{name}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [LIVEVENT, "serve", "--port", str(port)],
                env=env,
                cwd=self.folder,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        wait_for_port(port, f"instance {name}")
        instance = Instance(name, port, process, log)
        self.instances[name] = instance
        return instance

    def stop_all(self) -> None:
        for instance in self.instances.values():
            if instance.process.poll() is None:
                instance.process.kill()
                instance.process.wait()


@pytest.fixture
def cluster(postgres_url: str, own_redis: RedisServer, tmp_path: Path) -> Iterator[Cluster]:
    made = Cluster(postgres_url, own_redis.url, tmp_path)
    try:
        yield made
    finally:
        made.stop_all()


@pytest.fixture
async def redis_client(own_redis: RedisServer) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(own_redis.url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def scheduled_event(database_url: str, *, machine: bool = False) -> int:
    store = await open_store(database_url)
    try:
        service = EventService(store=store, bus=MemoryBus())
        kind = ChannelKind.MACHINE if machine else ChannelKind.HUMAN
        event = await service.create_event(
            EventCreate(
                name="Scaled out",
                starts_at="2026-12-01T10:00Z",
                source_language="en-US",
                channels=[ChannelSpec(language="es-ES", kind=kind)],
            ),
            actor="test",
        )
        await service.act(event.id, "schedule", actor="test")
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
    ws = await http.ws_connect(url)
    assert (await ws.receive_json())["type"] == "ready"
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


async def test_listeners_anywhere_hear_the_owner_and_survive_its_death(
    cluster: Cluster,
    redis_client: redis.asyncio.Redis,
    http: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    one, two, three = (cluster.start(name) for name in ("one", "two", "three"))
    event_id = await scheduled_event(cluster.database_url)
    token = speaker_token(event_id)
    speech = speech_pcm(ENGLISH, "en-us", tmp_path)

    talk = await speaker(http, one.ws(f"/speak/{event_id}/1?token={token}"))
    assert await redis_client.get(keys.live_owner(event_id)) == "one"
    listeners = {
        instance.name: await joined(http, instance.ws(f"/listen/{event_id}"))
        for instance in (one, two, three)
    }
    await poll(lambda: _equals(counts(redis_client, event_id), {"en-US": "3"}))
    await poll(lambda: _stats_show_every_instance(cluster, event_id))
    # The owner encodes once; the other instances pass its Opus on as it is.
    await hear_all(asyncio.create_task(say(talk, speech)), listeners["two"], listeners["three"])

    # kill -9 of the owner: another instance takes the event within TTL + 1 s.
    killed_at = time.monotonic()
    one.process.send_signal(signal.SIGKILL)
    one.process.wait()

    async def taken_over() -> bool:
        return await redis_client.get(keys.live_owner(event_id)) in ("two", "three")

    await poll(taken_over, within=OWNER_TTL + 5)
    took = time.monotonic() - killed_at
    print(f"takeover took {took:.2f} s after kill -9 (TTL {OWNER_TTL} s)")
    assert took <= OWNER_TTL + 1.0, f"takeover took {took:.2f} s"
    new_owner = await redis_client.get(keys.live_owner(event_id))
    relay = three if new_owner == "two" else two
    # Its log says so, as JSON that names the event and the instance.
    records = [
        json.loads(line)
        for line in cluster.instances[new_owner].log.read_text().splitlines()
        if line.startswith("{")
    ]
    takeover = next(r for r in records if "taking it over" in r["message"])
    assert (takeover["event_id"], takeover["instance"], takeover["level"]) == (
        event_id,
        new_owner,
        "WARNING",
    )

    # The dead instance's listener leaves the count (its heartbeat stopped), then
    # reconnects to a live instance, as clients do.
    await poll(lambda: _equals(counts(redis_client, event_id), {"en-US": "2"}), within=15)
    await listeners["one"].closed(within=5)
    listeners["one"] = await joined(http, relay.ws(f"/listen/{event_id}"))
    await poll(lambda: _equals(counts(redis_client, event_id), {"en-US": "3"}))

    # The speaker comes back through an instance that does not own the event: its
    # audio is forwarded to the new owner, and everyone hears it again.
    talk = await speaker(http, relay.ws(f"/speak/{event_id}/1?token={token}"))
    saying = asyncio.create_task(say(talk, speech))
    await hear_all(saying, *listeners.values())
    for name in ("two", "three"):
        assert listeners[name].heard.close_code is None  # kept their sockets all along


async def _stats_show_every_instance(cluster: Cluster, event_id: int) -> bool:
    """`livevent stats --json`: a row per instance, with its role and its own listeners."""
    env = {
        **os.environ,
        "LIVEVENT_REDIS_URL": cluster.redis_url,
        "LIVEVENT_DATABASE_URL": cluster.database_url,
    }
    done = await asyncio.to_thread(
        subprocess.run,
        [LIVEVENT, "stats", str(event_id), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    (event,) = json.loads(done.stdout)
    seen = {
        name: (instance["role"], instance["channels"]["en-US"]["listeners"])
        for name, instance in event["instances"].items()
    }
    return event["channels"]["en-US"]["listeners"] == 3 and seen == {
        "one": ("owner", 1),
        "two": ("relay", 1),
        "three": ("relay", 1),
    }


async def _equals(value: object, expected: object) -> bool:
    return await value == expected  # type: ignore[misc]


async def test_a_redis_restart_loses_no_listener_and_counts_come_back(
    cluster: Cluster,
    own_redis: RedisServer,
    redis_client: redis.asyncio.Redis,
    http: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    one, two = cluster.start("one"), cluster.start("two")
    event_id = await scheduled_event(cluster.database_url)
    speech = speech_pcm(ENGLISH, "en-us", tmp_path)
    talk = await speaker(http, one.ws(f"/speak/{event_id}/1?token={speaker_token(event_id)}"))
    local = await joined(http, one.ws(f"/listen/{event_id}"))
    relayed = await joined(http, two.ws(f"/listen/{event_id}?channel=es-ES"))
    relayed_floor = await joined(http, two.ws(f"/listen/{event_id}"))
    await poll(lambda: _equals(counts(redis_client, event_id), {"en-US": "2", "es-ES": "1"}))

    own_redis.kill()
    # The owner serves its own listeners from what it has: no Redis needed.
    saying = asyncio.create_task(say(talk, speech))
    await hears(local, seconds=2.0)
    await saying

    own_redis.start()  # empty: it keeps nothing on disk
    async with redis.asyncio.Redis.from_url(own_redis.url, decode_responses=True) as fresh:
        # Every instance says what it holds: the counts are exact again.
        await poll(
            lambda: _equals(counts(fresh, event_id), {"en-US": "2", "es-ES": "1"}), within=15
        )

        async def owned_by_one() -> bool:
            return await fresh.get(keys.live_owner(event_id)) == "one"

        await poll(owned_by_one, within=10)
    saying = asyncio.create_task(say(talk, speech))
    await hears(relayed_floor, seconds=2.0)  # the relay subscribed again by itself
    await saying
    for listener in (local, relayed, relayed_floor):
        assert listener.heard.close_code is None and not listener.ws.closed


async def test_sigterm_drains_and_hands_the_event_over(
    cluster: Cluster,
    redis_client: redis.asyncio.Redis,
    http: aiohttp.ClientSession,
) -> None:
    one, two = cluster.start("one"), cluster.start("two")
    event_id = await scheduled_event(cluster.database_url)
    await speaker(http, one.ws(f"/speak/{event_id}/1?token={speaker_token(event_id)}"))
    draining = [await joined(http, one.ws(f"/listen/{event_id}")) for _ in range(3)]
    staying = await joined(http, two.ws(f"/listen/{event_id}"))

    started = time.monotonic()
    one.process.send_signal(signal.SIGTERM)
    # Clients read all the time, so the closing handshakes overlap.
    for log in await asyncio.gather(*(listener.closed(within=10) for listener in draining)):
        assert log.close_code == 1001 and "reconnect" in (log.close_reason or "")
    assert await asyncio.to_thread(one.process.wait, 10) == 0
    assert time.monotonic() - started < 10
    # It let go of the event: the other instance owns it at once, not after the TTL.
    assert await redis_client.get(keys.live_owner(event_id)) in ("two", None)

    async def owned_by_two() -> bool:
        return await redis_client.get(keys.live_owner(event_id)) == "two"

    await poll(owned_by_two, within=OWNER_TTL)
    with pytest.raises(aiohttp.ClientConnectionError):  # no new joins on a stopped instance
        await http.ws_connect(one.ws(f"/listen/{event_id}"))
    assert staying.heard.close_code is None
    await poll(lambda: _equals(counts(redis_client, event_id), {"en-US": "1"}))


async def test_a_postgres_outage_loses_no_transcript_and_the_api_says_503(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    postgres = PostgresServer()
    postgres.start()
    try:
        store = await open_store(postgres.url, migrate=True)
        await store.aclose()
        event_id = await scheduled_event(postgres.url, machine=True)
        cluster = Cluster(postgres.url, "memory://", tmp_path)
        one = cluster.start("one")
        try:
            await _outage(one, postgres, event_id, http, tmp_path)
        finally:
            cluster.stop_all()
    finally:
        postgres.remove()


async def _outage(
    one: Instance, postgres: PostgresServer, event_id: int, http: aiohttp.ClientSession, tmp: Path
) -> None:
    sentences = [
        "Good morning everyone.",
        "The weather is very nice today.",
        "Thank you all for coming.",
    ]
    pause = bytes(32000)
    talk = await speaker(http, one.ws(f"/speak/{event_id}/1?token={speaker_token(event_id)}"))
    floor = await joined(http, one.ws(f"/listen/{event_id}"))
    spanish = await joined(http, one.ws(f"/listen/{event_id}?channel=es-ES"))
    admin = {"Authorization": f"Bearer {service_token(Settings())}"}

    def finals(log: Heard) -> int:
        return sum(1 for c in log.of_type("caption") if c.get("final"))

    await say(talk, speech_pcm(sentences[0], "en-us", tmp) + pause)
    await floor.until(lambda log: finals(log) >= 1, within=60)

    postgres.stop()
    async with http.get(one.url(f"/api/events/{event_id}"), headers=admin) as response:
        assert response.status == 503
        assert response.content_type == "application/problem+json"
    spanish_before = spanish.heard.seconds
    for sentence in sentences[1:]:
        await say(talk, speech_pcm(sentence, "en-us", tmp) + pause)
    # The event goes on: captions and translated speech keep coming.
    await floor.until(lambda log: finals(log) >= 3, within=60)
    await heard(spanish, spanish_before + 1.0, within=60)

    postgres.start()

    async def all_stored() -> bool:
        async with http.get(
            one.url(f"/api/events/{event_id}/transcript"), headers=admin
        ) as response:
            if response.status != 200:
                return False
            return len((await response.json())["items"]) == 3

    await poll(all_stored, within=30)
