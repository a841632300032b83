"""Event counters in fixed windows, on the key-value store (Redis when configured, so
every server process counts together; in process otherwise).

The first event of a key starts its window: the counter's TTL. When the window ends
the key is gone and counting starts again from zero. A fixed window lets a burst of
up to twice the limit straddle a boundary; for abuse limits that is close enough,
and it costs one round trip per event (INCR and EXPIRE NX in one transaction) and
one per look.

Why not the `limits` package: it would open its own Redis connections beside the
store's (its async Redis backend wants `coredis` or a separate redis-py pool), keep
a second in-process implementation beside MemoryStore, and raise its own errors
where a lost store must become our 503; these three methods over the existing store
do what it would."""
import asyncio

PREFIX = 'rate:'


class FixedWindowCounter:
    def __init__(self, store):
        self.store = store

    async def hit(self, key: str, window: int) -> int:
        """Count one event; the number of events in the key's current window."""
        return await self.store.incr(PREFIX + key, window)

    async def give_back(self, key: str) -> None:
        """Uncount one event of the key's current window (none once it ended)."""
        await self.store.decr(PREFIX + key)

    async def counts(self, *keys: str) -> list[int]:
        """The events counted so far in each key's current window (concurrently)."""
        values = await asyncio.gather(*(self.store.get(PREFIX + key) for key in keys))
        return [int(value or 0) for value in values]

    async def resets_in(self, key: str) -> int:
        """Seconds until the key's window ends (0 when there is none)."""
        return await self.store.ttl(PREFIX + key)
