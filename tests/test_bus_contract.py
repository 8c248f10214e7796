"""One contract, both buses: memory:// and the real Redis on 127.0.0.1:6379."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio

from livevent.bus import Bus, MemoryBus
from livevent.bus.redis import RedisBus
from livevent.errors import Unavailable
from tests.support.redis_server import RedisServer

REDIS_URL = os.environ.get("LIVEVENT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    if request.param == "memory":
        yield MemoryBus()
        return
    prefix = f"lvtest:{secrets.token_hex(4)}:"
    opened = RedisBus(REDIS_URL, prefix=prefix)
    try:
        await opened.ping()
    except Unavailable as error:
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {error}; `make test` starts it")
    try:
        yield opened
    finally:
        cleaner = redis.asyncio.Redis.from_url(REDIS_URL)
        keys = [key async for key in cleaner.scan_iter(match=f"{prefix}*")]
        if keys:
            await cleaner.delete(*keys)
        await cleaner.aclose()
        await opened.aclose()


async def test_pubsub_in_order(bus: Bus) -> None:
    async with await bus.subscribe("events", "other") as subscription:
        assert await bus.publish("events", "event:1:UPDATED") == 1
        await bus.publish("nobody-listens", "x")
        await bus.publish("other", "event:1:CANCELLED")
        async with asyncio.timeout(5):
            first, second = await subscription.get(), await subscription.get()
    assert (first.channel, first.data) == ("events", "event:1:UPDATED")
    assert (second.channel, second.data) == ("other", "event:1:CANCELLED")


async def test_cache_with_ttl(bus: Bus) -> None:
    assert await bus.get("event:1:config") is None
    await bus.put("event:1:config", '{"id": 1}', ttl=0.2)
    assert await bus.get("event:1:config") == '{"id": 1}'
    remaining = await bus.ttl("event:1:config")
    assert remaining is not None and 0 < remaining <= 0.2
    deadline = time.monotonic() + 5
    while await bus.get("event:1:config") is not None:
        assert time.monotonic() < deadline, "the key never expired"
        await asyncio.sleep(0.05)
    await bus.put("forever", "x")
    assert await bus.ttl("forever") is None
    await bus.delete("forever", "never-was")
    assert await bus.get("forever") is None


async def test_hash_counts_never_go_negative(bus: Bus) -> None:
    key, share = "live:event:1:listeners", "live:event:1:listeners:a"
    for language, amount in (("es-ES", 1), ("es-ES", 1), ("en-US", 1), ("en-US", -1)):
        assert await bus.hincr_shared(key, share, language, amount)
    assert await bus.hincr_shared(key, share, "en-US", -1)  # one leave too many
    assert await bus.hgetall(key) == {"es-ES": "2", "en-US": "0"}
    assert await bus.hgetall(share) == {"es-ES": "2", "en-US": "0"}
    await bus.hset(key, {"fr-FR": 5})
    await bus.hdel(key, "en-US")
    assert await bus.hgetall(key) == {"es-ES": "2", "fr-FR": "5"}
    assert await bus.hgetall("missing") == {}


async def test_sets(bus: Bus) -> None:
    key = "live:event:1:channels"
    assert await bus.sadd(key, "ca-ES", "en-US") == 2
    assert await bus.sadd(key, "en-US") == 0
    assert await bus.smembers(key) == {"ca-ES", "en-US"}
    assert await bus.srem(key, "en-US", "xx") == 1
    assert await bus.smembers(key) == {"ca-ES"}
    assert await bus.smembers("missing") == set()


async def test_windowed_counter_expires_as_a_whole(bus: Bus) -> None:
    key = "rate:ip:127.0.0.1"
    counts = [await bus.incr_window(key, 0.3) for _ in range(5)]
    assert counts == [1, 2, 3, 4, 5]
    remaining = await bus.ttl(key)
    assert remaining is not None and remaining <= 0.3
    deadline = time.monotonic() + 5
    while await bus.incr_window(key, 0.3) != 1:
        assert time.monotonic() < deadline, "the window never reset"
        await asyncio.sleep(0.05)


async def test_concurrent_increments_are_exact(bus: Bus) -> None:
    await asyncio.gather(*(bus.hincr_shared("h", "h:a", "n", 1) for _ in range(200)))
    assert (await bus.hgetall("h"))["n"] == "200"


@pytest.mark.redis
async def test_subscription_survives_a_redis_restart(own_redis: RedisServer) -> None:
    bus = RedisBus(own_redis.url)
    subscription = await bus.subscribe("events")
    try:
        await bus.publish("events", "before")
        async with asyncio.timeout(5):
            assert (await subscription.get()).data == "before"

        own_redis.kill()
        with pytest.raises(Unavailable):
            await bus.publish("events", "while down")
        own_redis.start()
        # Publish until the resubscribed reader hears it: it reconnects by itself.
        async with asyncio.timeout(15):
            while True:
                try:
                    if await bus.publish("events", "after") > 0:
                        break
                except Unavailable:
                    pass
                await asyncio.sleep(0.1)
            assert (await subscription.get()).data == "after"
    finally:
        await subscription.aclose()
        await bus.aclose()


async def test_a_hundred_joins_against_a_cap_of_fifty_admit_fifty(bus: Bus) -> None:
    # Joins through two instances, each with its share, against one cap on the total.
    key, shares = "live:event:1:listeners", ("live:event:1:listeners:a", "live:event:1:listeners:b")
    admitted = await asyncio.gather(
        *(
            bus.hincr_shared(key, shares[i % 2], ("en-US", "es-ES")[i % 3 % 2], 1, limit=50)
            for i in range(100)
        )
    )
    assert admitted.count(True) == 50
    assert sum(int(v) for v in (await bus.hgetall(key)).values()) == 50
    in_shares = [await bus.hgetall(share) for share in shares]
    assert sum(int(v) for counts in in_shares for v in counts.values()) == 50
    assert await bus.hincr_shared(key, shares[0], "en-US", -1)  # someone leaves...
    assert await bus.hincr_shared(key, shares[1], "es-ES", 1, limit=50)  # ...one more joins
    assert not await bus.hincr_shared(key, shares[1], "es-ES", 1, limit=50)


async def test_binary_pubsub_passes_bytes_as_they_are(bus: Bus) -> None:
    payload = bytes(range(256)) * 4  # not UTF-8: audio as the owner encoded it
    subscription = await bus.subscribe_bytes("live:event:1:channel:es-ES:out")
    try:
        assert await bus.publish_bytes("live:event:1:channel:es-ES:out", payload) == 1
        async with asyncio.timeout(5):
            message = await subscription.get()
        assert (message.channel, message.data) == ("live:event:1:channel:es-ES:out", payload)
    finally:
        await subscription.aclose()


async def test_one_owner_at_a_time(bus: Bus) -> None:
    key = "live:event:1:owner"
    results = await asyncio.gather(*(bus.acquire(key, f"i{n}", 0.3) for n in range(10)))
    assert results.count(True) == 1
    owner = f"i{results.index(True)}"
    assert await bus.get(key) == owner
    assert await bus.renew(key, "someone-else", 0.3) is False
    assert await bus.release(key, "someone-else") is False
    assert await bus.renew(key, owner, 0.3) is True
    deadline = time.monotonic() + 5
    while await bus.get(key) is not None:  # not renewed: it lapses by itself
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    assert await bus.renew(key, owner, 0.3) is False  # lost: the owner must take it again
    assert await bus.acquire(key, "i-next", 5) is True
    assert await bus.release(key, "i-next") is True
    assert await bus.get(key) is None


async def test_shared_counters_add_up_and_heal(bus: Bus) -> None:
    total, a, b = "live:event:1:listeners", "live:event:1:listeners:a", "live:event:1:listeners:b"
    assert await bus.hincr_shared(total, a, "en-US", 1, limit=3)
    assert await bus.hincr_shared(total, b, "en-US", 1, limit=3)
    assert await bus.hincr_shared(total, b, "es-ES", 1, limit=3)
    assert not await bus.hincr_shared(total, a, "es-ES", 1, limit=3)  # the cap counts both
    assert await bus.hgetall(total) == {"en-US": "2", "es-ES": "1"}
    # Instance b dies: its share (a zero field too) leaves the total.
    await bus.reconcile_share(total, b, {"en-US": 1, "es-ES": 1, "ca-ES": 0})
    await bus.retire_share(total, b)
    assert await bus.hgetall(total) == {"en-US": "1", "es-ES": "0", "ca-ES": "0"}
    assert await bus.hgetall(b) == {}
    # Everything is wiped (a Redis restart); instance a says what it holds.
    await bus.delete(total, a)
    await bus.reconcile_share(total, a, {"en-US": 4, "es-ES": 2})
    await bus.reconcile_share(total, a, {"en-US": 3})  # es-ES listeners left
    assert await bus.hgetall(total) == {"en-US": "3", "es-ES": "0"}
    assert await bus.hincr_shared(total, a, "en-US", -5)
    assert await bus.hgetall(a) == {"en-US": "0", "es-ES": "0"}
