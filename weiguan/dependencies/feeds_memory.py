"""The home feeds of the embedded default, in process: the same semantics as the
Redis feeds (dependencies/feeds_redis.py) over a sorted list per reader, so the
embedded default runs the same feed code (services/feeds.py) with in-process jobs.
Expiry follows an injected clock (tests move it)."""
import bisect
import itertools
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

from ..services.ports import FeedRead


@dataclass
class _Feed:
    expires: float
    floor: int = 0
    built: bool = False
    ids: list[int] = field(default_factory=list)  # ascending

    def add(self, post_ids: Iterable[int], max_items: int) -> None:
        for post_id in post_ids:
            at = bisect.bisect_left(self.ids, post_id)
            if post_id > self.floor and (at == len(self.ids) or self.ids[at] != post_id):
                self.ids.insert(at, post_id)
        if len(self.ids) > max_items:
            cut = len(self.ids) - max_items
            self.floor = self.ids[cut - 1]
            del self.ids[:cut]


TOTAL_TTL = 3600  # as on Redis


class MemoryFeeds:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.tokens = itertools.count(1)
        self.totals: dict[int, tuple[str, int | None, float]] = {}  # token, value, expiry
        self.deleting: dict[int, int] = {}
        self.feeds: dict[int, _Feed] = {}
        self.locks: dict[int, float] = {}
        self.pending: dict[int, int] = {}
        self.big_authors: set[int] = set()

    def _live(self, user_id: int) -> _Feed | None:
        feed = self.feeds.get(user_id)
        if feed is not None and feed.expires <= self.clock():
            del self.feeds[user_id]
            return None
        return feed

    def _total(self, user_id: int) -> tuple[str, int | None, float] | None:
        total = self.totals.get(user_id)
        if total is not None and total[2] <= self.clock():
            del self.totals[user_id]
            return None
        return total

    def _drop_total(self, user_id: int) -> None:
        total = self._total(user_id)
        if total is not None:
            self.totals[user_id] = (str(next(self.tokens)), None, total[2])

    async def read(self, user_id: int, lower: int, upper: int, limit: int,
                   newest_first: bool, ttl: int) -> FeedRead:
        total = self._total(user_id)
        if total is None:
            total = self.totals[user_id] = (str(next(self.tokens)), None,
                                            self.clock() + TOTAL_TTL)
        known = (dict(self.pending), set(self.big_authors), dict(self.deleting), total[1],
                 total[0])
        feed = self._live(user_id)
        if feed is None or not feed.built:
            return FeedRead(None, 0, *known)
        feed.expires = self.clock() + ttl
        lower = max(lower, feed.floor)
        start = bisect.bisect_right(feed.ids, lower)
        end = bisect.bisect_left(feed.ids, upper)
        ids = feed.ids[start:end]
        ids = ids[::-1][:limit] if newest_first else ids[:limit]
        return FeedRead(ids, feed.floor, *known)

    async def begin(self, user_id: int, ttl: int) -> bool:
        feed = self._live(user_id)
        if feed is None:
            self.feeds[user_id] = _Feed(expires=self.clock() + ttl)
        elif feed.built:
            return False
        else:
            feed.expires = self.clock() + ttl
        return True

    async def finish(self, user_id: int, ids: list[int], floor: int, max_items: int,
                     ttl: int) -> bool:
        feed = self._live(user_id)
        if feed is None or feed.built:
            return False
        feed.floor = max(feed.floor, floor)
        feed.ids = [i for i in feed.ids if i > feed.floor]
        feed.add(ids, max_items)
        feed.built, feed.expires = True, self.clock() + ttl
        return True

    async def add(self, user_ids: Iterable[int], post_ids: list[int],
                  max_items: int) -> None:
        for user_id in user_ids:
            self._drop_total(user_id)
            feed = self._live(user_id)
            if feed is not None:
                feed.add(post_ids, max_items)

    async def remove(self, user_ids: Iterable[int], post_ids: list[int]) -> None:
        gone = set(post_ids)
        for user_id in user_ids:
            self._drop_total(user_id)
            feed = self._live(user_id)
            if feed is not None:
                feed.ids = [i for i in feed.ids if i not in gone]

    async def lock(self, user_id: int, ttl: int) -> bool:
        now = self.clock()
        if self.locks.get(user_id, 0) > now:
            return False
        self.locks[user_id] = now + ttl
        return True

    async def unlock(self, user_id: int) -> None:
        self.locks.pop(user_id, None)

    async def add_pending(self, post_id: int, author_id: int) -> None:
        self.pending[post_id] = author_id

    async def remove_pending(self, post_id: int) -> None:
        self.pending.pop(post_id, None)

    async def add_big_author(self, author_id: int) -> None:
        self.big_authors.add(author_id)

    async def add_deleting(self, post_id: int, author_id: int) -> None:
        self.deleting[post_id] = author_id

    async def remove_deleting(self, post_id: int) -> None:
        self.deleting.pop(post_id, None)

    async def set_total(self, user_id: int, token: str, total: int) -> None:
        known = self._total(user_id)
        if known is not None and known[0] == token:
            self.totals[user_id] = (token, total, self.clock() + TOTAL_TTL)

    async def drop_total(self, user_id: int) -> None:
        self._drop_total(user_id)

    def clear(self) -> None:
        """Everything lost, as a flushed Redis (tests)."""
        self.totals.clear()
        self.deleting.clear()
        self.feeds.clear()
        self.locks.clear()
        self.pending.clear()
        self.big_authors.clear()
