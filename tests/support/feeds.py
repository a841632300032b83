"""The home feeds of a test container, and the ways a feed gets lost: all at once (a
flushed Redis, or the in-process store emptied) or one reader's (its TTL run out,
as for a reader inactive for FEED_ACTIVE_DAYS)."""
from weiguan.dependencies.feeds_memory import MemoryFeeds
from weiguan.dependencies.job_queue import InProcessJobs
from weiguan.dependencies.feeds_redis import RedisFeeds, feed_key


async def flush_feeds(store) -> None:
    if isinstance(store, RedisFeeds):
        await store.client.flushdb()
    else:
        store.clear()


async def expire_feed(store, user_id: int) -> None:
    """The reader's feed past its TTL: on Redis an expiry time in the past (Redis
    deletes the key), in process its expiry set to now on the store's clock."""
    if isinstance(store, RedisFeeds):
        await store.client.expireat(feed_key(user_id), 1)
    else:
        assert isinstance(store, MemoryFeeds)
        feed = store.feeds.get(user_id)
        if feed is not None:
            feed.expires = store.clock()


class HeldJobs(InProcessJobs):
    """In-process jobs held back until released: a queue as late as one likes, so
    a test sees what readers see before the workers get to a job."""

    def __init__(self, **options):
        super().__init__(retry_delay=0, **options)
        self.held: list[tuple[str, dict]] = []

    async def enqueue(self, name: str, **arguments) -> None:
        if name not in self.functions:
            raise LookupError(f'no job named {name!r}')
        self.held.append((name, arguments))

    async def release(self) -> None:
        """The held jobs start (as tasks: they run while the caller goes on)."""
        held, self.held = self.held, []
        for name, arguments in held:
            await super().enqueue(name, **arguments)

    async def drain(self) -> None:
        while self.held or self._running:
            await self.release()
            await super().drain()
