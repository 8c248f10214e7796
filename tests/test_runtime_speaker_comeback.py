"""A speaker comes back (issue 36): an instance that dies does not lock its speakers out
of their own channel, a reload takes the place back, and a Redis restart is nobody's death.

Real `livevent serve` processes on a Redis of the test's own; instances are killed with
SIGKILL mid-event. The owner is the instance the first speaker (or listener) reached.
"""

from __future__ import annotations

import asyncio
import signal
import time

import aiohttp
import pytest

from tests.support.booth import next_of
from tests.support.cluster import OWNER_TTL, Cluster, Instance, joined, scheduled_event
from tests.support.live import Heard, listen_until, speaker_token
from tests.support.redis_server import RedisServer

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
WS = aiohttp.ClientWebSocketResponse
SILENCE = bytes(640 * 5)


async def connect(
    http: aiohttp.ClientSession, instance: Instance, event_id: int, channel: int, token: str,
    *, standby: bool = False,
) -> tuple[WS, dict[str, object]]:  # fmt: skip
    query = f"token={token}" + ("&standby=1" if standby else "")
    ws = await http.ws_connect(instance.ws(f"/speak/{event_id}/{channel}?{query}"))
    log = await listen_until(
        ws, Heard(), lambda log: bool(log.raw) or log.close_code is not None, 30
    )
    first = log.raw[0] if log.raw else {"type": "closed", "code": log.close_code}
    return ws, first


async def comes_back(
    http: aiohttp.ClientSession, instance: Instance, event_id: int, channel: int, token: str,
    within: float,
) -> float:  # fmt: skip
    """Reconnect as the speaker page does (every 0.5 s) until greeted `ready`; how long."""
    start = time.monotonic()
    while True:
        ws, first = await connect(http, instance, event_id, channel, token)
        if first.get("type") == "ready":
            await ws.close()
            return time.monotonic() - start
        await ws.close()
        assert time.monotonic() - start < within, f"still refused after {within} s: {first}"
        await asyncio.sleep(0.5)


def kill(instance: Instance) -> None:
    instance.process.send_signal(signal.SIGKILL)
    instance.process.wait(timeout=10)


async def test_the_floor_speaker_of_a_dead_relay_is_back_on_air_within_seconds(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    owner, relay = cluster.start("a"), cluster.start("b")
    event_id = await scheduled_event(cluster.database_url, live=True)
    listener = await joined(http, owner.ws(f"/listen/{event_id}"))  # a owns the event
    token = speaker_token(event_id)
    floor, first = await connect(http, relay, event_id, 1, token)
    assert first["type"] == "ready", first
    await floor.send_bytes(SILENCE)
    kill(relay)
    took = await comes_back(http, owner, event_id, 1, token, within=OWNER_TTL + 2)
    assert took <= OWNER_TTL + 2
    await listener.close()


async def test_the_booth_partner_takes_over_when_the_active_interpreters_instance_dies(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    owner, relay = cluster.start("a"), cluster.start("b")
    event_id = await scheduled_event(cluster.database_url, live=True)
    listener = await joined(http, owner.ws(f"/listen/{event_id}?channel=es-ES"))
    ana_token = speaker_token(event_id, 2, sub="user:ana")
    _ana, first = await connect(http, relay, event_id, 2, ana_token)
    assert first["type"] == "ready", first
    ben, first = await connect(
        http, owner, event_id, 2, speaker_token(event_id, 2, sub="user:ben"), standby=True
    )
    assert first["type"] == "standby", first
    died = time.monotonic()
    kill(relay)
    await next_of(ben, "ready")  # the partner is told it is on air
    assert time.monotonic() - died < 15, "the partner waited for the dead instance too long"
    # Ana, back through the owner with her token, joins her partner's booth again.
    ana_again, first = await connect(http, owner, event_id, 2, ana_token, standby=True)
    assert first["type"] == "standby", first
    for ws in (ben, ana_again):
        await ws.close()
    await listener.close()


async def test_a_page_reload_takes_the_speakers_place_back(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    one = cluster.start("a")
    event_id = await scheduled_event(cluster.database_url, live=True)
    token = speaker_token(event_id)
    old, first = await connect(http, one, event_id, 1, token)
    assert first["type"] == "ready", first
    new, first = await connect(http, one, event_id, 1, token)
    assert first["type"] == "ready", first  # the same person, a new connection
    closed = await listen_until(old, Heard(), lambda log: log.close_code is not None, 30)
    assert closed.close_code == 4012, closed.close_reason
    # A colleague with a token of their own is still refused: the place is taken.
    colleague, refused = await connect(http, one, event_id, 1, speaker_token(event_id))
    assert refused == {"type": "closed", "code": 4009}, refused
    for ws in (new, colleague):
        await ws.close()


async def test_a_redis_restart_declares_no_instance_gone(
    cluster: Cluster, own_redis: RedisServer, http: aiohttp.ClientSession
) -> None:
    instances = [cluster.start(name) for name in ("a", "b", "c")]
    event_id = await scheduled_event(cluster.database_url, live=True)
    listeners = [await joined(http, i.ws(f"/listen/{event_id}")) for i in instances]
    own_redis.kill()
    await asyncio.sleep(3)  # the outage itself: what is measured is what follows it
    own_redis.start()
    # Redis comes back empty: no heartbeat at all, until each instance writes its own.
    # Long enough for any instance to have declared another gone without the guard
    # (it would within a round or two of the restart; the guard waits 6 s and two).
    deadline = time.monotonic() + 12
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        gone = [i.name for i in instances if "is gone" in i.log.read_text()]
        assert gone == [], f"declared gone after a Redis restart: {gone}"
    for listener in listeners:
        assert listener.heard.close_code is None
        await listener.close()


async def test_the_floor_speaker_of_a_dead_owner_takes_the_place_kept_for_them_at_once(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    owner, relay = cluster.start("a"), cluster.start("b")
    event_id = await scheduled_event(cluster.database_url, live=True)
    token = speaker_token(event_id)
    listeners = [await joined(http, i.ws(f"/listen/{event_id}")) for i in (owner, relay)]
    floor, first = await connect(http, owner, event_id, 1, token)  # a owns the event
    assert first["type"] == "ready", first
    await floor.send_bytes(SILENCE)
    # The relay has heard who is on air (the owner's listeners are told after the booth).
    await listeners[1].until(lambda heard: any(s.get("speaker") for s in heard.of_type("status")))
    kill(owner)
    deadline = time.monotonic() + 30
    while "taking it over" not in relay.log.read_text():
        assert time.monotonic() < deadline, "the relay never took the event over"
        await asyncio.sleep(0.1)
    # The new owner keeps the place on air for the speaker it had: the same token
    # takes it at once (it was refused until the place was given up, 2 s later).
    again, first = await connect(http, relay, event_id, 1, token)
    assert first["type"] == "ready", first
    await again.close()
    await listeners[1].close()
