"""The Redis bus (redis-py asyncio with hiredis): shared by every process of a deployment.

Connection errors are retried with backoff by redis-py; what still fails
becomes `Unavailable`. Subscriptions survive a Redis restart: their reader
reconnects and subscribes again by itself (messages published meanwhile are
lost, as pub/sub is at-most-once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

from redis import exceptions as redis_errors
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import PubSub as RedisPubSub
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff

from livevent.aio import raise_if_cancelled
from livevent.bus.base import BinaryMessage, Message
from livevent.errors import Unavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

_CONNECTION_ERRORS = (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError)

# INCR and its expiry in one atomic step.
_INCR_WINDOW = """
local value = redis.call('INCR', KEYS[1])
if value == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return value
"""


# The owner lock: extend or delete it only while it still names us.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# A total hash (KEYS[1]) and this instance's share of it (KEYS[2]) move together.
_HINCR_SHARED = """
local amount = tonumber(ARGV[2])
if ARGV[3] ~= '' and amount > 0 then
  local total = 0
  for _, value in ipairs(redis.call('HVALS', KEYS[1])) do
    total = total + tonumber(value)
  end
  if total >= tonumber(ARGV[3]) then
    return 0
  end
end
for _, key in ipairs(KEYS) do
  local value = redis.call('HINCRBY', key, ARGV[1], amount)
  if value < 0 then
    redis.call('HSET', key, ARGV[1], 0)
  end
end
return 1
"""

# Set the share to the given counts (ARGV: field, count, field, count...) and move
# the total by the difference; fields of the share not given go to zero.
_RECONCILE = """
local wanted = {}
for i = 1, #ARGV, 2 do
  wanted[ARGV[i]] = tonumber(ARGV[i + 1])
end
local own = redis.call('HGETALL', KEYS[2])
for i = 1, #own, 2 do
  if wanted[own[i]] == nil then
    wanted[own[i]] = 0
  end
end
for field, count in pairs(wanted) do
  local previous = redis.call('HGET', KEYS[2], field)
  if previous == false or tonumber(previous) ~= count then
    local value = redis.call('HINCRBY', KEYS[1], field, count - tonumber(previous or '0'))
    if value < 0 then
      redis.call('HSET', KEYS[1], field, 0)
    end
    redis.call('HSET', KEYS[2], field, count)
  end
end
return 1
"""

_RETIRE = """
local own = redis.call('HGETALL', KEYS[2])
for i = 1, #own, 2 do
  local amount = tonumber(own[i + 1])
  if amount ~= 0 then
    -- 0 - x, not -x: Lua's -0 becomes "-0", which HINCRBY refuses.
    local value = redis.call('HINCRBY', KEYS[1], own[i], 0 - amount)
    if value < 0 then
      redis.call('HSET', KEYS[1], own[i], 0)
    end
  end
end
redis.call('DEL', KEYS[2])
return 1
"""


class RedisSubscription:
    def __init__(
        self,
        pubsub: RedisPubSub,
        prefix: str,
        channels: tuple[str, ...],
        *,
        binary: bool = False,
    ) -> None:
        self._pubsub = pubsub
        self._prefix = prefix
        self.channels = channels
        self._binary = binary
        self._queue: asyncio.Queue[Any] = asyncio.Queue(10_000)
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._pubsub.subscribe(*(self._prefix + c for c in self.channels))
        self._reader = asyncio.create_task(self._read(), name=f"redis-sub:{self.channels}")

    async def _read(self) -> None:
        delay = 0.1
        while True:
            raise_if_cancelled()
            try:
                raw = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except _CONNECTION_ERRORS as error:
                log.warning("Redis subscription lost (%s); reconnecting in %.1f s", error, delay)
                await asyncio.sleep(delay)  # backoff between reconnect attempts
                delay = min(delay * 2, 5.0)
                with contextlib.suppress(*_CONNECTION_ERRORS):
                    await self._pubsub.connect()  # type: ignore[no-untyped-call]
                continue
            delay = 0.1
            if raw is None or raw.get("type") != "message":
                continue
            channel, data = raw["channel"], raw["data"]
            if isinstance(channel, bytes):
                channel = channel.decode()
            name = channel.removeprefix(self._prefix) if isinstance(channel, str) else None
            message: Message | BinaryMessage
            if name is not None and self._binary and isinstance(data, bytes):
                message = BinaryMessage(name, data)
            elif name is not None and not self._binary and isinstance(data, str):
                message = Message(name, data)
            else:
                log.warning("ignoring a malformed pub/sub message on %r", channel)
                continue
            try:
                self._queue.put_nowait(message)
            except asyncio.QueueFull:
                log.warning("subscriber queue full; dropping a message on %s", channel)

    async def get(self) -> Any:
        return await self._queue.get()

    async def __aiter__(self) -> AsyncIterator[Any]:
        while True:
            yield await self._queue.get()

    async def aclose(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        with contextlib.suppress(*_CONNECTION_ERRORS):
            await self._pubsub.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class RedisBus:
    def __init__(
        self,
        url: str,
        *,
        prefix: str = "",
        client: Redis | None = None,
        max_connections: int = 32,
    ) -> None:
        self.url = url
        self.prefix = prefix
        if client is None:
            # Blocking: a burst of commands waits for a connection instead of failing.
            pool = BlockingConnectionPool.from_url(
                url,
                max_connections=max_connections,
                timeout=5,
                decode_responses=True,
                health_check_interval=15,
                socket_keepalive=True,
                socket_connect_timeout=2,
                retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=1.0), retries=3),
                retry_on_error=[redis_errors.ConnectionError, redis_errors.TimeoutError],
            )
            client = Redis(connection_pool=pool)
        self._redis = client
        # Audio goes between instances as bytes: a second client that does not decode.
        self._binary = Redis(
            connection_pool=BlockingConnectionPool.from_url(
                url,
                max_connections=8,
                timeout=5,
                health_check_interval=15,
                socket_keepalive=True,
                socket_connect_timeout=2,
            )
        )
        self._incr_window = self._redis.register_script(_INCR_WINDOW)
        self._renew = self._redis.register_script(_RENEW)
        self._release = self._redis.register_script(_RELEASE)
        self._hincr_shared = self._redis.register_script(_HINCR_SHARED)
        self._reconcile = self._redis.register_script(_RECONCILE)
        self._retire = self._redis.register_script(_RETIRE)

    def _key(self, key: str) -> str:
        return self.prefix + key

    async def _call(self, operation: Callable[[], Awaitable[T]]) -> T:
        try:
            return await operation()
        except _CONNECTION_ERRORS as error:
            raise Unavailable(f"Redis at {self.url} is unavailable: {error}") from error

    async def ping(self) -> None:
        await self._call(self._redis.ping)

    async def aclose(self) -> None:
        await self._redis.aclose(close_connection_pool=True)
        await self._binary.aclose(close_connection_pool=True)

    # -- pub/sub ----------------------------------------------------------------

    async def publish(self, channel: str, data: str) -> int:
        return int(await self._call(lambda: self._redis.publish(self._key(channel), data)))

    async def subscribe(self, *channels: str) -> RedisSubscription:
        subscription = RedisSubscription(self._redis.pubsub(), self.prefix, channels)
        await self._call(subscription.start)
        return subscription

    async def publish_bytes(self, channel: str, data: bytes) -> int:
        return int(await self._call(lambda: self._binary.publish(self._key(channel), data)))

    async def subscribe_bytes(self, *channels: str) -> RedisSubscription:
        subscription = RedisSubscription(self._binary.pubsub(), self.prefix, channels, binary=True)
        await self._call(subscription.start)
        return subscription

    # -- keys -------------------------------------------------------------------

    async def get(self, key: str) -> str | None:
        value: Any = await self._call(lambda: self._redis.get(self._key(key)))
        return value if isinstance(value, str) else None

    async def put(self, key: str, value: str, *, ttl: float | None = None) -> None:
        px = None if ttl is None else max(1, int(ttl * 1000))
        await self._call(lambda: self._redis.set(self._key(key), value, px=px))

    async def delete(self, *keys: str) -> None:
        if keys:
            await self._call(lambda: self._redis.delete(*(self._key(k) for k in keys)))

    async def ttl(self, key: str) -> float | None:
        millis = int(await self._call(lambda: self._redis.pttl(self._key(key))))
        return None if millis < 0 else millis / 1000

    async def hset(self, key: str, mapping: Mapping[str, str | int | float]) -> None:
        if mapping:
            await self._call(lambda: self._redis.hset(self._key(key), mapping=dict(mapping)))  # type: ignore[arg-type]

    async def hdel(self, key: str, *fields: str) -> None:
        if fields:
            await self._call(lambda: self._redis.hdel(self._key(key), *fields))

    async def hgetall(self, key: str) -> dict[str, str]:
        value: Any = await self._call(lambda: self._redis.hgetall(self._key(key)))
        return dict(value)

    async def sadd(self, key: str, *members: str) -> int:
        if not members:
            return 0
        return int(await self._call(lambda: self._redis.sadd(self._key(key), *members)))

    async def srem(self, key: str, *members: str) -> int:
        if not members:
            return 0
        return int(await self._call(lambda: self._redis.srem(self._key(key), *members)))

    async def smembers(self, key: str) -> set[str]:
        value: Any = await self._call(lambda: self._redis.smembers(self._key(key)))
        return set(value)

    async def incr_window(self, key: str, window: float) -> int:
        millis = max(1, int(window * 1000))
        return int(
            await self._call(lambda: self._incr_window(keys=[self._key(key)], args=[millis]))
        )

    # -- ownership --------------------------------------------------------------

    async def acquire(self, key: str, owner: str, ttl: float) -> bool:
        millis = max(1, int(ttl * 1000))
        done = await self._call(lambda: self._redis.set(self._key(key), owner, px=millis, nx=True))
        return bool(done)

    async def renew(self, key: str, owner: str, ttl: float) -> bool:
        millis = max(1, int(ttl * 1000))
        done = await self._call(lambda: self._renew(keys=[self._key(key)], args=[owner, millis]))
        return bool(int(done))

    async def release(self, key: str, owner: str) -> bool:
        done = await self._call(lambda: self._release(keys=[self._key(key)], args=[owner]))
        return bool(int(done))

    # -- shared counters --------------------------------------------------------

    async def hincr_shared(
        self, key: str, share: str, field: str, amount: int, *, limit: int | None = None
    ) -> bool:
        done = await self._call(
            lambda: self._hincr_shared(
                keys=[self._key(key), self._key(share)],
                args=[field, amount, "" if limit is None else limit],
            )
        )
        return bool(int(done))

    async def reconcile_share(self, key: str, share: str, counts: Mapping[str, int]) -> None:
        args: list[str | int] = []
        for field, count in counts.items():
            args += [field, int(count)]
        await self._call(
            lambda: self._reconcile(keys=[self._key(key), self._key(share)], args=args)
        )

    async def retire_share(self, key: str, share: str) -> None:
        await self._call(lambda: self._retire(keys=[self._key(key), self._key(share)], args=[]))
