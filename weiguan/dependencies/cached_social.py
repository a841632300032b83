"""Decorators of the like, follow and stat repositories that only follow their writes:
each change of a counter writes a marker over the cached stat rows it changed, after
its commit and before it answers (cached_repositories.py reads them). What they read
(likes, follows, ranges) is the SQL repository's, never cached."""
from typing import Any

from .caches import EPOCH, new_marker, post_stat_key, user_stat_key
from .cached_repositories import Cache, _Delegating
from .repositories.follows import FollowRepository
from .repositories.likes import LikeRepository
from .repositories.stats import StatRepository


class CachedLikeRepository(_Delegating):
    def __init__(self, sql: LikeRepository, cache: Cache):
        self.sql = sql
        self.cache = cache

    async def _changed(self, user_id: int, post_id: int) -> None:
        await self.cache.put({user_stat_key(user_id): new_marker(),
                              post_stat_key(post_id): new_marker()})

    async def like(self, user_id: int, post_id: int) -> bool:
        try:  # even on an error: it may have come after the commit
            return await self.sql.like(user_id, post_id)
        finally:
            await self._changed(user_id, post_id)

    async def unlike(self, user_id: int, post_id: int) -> bool:
        try:
            return await self.sql.unlike(user_id, post_id)
        finally:
            await self._changed(user_id, post_id)

    async def liked_among(self, user_id: int, post_ids: Any) -> set[int]:
        return await self.sql.liked_among(user_id, post_ids)


class CachedFollowRepository(_Delegating):
    def __init__(self, sql: FollowRepository, cache: Cache):
        self.sql = sql
        self.cache = cache

    async def _changed(self, *user_ids: int) -> None:
        await self.cache.put({user_stat_key(i): new_marker() for i in user_ids})

    async def follow(self, user_id: int, following_id: int) -> bool:
        try:
            return await self.sql.follow(user_id, following_id)
        finally:
            await self._changed(user_id, following_id)

    async def unfollow(self, user_id: int, following_id: int) -> bool:
        try:
            return await self.sql.unfollow(user_id, following_id)
        finally:
            await self._changed(user_id, following_id)

    async def following_among(self, user_id: int, ids: Any) -> set[int]:
        return await self.sql.following_among(user_id, ids)

    async def followings(self, user_id: int, limit: int, offset: int) -> list[int]:
        return await self.sql.followings(user_id, limit, offset)

    async def followers(self, user_id: int, limit: int, offset: int) -> list[int]:
        return await self.sql.followers(user_id, limit, offset)


class CachedStatRepository(_Delegating):
    """A reconcile that repaired rows cannot name them: a new epoch voids every
    cached stat row (caches.TAG)."""

    def __init__(self, sql: StatRepository, cache: Cache):
        self.sql = sql
        self.cache = cache

    async def _repaired(self, count: int) -> int:
        if count:
            await self.cache.put({EPOCH: new_marker()})
        return count

    async def reconcile_users(self, low: int, high: int) -> int:
        return await self._repaired(await self.sql.reconcile_users(low, high))

    async def reconcile_posts(self, low: int, high: int) -> int:
        return await self._repaired(await self.sql.reconcile_posts(low, high))
