"""Booth partners on different instances: standby, handover both ways, mute, leaving,
and a takeover while the active interpreter is on a relay.

Two or three `livevent serve` processes on a Redis of the test's own; the owner is
the instance the first interpreter reached. Frame counts come from the owner's
stats, so a partner standing by must add none.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
import redis.asyncio

from livevent.auth import service_token
from livevent.bus import keys
from livevent.settings import Settings
from tests.support.booth import hands_over, next_of, synced
from tests.support.cluster import OWNER_TTL, Cluster, Instance, joined, scheduled_event
from tests.support.live import Heard, listen_until, poll, speaker_token
from tests.support.redis_server import RedisServer

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
WS = aiohttp.ClientWebSocketResponse
FRAMES = 5
SILENCE = bytes(640 * FRAMES)  # five 20 ms frames


async def interpreter(
    http: aiohttp.ClientSession,
    instance: Instance,
    event_id: int,
    *,
    standby: bool = False,
    who: str = "test",
) -> tuple[WS, str]:
    token = speaker_token(event_id, 2, sub=who)
    query = f"token={token}" + ("&standby=1" if standby else "")
    ws = await http.ws_connect(instance.ws(f"/speak/{event_id}/2?{query}"))
    first = await ws.receive_json(timeout=30)
    return ws, str(first["type"])


async def spanish_stats(
    http: aiohttp.ClientSession, instance: Instance, event_id: int
) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {service_token(Settings())}"}
    async with http.get(instance.url(f"/live/{event_id}/stats"), headers=headers) as response:
        body = await response.json()
    spanish: dict[str, object] = body["channels"].get("es-ES", {})
    return spanish


async def frames_in(http: aiohttp.ClientSession, owner: Instance, event_id: int) -> int:
    return int(str((await spanish_stats(http, owner, event_id)).get("frames_in", 0)))


async def frames_reach(
    http: aiohttp.ClientSession, owner: Instance, event_id: int, expected: int
) -> None:
    async def reached() -> bool:
        count = await frames_in(http, owner, event_id)
        assert count <= expected, f"{count} frames reached the channel, not {expected}"
        return count == expected

    await poll(reached, within=30)


async def test_partners_on_two_instances_stand_by_hand_over_mute_and_leave(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    one, two = cluster.start("one"), cluster.start("two")
    event_id = await scheduled_event(cluster.database_url, live=True)
    ana, kind = await interpreter(http, one, event_id, who="user:ana")  # the first: one owns it
    assert kind == "ready"
    # A second interpreter elsewhere, not standing by, is refused as on one instance.
    intruder = await http.ws_connect(
        two.ws(f"/speak/{event_id}/2?token={speaker_token(event_id, 2)}")
    )
    refused = await listen_until(intruder, Heard(), lambda log: log.close_code is not None, 30)
    assert refused.close_code == 4009 and "standby" in (refused.close_reason or "")

    ben, kind = await interpreter(http, two, event_id, standby=True, who="user:ben")
    assert kind == "standby"

    # The organizer's live view names who speaks and who stands by, asked anywhere.
    async def booth_named(instance: Instance) -> bool:
        stats = await spanish_stats(http, instance, event_id)
        return (stats.get("who"), stats.get("standby_who")) == ("user:ana", "user:ben")

    for instance in (one, two):
        await poll(lambda: booth_named(instance), within=30)  # noqa: B023
    listener = await joined(http, two.ws(f"/listen/{event_id}?channel=es-ES"))

    await ben.send_bytes(SILENCE)  # standing by: forwarded to nobody
    await synced(ben)
    await ana.send_bytes(SILENCE)
    await frames_reach(http, one, event_id, FRAMES)

    # Ana (owner's instance) hands over to Ben (a relay's).
    await hands_over(ana, ben)
    await ana.send_bytes(SILENCE)
    await synced(ana)
    await ben.send_bytes(SILENCE)
    await frames_reach(http, one, event_id, 2 * FRAMES)  # Ben's; Ana's were dropped

    # Ben mutes from the relay: the owner mutes the channel (the organizer sees it), and
    # listeners are not told that nobody interprets (a cough is no news); then back.
    async def muted(on: bool) -> bool:
        return (await spanish_stats(http, one, event_id)).get("muted") is on

    await ben.send_json({"type": "mute"})
    await poll(lambda: muted(True), within=30)
    assert listener.heard.of_type("status")[-1].get("speaker") is True
    await ben.send_json({"type": "unmute"})
    await poll(lambda: muted(False), within=30)

    # Ben hands back over the bus.
    await hands_over(ben, ana)

    # Ana leaves: Ben, standing by on the other instance, takes over by himself.
    await ana.close()
    assert (await next_of(ben, "ready"))["channel"] == 2
    await ben.send_bytes(SILENCE)
    await frames_reach(http, one, event_id, 3 * FRAMES)
    await ben.send_json({"type": "handover"})
    assert "no booth partner" in str((await next_of(ben, "error"))["message"])
    await ben.close()
    await listener.close()


async def test_a_takeover_keeps_the_relays_active_interpreter_on_air(
    cluster: Cluster, own_redis: RedisServer, http: aiohttp.ClientSession
) -> None:
    one, two, three = (cluster.start(name) for name in ("one", "two", "three"))
    event_id = await scheduled_event(cluster.database_url, live=True)
    ana, _ = await interpreter(http, one, event_id)  # one owns the event
    ben, kind = await interpreter(http, two, event_id, standby=True)
    assert kind == "standby"
    cara, kind = await interpreter(http, three, event_id, standby=True)
    assert kind == "standby"
    await ana.send_json({"type": "handover"})
    assert (await next_of(ben, "ready"))["channel"] == 2

    one.process.kill()  # the owner dies with Ana's socket; Ben (on two) is active
    one.process.wait()
    async with redis.asyncio.Redis.from_url(own_redis.url, decode_responses=True) as client:

        async def taken_over() -> bool:
            return await client.get(keys.live_owner(event_id)) in ("two", "three")

        await poll(taken_over, within=OWNER_TTL + 10)
        owner = cluster.instances[str(await client.get(keys.live_owner(event_id)))]
    # The new owner's booth holds Ben (active) and Cara (standing by) again.
    before = await frames_in(http, owner, event_id)
    await ben.send_bytes(SILENCE)
    await frames_reach(http, owner, event_id, before + FRAMES)
    await hands_over(ben, cara)
    await asyncio.gather(ben.close(), cara.close())


async def test_a_speaker_who_reaches_a_relay_while_the_owner_is_dead_goes_on_air_at_takeover(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    """The relay does not wait out ASK_TIMEOUT for an owner that will never answer: when
    it takes the event over, the speaker's claim is applied there (issue 28's failover)."""
    one, two = cluster.start("one"), cluster.start("two")
    event_id = await scheduled_event(cluster.database_url, live=True)
    ana, kind = await interpreter(http, one, event_id)
    assert kind == "ready"  # one owns the event
    one.process.kill()
    one.process.wait()
    killed = time.monotonic()
    ben, kind = await interpreter(http, two, event_id)  # asks the dead owner first
    assert kind == "ready", kind
    print(f"on air {time.monotonic() - killed:.2f} s after the owner's kill -9 (TTL {OWNER_TTL} s)")
    await asyncio.gather(ana.close(), ben.close())
