"""Key-value stores with TTLs, for sessions, verify codes and rate limits: Redis when
configured (shared by every server process), a dict in process on the embedded
default. Both raise Unavailable when the store cannot be reached."""
import functools
import logging
import time
from typing import Any, Callable

import redis.asyncio as aioredis
from redis import exceptions as redis_errors

from ..entities.errors import Unavailable

log = logging.getLogger(__name__)


def _unavailable_on_redis_error(method: Callable) -> Callable:
    @functools.wraps(method)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await method(*args, **kwargs)
        except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as error:
            log.warning('redis unavailable: %s', error)
            raise Unavailable() from error
    return wrapper


class RedisStore:
    def __init__(self, client: aioredis.Redis):
        self.client = client

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
    async def delete(self, *keys: str) -> int:
        """Delete; return how many existed (so one of two racing deleters wins)."""
        return int(await self.client.delete(*keys)) if keys else 0

    @_unavailable_on_redis_error
    async def incr(self, key: str, ttl: int) -> int:
        """Add one; the first increment starts the key's TTL."""
        async with self.client.pipeline(transaction=True) as pipe:
            count, _ = await pipe.incr(key).expire(key, ttl, nx=True).execute()
        return int(count)

    @_unavailable_on_redis_error
    async def ttl(self, key: str) -> int:
        return max(0, int(await self.client.ttl(key)))

    @_unavailable_on_redis_error
    async def ping(self) -> None:
        await self.client.ping()

    async def close(self) -> None:
        await self.client.aclose()


class MemoryStore:
    """The same contract in one process's memory (embedded default and tests)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._data: dict[str, tuple[Any, float]] = {}

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
        self._data[key] = (value, self._clock() + ttl)

    async def set_if_absent(self, key: str, value: str, ttl: int) -> bool:
        if self._live(key) is not None:
            return False
        await self.set(key, value, ttl)
        return True

    async def delete(self, *keys: str) -> int:
        return sum(self._live(key) is not None and self._data.pop(key) is not None
                   for key in keys)

    async def incr(self, key: str, ttl: int) -> int:
        count = int(self._live(key) or 0) + 1
        expires = self._data[key][1] if count > 1 else self._clock() + ttl
        self._data[key] = (str(count), expires)
        return count

    async def ttl(self, key: str) -> int:
        if self._live(key) is None:
            return 0
        return max(0, round(self._data[key][1] - self._clock()))

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._data.clear()


def create_redis(uri: str, socket_timeout: float | None = 5) -> aioredis.Redis:
    return aioredis.from_url(uri, decode_responses=True, socket_connect_timeout=2,
                             socket_timeout=socket_timeout, health_check_interval=10)
