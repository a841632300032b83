"""Decorators of the like, follow and stat repositories. They follow the writes:
each change of a counter writes a marker over the cached stat rows it changed, after
its commit and before it answers (cached_repositories.py reads them). And they answer
the viewer's flags (`isLiked`, `isFollowing`: liked_among, following_among, read on
every post and every page) from one cached entry per user holding all the ids the
user likes or follows, which the same markers keep exact. A user with more than
ID_SET_MAX of them is read from SQL every time, as is everything else they read
(follower lists, ranges)."""
from typing import Any, Awaitable, Callable, Iterable

from .caches import (EPOCH, ID_SET_HEAD, Cache, TOKENED, VALUE, following_ids_key, id_set_row,
                     liked_ids_key, new_marker, post_stat_key, user_stat_key)
from .cached_repositories import _Delegating, _fill_stats
from .repositories.follows import FollowRepository
from .repositories.likes import LikeRepository
from .repositories.stats import StatRepository

# Ids in one user's cached set at most (~7 bytes each in the entry: 70 KB at most,
# read whole only after a change when large: HEADED_IDS). Past it, SQL on every read.
ID_SET_MAX = 10_000


# Sets of more ids than this are checked by their heads (caches.ID_SET_HEAD), where
# the whole entry (~7 bytes an id) costs more to move and hash than a second command;
# a smaller one is read whole, in the MGET of its epoch beside the page's other reads.
HEADED_IDS = 1000


async def _among(cache: Cache, key: str, ids: Iterable[int | None],
                 listed: Callable[[int], Awaitable[list[int]]],
                 sql_among: Callable[[set[int]], Awaitable[set[int]]]) -> set[int]:
    """Which of `ids` are in the set cached under `key`; a miss lists the whole set
    from SQL (at most ID_SET_MAX + 1 ids) and fills it as the stat rows are filled
    (under the epoch, over what was seen)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return set()
    if key in cache.decode.large_sets:
        head, [epoch] = await cache.get_head(key, ID_SET_HEAD, [EPOCH])
        hit, held = cache.decode.id_set_by_head(head, epoch)
        if not hit:  # a marker or nothing is all in its head
            entry = (await cache.get_many([key]))[0] if head and head[0] == VALUE else head
            held = await _set_of(cache, key, entry, epoch, listed)
    else:
        entry, epoch = await cache.get_many([key, EPOCH])
        held = await _set_of(cache, key, entry, epoch, listed)
    if held is None:
        return await sql_among(wanted)
    return wanted & held


async def _set_of(cache: Cache, key: str, entry: str | None, epoch: str | None,
                  listed: Callable[[int], Awaitable[list[int]]]) -> frozenset[int] | None:
    """The set of `entry`, read under `key` and `epoch`; on a miss, listed from SQL and
    filled, as is an entry of the format before the token (caches.TOKENED). Whether
    it is large (HEADED_IDS) decides how the next read reads it."""
    hit, held = cache.decode.id_set(entry, epoch)
    if not hit:
        rows = await listed(ID_SET_MAX + 1)
        held = frozenset(rows) if len(rows) <= ID_SET_MAX else None
    if not hit or not (entry or '').startswith(TOKENED):
        await _fill_stats(cache, {}, epoch, {
            key: (entry, id_set_row(None if held is None else sorted(held)))})
    if held is not None and len(held) > HEADED_IDS:
        cache.decode.large_sets[key] = True
    else:
        cache.decode.large_sets.pop(key, None)
    return held


class CachedLikeRepository(_Delegating):
    def __init__(self, sql: LikeRepository, cache: Cache):
        self.sql = sql
        self.cache = cache

    async def _changed(self, user_id: int, post_id: int) -> None:
        await self.cache.put({user_stat_key(user_id): new_marker(),
                              post_stat_key(post_id): new_marker(),
                              liked_ids_key(user_id): new_marker()})

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
        return await _among(self.cache, liked_ids_key(user_id), post_ids,
                            lambda limit: self.sql.liked_ids(user_id, limit),
                            lambda ids: self.sql.liked_among(user_id, ids))


class CachedFollowRepository(_Delegating):
    def __init__(self, sql: FollowRepository, cache: Cache):
        self.sql = sql
        self.cache = cache

    async def _changed(self, user_id: int, following_id: int) -> None:
        await self.cache.put({user_stat_key(user_id): new_marker(),
                              user_stat_key(following_id): new_marker(),
                              following_ids_key(user_id): new_marker()})

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
        return await _among(self.cache, following_ids_key(user_id), ids,
                            lambda limit: self.sql.following_ids(user_id, limit),
                            lambda ids: self.sql.following_among(user_id, ids))

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
