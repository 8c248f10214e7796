"""A Redis outage silences nobody (issue 36): a relay hears its event's owner over a
direct line, and its speakers reach the owner over it, while the bus is down.

Real `livevent serve` processes on a Redis of the test's own, which the test kills.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time

import aiohttp
import pytest

from livevent.auth import Role, TokenIssuer, service_token
from livevent.auth.signing import line_token
from livevent.client import ListenerClient
from livevent.settings import Settings
from tests.support.cluster import Cluster, Instance, scheduled_event
from tests.support.live import poll, speaker_token
from tests.support.redis_server import RedisServer

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
FRAMES = bytes(640 * 5)  # 100 ms of 16 kHz speech frames (silence is audio too)
OUTAGE_SECONDS = 5.0
# Audio comes every 100 ms; over the bus a relay heard nothing for the whole outage.
LONGEST_GAP_ALLOWED = 2.5


class Arrivals:
    """When each audio message reached a listener."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def longest_gap(self, start: float, end: float) -> float:
        inside = [t for t in self.times if start <= t <= end]
        edges = [start, *inside, end]
        return max(b - a for a, b in itertools.pairwise(edges))


async def listener(
    http: aiohttp.ClientSession, instance: Instance, event_id: int, channel: str
) -> tuple[ListenerClient, Arrivals]:
    arrivals = Arrivals()
    ws = await http.ws_connect(instance.ws(f"/listen/{event_id}?channel={channel}"))
    client = ListenerClient(
        ws,
        decode=False,
        keep_audio=False,
        on_audio=lambda _: arrivals.times.append(time.monotonic()),
    ).start()
    await client.until(lambda heard: bool(heard.of_type("status")), 30)
    return client, arrivals


async def talk(ws: aiohttp.ClientWebSocketResponse) -> None:
    """A microphone: 100 ms of audio every 100 ms until cancelled."""
    greeting = await ws.receive_json()
    assert greeting["type"] == "ready", greeting
    while True:
        await ws.send_bytes(FRAMES)
        await asyncio.sleep(0.1)  # a microphone's pace, not a synchronisation


async def test_a_redis_outage_silences_neither_a_relays_listeners_nor_its_speakers(
    cluster: Cluster, own_redis: RedisServer, http: aiohttp.ClientSession
) -> None:
    owner, relay = cluster.start("a"), cluster.start("b")
    event_id = await scheduled_event(cluster.database_url, live=True)
    # The first to join makes its instance the owner: a.
    spanish_on_owner, spanish_heard = await listener(http, owner, event_id, "es-ES")
    floor_on_relay, floor_heard = await listener(http, relay, event_id, "en-US")
    await poll(
        lambda: _logged(relay, "a line to its owner a"), within=30
    )  # the relay dialled the owner
    floor = await http.ws_connect(owner.ws(f"/speak/{event_id}/1?token={speaker_token(event_id)}"))
    interpreter = await http.ws_connect(
        relay.ws(f"/speak/{event_id}/2?token={speaker_token(event_id, 2, sub='user:ana')}")
    )
    talking = [asyncio.create_task(talk(ws)) for ws in (floor, interpreter)]
    try:
        await poll(lambda: _heard_lately(floor_heard, spanish_heard), within=30)
        own_redis.kill()
        down = time.monotonic()
        await asyncio.sleep(OUTAGE_SECONDS)  # the outage itself, what is measured is during it
        up = time.monotonic()
        own_redis.start()
        for task in talking:
            assert not task.done(), task  # neither speaker was thrown out
        floor_gap = floor_heard.longest_gap(down, up)
        spanish_gap = spanish_heard.longest_gap(down, up)
        assert floor_gap < LONGEST_GAP_ALLOWED, f"the relay's listener heard nothing {floor_gap} s"
        assert spanish_gap < LONGEST_GAP_ALLOWED, f"the relay's interpreter unheard {spanish_gap} s"
        for client in (floor_on_relay, spanish_on_owner):
            assert client.heard.close_code is None
    finally:
        for task in talking:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, AssertionError):
                await task
        for client in (floor_on_relay, spanish_on_owner):
            await client.close()


async def test_only_the_deployments_own_instances_open_a_line(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    owner, relay = cluster.start("a"), cluster.start("b")
    event_id = await scheduled_event(cluster.database_url, live=True)
    spanish, _ = await listener(http, owner, event_id, "es-ES")  # a owns the event
    settings = Settings()
    forged = TokenIssuer("another deployment's secret " * 2).issue(
        sub="livevent-service", role=Role.ADMIN, ttl=300, events="*"
    )
    refusals = {
        None: 401,
        f"Bearer {forged}": 401,
        # A token that opens everything else does not open a line...
        f"Bearer {service_token(settings)}": 401,
        # ...and a line token opens its own event's line only.
        f"Bearer {line_token(settings, event_id + 1)}": 403,
    }
    for header, status in refusals.items():
        headers = {} if header is None else {"Authorization": header}
        async with http.get(owner.url(f"/live/{event_id}/line"), headers=headers) as answer:
            assert answer.status == status, await answer.text()
            assert answer.content_type == "application/problem+json"
    service = {"Authorization": f"Bearer {line_token(settings, event_id)}"}
    # Nor does a line token open anything but a line (it is sent to an address from Redis).
    for path in ("/live/workers", f"/api/events/{event_id}", f"/live/{event_id}/stats"):
        async with http.get(owner.url(path), headers=service) as answer:
            assert answer.status == 401, (path, await answer.text())
    for path, status in (
        (relay.url(f"/live/{event_id}/line"), 409),  # b relays: it owns nothing to give
        (owner.url("/live/0123/line"), 404),
    ):
        async with http.get(path, headers=service) as answer:
            assert answer.status == status, await answer.text()
    line = await http.ws_connect(owner.ws(f"/live/{event_id}/line"), headers=service)
    assert not line.closed
    await line.close()
    await spanish.close()


async def _logged(instance: Instance, text: str) -> bool:
    return text in instance.log.read_text()


async def _heard_lately(*listeners: Arrivals) -> bool:
    now = time.monotonic()
    return all(a.times and now - a.times[-1] < 0.5 for a in listeners)
