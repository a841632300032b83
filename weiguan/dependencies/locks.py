"""Job locks: only one scheduler runs a job at a time, however many replicas run.
On Redis this is redis-py's Lock (SET NX with a TTL, released only by its owner);
on the embedded default there is one process, so no lock is needed."""
from contextlib import asynccontextmanager
from typing import AsyncIterator

import redis.asyncio as aioredis


class RedisJobLocks:
    def __init__(self, client: aioredis.Redis, prefix: str = 'weiguan:lock:'):
        self.client = client
        self.prefix = prefix

    @asynccontextmanager
    async def hold(self, name: str, ttl: float) -> AsyncIterator[bool]:
        """Yields True when this process got the lock, False when another holds it."""
        lock = self.client.lock(self.prefix + name, timeout=ttl, blocking=False)
        acquired = await lock.acquire()
        try:
            yield acquired
        finally:
            if acquired:
                try:
                    await lock.release()
                except Exception:  # expired meanwhile: another may own it now
                    pass


class NoJobLocks:
    @asynccontextmanager
    async def hold(self, name: str, ttl: float) -> AsyncIterator[bool]:
        yield True
