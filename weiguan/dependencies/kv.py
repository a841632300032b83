"""Key-value stores with TTLs, for sessions, verify codes and rate limits: Redis when
configured (shared by every server process), a dict in process on the embedded
default. Both raise Unavailable when the store cannot be reached."""
import functools
import heapq
import logging
import time
from typing import Any, Callable

import hiredis
import redis.asyncio as aioredis
from redis import exceptions as redis_errors

from ..entities.errors import Unavailable
from .redis_batching import AutoPipelinedRedis

log = logging.getLogger(__name__)


def redis_error_kind(error: Exception) -> str:
    return 'timeout' if isinstance(error, (redis_errors.TimeoutError, TimeoutError)) \
        else 'connection'


def _unavailable_on_redis_error(method: Callable) -> Callable:
    @functools.wraps(method)
    async def wrapper(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await method(self, *args, **kwargs)
        except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as error:
            log.warning('redis unavailable: %s', error)
            if self.count_error is not None:
                self.count_error(redis_error_kind(error))
            raise Unavailable() from error
    return wrapper


_INCR_WITH_TTL = ("local count = redis.call('incr', KEYS[1]) "
                  "if count == 1 then redis.call('expire', KEYS[1], ARGV[1]) end "
                  "return count")
_DECR_IF_PRESENT = ("if redis.call('exists', KEYS[1]) == 1 then "
                    "return redis.call('decr', KEYS[1]) end return 0")


class RedisStore:
    def __init__(self, client: aioredis.Redis,
                 count_error: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.time):
        self.client = client
        self.count_error = count_error  # called with the kind of each failure
        self._clock = clock  # the members' times (tests move it); key TTLs are Redis's

    @_unavailable_on_redis_error
    async def get(self, key: str) -> str | None:
        return await self.client.get(key)

    @_unavailable_on_redis_error
    async def set(self, key: str, value: str, ttl: int) -> None:
        await self.client.set(key, value, ex=ttl)

    @_unavailable_on_redis_error
    async def set_if_absent(self, key: str, value: str, ttl: int) -> bool:
        return bool(await self.client.set(key, value, ex=ttl, nx=True))

    @_unavailable_on_redis_error
    async def set_if_present(self, key: str, value: str, ttl: int) -> bool:
        """Overwrite only a key that still exists (a refresh must not bring back
        what was deleted meanwhile)."""
        return bool(await self.client.set(key, value, ex=ttl, xx=True))

    @_unavailable_on_redis_error
    async def delete(self, *keys: str) -> int:
        """Delete; return how many existed (so one of two racing deleters wins)."""
        return int(await self.client.delete(*keys)) if keys else 0

    @_unavailable_on_redis_error
    async def incr(self, key: str, ttl: int) -> int:
        """Add one; the first increment starts the key's TTL. One script, one round
        trip: a MULTI pipeline is retried whole by redis-py on a timeout, which
        doubled the wait of every login while Redis was partitioned away."""
        return int(await self.client.eval(_INCR_WITH_TTL, 1, key, ttl))

    @_unavailable_on_redis_error
    async def decr(self, key: str) -> int:
        """Take one back from a counter that still exists (one whose window ended
        stays gone: DECR alone would bring it back as -1 without a TTL)."""
        return int(await self.client.eval(_DECR_IF_PRESENT, 1, key))

    @_unavailable_on_redis_error
    async def ttl(self, key: str) -> int:
        return max(0, int(await self.client.ttl(key)))

    @_unavailable_on_redis_error
    async def add_member(self, key: str, member: str, ttl: int) -> None:
        """Add `member` to the set at `key` for `ttl` seconds; members past their time
        are dropped, and the set lives `ttl` seconds after its latest add. (A sorted
        set scored by expiry time: the wall clock of the hosts, which agree closely
        enough for pruning.)"""
        now = self._clock()
        async with self.client.pipeline(transaction=True) as pipe:
            await (pipe.zadd(key, {member: now + ttl}).zremrangebyscore(key, '-inf', now)
                   .expire(key, ttl).execute())

    @_unavailable_on_redis_error
    async def members(self, key: str) -> list[str]:
        # Scores after now only ('(' excludes the bound): a member is gone once its
        # time is up, as in MemoryStore.
        return await self.client.zrangebyscore(key, f'({self._clock()!r}', '+inf')

    @_unavailable_on_redis_error
    async def remove_members(self, key: str, *members: str) -> None:
        if members:
            await self.client.zrem(key, *members)

    @_unavailable_on_redis_error
    async def ping(self) -> None:
        await self.client.ping()

    async def close(self) -> None:
        await self.client.aclose()


class MemoryStore:
    """The same contract in one process's memory (embedded default and tests).

    Expired keys are swept as Redis does it, without a timer: every write first drops
    up to `sweep_batch` keys whose time has passed, found in a heap of expiry times
    (one entry per key; a key whose expiry moved on is put back at its new time).
    So rate-limit and code keys nobody reads again do not pile up for the life of
    the process, and no write does more than a bounded amount of extra work."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, sweep_batch: int = 100):
        self._clock = clock
        self._data: dict[str, tuple[Any, float]] = {}
        self._expiries: list[tuple[float, str]] = []  # heap of (expiry seen, key)
        self._scheduled: set[str] = set()
        self.sweep_batch = sweep_batch

    def __len__(self) -> int:
        return len(self._data)

    def _schedule(self, key: str) -> None:
        if key not in self._scheduled:
            self._scheduled.add(key)
            heapq.heappush(self._expiries, (self._data[key][1], key))

    def _sweep(self) -> None:
        now = self._clock()
        for _ in range(self.sweep_batch):
            if not self._expiries or self._expiries[0][0] > now:
                return
            _, key = heapq.heappop(self._expiries)
            self._scheduled.discard(key)
            item = self._data.get(key)
            if item is None:
                continue
            if item[1] <= now:
                del self._data[key]
            else:
                self._schedule(key)  # extended since: back in at its new time

    def _store(self, key: str, value: Any, expires: float) -> None:
        self._sweep()
        self._data[key] = (value, expires)
        self._schedule(key)

    def _live(self, key: str) -> Any:
        item = self._data.get(key)
        if item is None:
            return None
        if item[1] <= self._clock():
            del self._data[key]
            return None
        return item[0]

    async def get(self, key: str) -> str | None:
        return self._live(key)

    async def set(self, key: str, value: str, ttl: int) -> None:
        self._store(key, value, self._clock() + ttl)

    async def set_if_absent(self, key: str, value: str, ttl: int) -> bool:
        if self._live(key) is not None:
            return False
        await self.set(key, value, ttl)
        return True

    async def set_if_present(self, key: str, value: str, ttl: int) -> bool:
        if self._live(key) is None:
            return False
        await self.set(key, value, ttl)
        return True

    async def delete(self, *keys: str) -> int:
        return sum(self._live(key) is not None and self._data.pop(key) is not None
                   for key in keys)

    async def incr(self, key: str, ttl: int) -> int:
        count = int(self._live(key) or 0) + 1
        expires = self._data[key][1] if count > 1 else self._clock() + ttl
        self._store(key, str(count), expires)
        return count

    async def decr(self, key: str) -> int:
        current = self._live(key)
        if current is None:
            return 0
        self._data[key] = (str(int(current) - 1), self._data[key][1])
        return int(current) - 1

    async def ttl(self, key: str) -> int:
        if self._live(key) is None:
            return 0
        return max(0, round(self._data[key][1] - self._clock()))

    async def add_member(self, key: str, member: str, ttl: int) -> None:
        now = self._clock()
        members = {m: until for m, until in (self._live(key) or {}).items() if until > now}
        members[member] = now + ttl
        self._store(key, members, now + ttl)

    async def members(self, key: str) -> list[str]:
        now = self._clock()
        return [m for m, until in (self._live(key) or {}).items() if until > now]

    async def remove_members(self, key: str, *members: str) -> None:
        current = self._live(key) or {}
        for member in members:
            current.pop(member, None)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._data.clear()
        self._expiries.clear()
        self._scheduled.clear()


class PackedConnection(aioredis.Connection):
    """A TCP connection whose commands hiredis packs (in C; redis-py's asyncio
    connections pack in Python even with hiredis installed). A fan-out batch is a
    thousand scripts, and packing them was a fifth of the worker's CPU
    (docs/performance.md, "Home feeds")."""

    def pack_command(self, *args: Any) -> list[bytes]:
        first = args[0]
        if isinstance(first, str) and ' ' in first or isinstance(first, bytes) and b' ' in first:
            args = (*first.split(), *args[1:])  # 'SCRIPT LOAD': two words, as redis-py
        return [hiredis.pack_command(args)]


def create_redis(uri: str, socket_timeout: float | None = 5) -> aioredis.Redis:
    """The client the server's stores share: its single commands automatically
    pipelined (redis_batching.py)."""
    # other schemes (rediss://, unix://) keep their own connection classes
    packed = {'connection_class': PackedConnection} if uri.startswith('redis://') else {}
    return AutoPipelinedRedis.from_url(uri, decode_responses=True, socket_connect_timeout=2,
                                       socket_timeout=socket_timeout,
                                       health_check_interval=10, **packed)
