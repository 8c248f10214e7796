"""Several `livevent serve` instances on one Redis and one PostgreSQL, and the faults they ride out.

Every instance is a real process on its own port. Redis is a server of the
test's own (so it can be killed and restarted); PostgreSQL is the machine's.
Store outages are in test_runtime_store_outage.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import av
import pytest
import redis.asyncio

from livevent.bus import keys
from livevent.events.recordings import list_parts
from tests.support.cluster import (
    OWNER_TTL,
    Cluster,
    counts,
    hear_all,
    hears,
    joined,
    say,
    scheduled_event,
    speaker,
)
from tests.support.live import poll, speaker_token, speech_pcm
from tests.support.redis_server import RedisServer
from tests.support.servers import LIVEVENT

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
ENGLISH = "Good morning everyone, and welcome to our annual meeting. The weather is nice today."


@pytest.fixture
async def redis_client(own_redis: RedisServer) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(own_redis.url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


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

    # kill -9 of the owner: another instance takes the event over (in TTL + 1 s on a
    # quiet machine; benchmarks/soak.py measures it under load, this only that it happens).
    killed_at = time.monotonic()
    one.process.send_signal(signal.SIGKILL)
    one.process.wait()

    async def taken_over() -> bool:
        return await redis_client.get(keys.live_owner(event_id)) in ("two", "three")

    await poll(taken_over, within=OWNER_TTL + 30)
    print(f"takeover took {time.monotonic() - killed_at:.2f} s after kill -9 (TTL {OWNER_TTL} s)")
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

    # The floor was recorded by each owner in turn: two parts, in order, the first one
    # readable although its writer was killed; between them, the seconds of the takeover.
    first, second = list_parts(Path(os.environ["LIVEVENT_RECORDINGS_DIR"]), event_id)[:2]
    assert (first.language, first.instance, second.instance) == ("en-US", "one", new_owner)
    with av.open(str(first.path)) as recorded:
        first_seconds = float(recorded.duration or 0) / 1_000_000
    gap = (second.started_at - first.started_at).total_seconds() - first_seconds
    print(f"recorded {first_seconds:.1f} s before the kill; {gap:.1f} s lost to the takeover")
    assert first_seconds > 1.0 and 0 <= gap < OWNER_TTL + 10


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
    for log in await asyncio.gather(*(listener.closed(within=30) for listener in draining)):
        assert log.close_code == 1001 and "reconnect" in (log.close_reason or "")
    assert await asyncio.to_thread(one.process.wait, 30) == 0
    print(f"drained and exited in {time.monotonic() - started:.1f} s")
    # It let go of the event: the other instance owns it at once, not after the TTL.
    assert await redis_client.get(keys.live_owner(event_id)) in ("two", None)

    async def owned_by_two() -> bool:
        return await redis_client.get(keys.live_owner(event_id)) == "two"

    await poll(owned_by_two, within=OWNER_TTL)
    with pytest.raises(aiohttp.ClientConnectionError):  # no new joins on a stopped instance
        await http.ws_connect(one.ws(f"/listen/{event_id}"))
    assert staying.heard.close_code is None
    await poll(lambda: _equals(counts(redis_client, event_id), {"en-US": "1"}))
