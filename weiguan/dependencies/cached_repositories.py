"""Decorators of the user, file and post repositories: the same ports, read from a
cache and written through to the SQL repositories behind them, which the container
puts in front of them; the services do not know. Why each is exact:
docs/architecture.md, "Cached views".

- profiles (the user row without its password, with its avatar's file row), files,
  and the stat rows of users and posts: in the shared cache (caches.RedisCache;
  MemoryCache on the embedded default). Every write that changes one writes a marker
  over its entry after its commit and before it answers (the likes', follows' and
  stats' decorators too: cached_social.py); a reader that missed fills only over
  what it saw (caches.py), so no process can read an entry older than a change that
  answered. A file's marker is its tombstone: only deletion changes a file.
- post bodies: in each process (local_rows.LocalRows), with no invalidation at all: a
  read always fetches the post's stat (from the cache or the database), and the
  delete removes the stat row in the post's transaction and marks its entry, so a
  body whose stat is gone is a deleted post."""
import logging
from typing import Any, Iterable

from ..entities.errors import Unavailable

from .caches import (EPOCH, Cache, encode, file_key, following_ids_key, liked_ids_key,
                     new_marker, post_stat_key, profile_key, stat_entry, user_stat_key)
from .local_rows import JoinedRows, LocalRows
from .repositories.files import FileRepository
from .repositories.posts import PostRepository
from .repositories.users import UserRepository


log = logging.getLogger(__name__)


async def _fresh(cache: 'Cache', entries: dict[str, str]) -> None:
    """Entries of rows just created: nothing can be cached for a new id, but on
    SQLite an id may be a deleted row's again (in-process cache, never down). So a
    failure is no loss: the next read fills them."""
    try:
        await cache.put(entries)
    except Unavailable:
        log.warning('cache entries of new rows not written; read from the database')


def _ids(ids: Iterable[int | None]) -> list[int]:
    return list(dict.fromkeys(i for i in ids if i is not None))


class _Delegating:
    """Whatever the decorator does not cache (the writes it only follows, the pages,
    any later method) is the SQL repository's own."""
    sql: Any

    def __getattr__(self, name: str) -> Any:
        if name == 'sql':  # not set yet (a copy being made): no recursion
            raise AttributeError(name)
        return getattr(self.sql, name)


class CachedUserRepository(_Delegating):
    def __init__(self, sql: UserRepository, cache: Cache):
        self.sql = sql
        self.cache = cache
        self.joined = JoinedRows('stat')

    @staticmethod
    def _markers(user_id: int, stat: bool = False) -> dict[str, str]:
        """`stat`: a user created or deleted, so also its stat row and its sets of
        likes and follows (an id SQLite gives again must not find a deleted user's)."""
        markers = {profile_key(user_id): new_marker()}
        if stat:
            for key in (user_stat_key, liked_ids_key, following_ids_key):
                markers[key(user_id)] = new_marker()
        return markers

    async def create(self, username: str, password_hash: str, **contacts: str) -> dict:
        user = await self.sql.create(username, password_hash, **contacts)
        await _fresh(self.cache, self._markers(user['id'], stat=True))
        return user

    async def delete(self, id: int) -> None:
        try:
            await self.sql.delete(id)
        finally:
            await self.cache.put(self._markers(id, stat=True))

    async def update(self, id: int, **values: Any) -> dict | None:
        try:
            return await self.sql.update(id, **values)
        finally:  # a failed update may still have committed (a lost answer)
            await self.cache.put(self._markers(id))

    async def find_by(self, field: str, value: str) -> dict | None:
        return await self.sql.find_by(field, value)

    async def get(self, id: int) -> dict | None:
        return await self.sql.get(id)  # with the password hash: never cached

    async def get_many(self, ids: Iterable[int]) -> dict[int, dict]:
        return await self.sql.get_many(ids)

    async def get_many_with_stats(self, ids: Iterable[int]) -> dict[int, dict]:
        """From the cache alone when it holds every profile and stat row; else only
        the stat rows from the database when it holds every profile; else all of
        them in full, in the one statement the SQL repository sends (a page costs
        at most one statement whatever the cache holds). What was missing is
        filled in."""
        ids = _ids(ids)
        if not ids:
            return {}
        count = len(ids)
        entries = await self.cache.get_many([*map(profile_key, ids), *map(user_stat_key, ids),
                                             EPOCH])
        epoch = entries[-1]
        decoded = self.cache.decode
        profiles = [decoded.shared(entry) for entry in entries[:count]]  # only spread below
        stats = [decoded.stat(entry, epoch) for entry in entries[count:2 * count]]
        if all(profiles) and all(stats):
            join = self.joined
            return {i: join(i, p, stat) for i, p, stat in zip(ids, profiles, stats)
                    if p is not None}
        found: dict[int, dict] = {}
        if all(profiles):
            rows = await self.sql.stats_many(ids)
            found = {i: {**p, 'stat': rows[i]} for i, p in zip(ids, profiles)
                     if p is not None and i in rows}
        if len(found) < count:  # a profile missing, or a user deleted just now
            found = await self.sql.get_many_with_stats(ids)
        fills: dict[str, tuple[str | None, str]] = {}
        for i, entry, profile in zip(ids, entries, profiles):
            if profile is None and i in found:
                fills[profile_key(i)] = (entry, encode(
                    {k: v for k, v in found[i].items() if k != 'stat'}))
        await _fill_stats(self.cache, fills, epoch, {
            user_stat_key(i): (entry, found[i]['stat'])
            for i, entry, stat in zip(ids, entries[count:], stats)
            if stat is None and i in found and found[i]['stat'] is not None})
        return found


async def _fill_stats(cache: Cache, fills: dict[str, tuple[str | None, str]],
                      epoch: str | None, stats: dict[str, tuple[str | None, dict]]) -> None:
    """Fill `fills` and the stat rows (key -> (entry seen, row)) read under `epoch`;
    with no epoch yet, write one instead: stat rows read before it are not
    trusted."""
    if epoch is None:
        fills[EPOCH] = (None, new_marker())
    else:
        fills.update({key: (seen, stat_entry(row, epoch)) for key, (seen, row) in stats.items()})
    if fills:
        await cache.fill(fills)


class CachedFileRepository(_Delegating):
    def __init__(self, sql: FileRepository, cache: Cache):
        self.sql = sql
        self.cache = cache

    async def create_many(self, files: list[dict]) -> list[dict]:
        rows = await self.sql.create_many(files)
        if rows:  # also overwrites a tombstone of a reused id (SQLite)
            await _fresh(self.cache, {file_key(row['id']): encode(row) for row in rows})
        return rows

    async def create(self, user_id: int, region: str, bucket: str, path: str,
                     meta: dict) -> dict:
        [row] = await self.create_many([{'user_id': user_id, 'region': region,
                                         'bucket': bucket, 'path': path, 'meta': meta}])
        return row

    async def get(self, id: int) -> dict | None:
        return (await self.get_many([id])).get(id)

    async def get_many(self, ids: Iterable[int]) -> dict[int, dict]:
        ids = _ids(ids)
        if not ids:
            return {}
        entries = await self.cache.get_many([file_key(i) for i in ids])
        found: dict[int, dict] = {}
        missing: list[int] = []
        decoded = self.cache.decode
        for file_id, entry in zip(ids, entries):
            row = decoded.shared(entry)  # read, and spread into a presented file only
            if row is not None:
                found[file_id] = row
            elif entry is None:  # a marker is a tombstone: deleted
                missing.append(file_id)
        if missing:
            rows = await self.sql.get_many(missing)
            if rows:
                await self.cache.fill({file_key(i): (None, encode(row))
                                       for i, row in rows.items()})
            found.update(rows)
        return found

    async def delete(self, id: int) -> None:
        """The tombstone, and a marker on the owner's profile (an avatar is always
        its owner's own file: services/accounts.py)."""
        row = await self.sql.get(id)
        try:
            await self.sql.delete(id)
        finally:
            entries = {file_key(id): new_marker()}
            if row is not None:
                entries[profile_key(row['user_id'])] = new_marker()
            await self.cache.put(entries)

    async def locations(self, after_id: int = 0, limit: int = 1000) -> list[tuple]:
        return await self.sql.locations(after_id, limit)


class CachedPostRepository(_Delegating):
    def __init__(self, sql: PostRepository, bodies: LocalRows, cache: Cache):
        self.sql = sql
        self.bodies = bodies
        self.cache = cache
        self.joined = JoinedRows('stat')

    async def create(self, user_id: int, type: str, text: str, image_ids: list[int],
                     video_id: int | None) -> dict:
        post = None
        try:
            post = await self.sql.create(user_id, type, text, image_ids, video_id)
        finally:  # in one write: the author's post_count, and the stat of the post
            markers = {user_stat_key(user_id): new_marker()}  # (SQLite may reuse an id)
            if post is not None:
                markers[post_stat_key(post['id'])] = new_marker()
            await self.cache.put(markers)
        self.bodies.put(post['id'], {k: v for k, v in post.items() if k != 'stat'})
        return post

    def held(self, id: int) -> dict | None:
        """The post's body if this process holds it (shared: never change it), deleted
        or not: its stat read says."""
        return self.bodies.get(id)

    async def get_with_stat(self, id: int) -> dict | None:
        body = self.bodies.get(id)
        if body is None:
            post = await self.sql.get_with_stat(id)
            if post is not None:
                self.bodies.put(id, {k: v for k, v in post.items() if k != 'stat'})
            return post
        entry, epoch = await self.cache.get_many([post_stat_key(id), EPOCH])
        stat = self.cache.decode.stat(entry, epoch)
        if stat is not None:
            return self.joined(id, body, stat)
        stat = (await self.sql.stats_many([id])).get(id)
        if stat is None:  # deleted (its stat row goes in the same transaction), or a
            self.bodies.discard(id)  # stat row lost by hand: the database says which
            return await self.sql.get_with_stat(id)
        await _fill_stats(self.cache, {}, epoch, {post_stat_key(id): (entry, stat)})
        return {**body, 'stat': stat}

    async def get_many_with_stat(self, ids: Iterable[int]) -> dict[int, dict]:
        """Posts by id with their stats (a page of ids, e.g. from a feed), deleted
        ones left out: from the bodies and the cache when they hold all of them;
        else the stat rows, or else everything, in one statement."""
        ids = _ids(ids)
        if not ids:
            return {}
        bodies = [self.bodies.get(i) for i in ids]
        entries: list[str | None] = []
        if all(bodies):
            entries = await self.cache.get_many([*map(post_stat_key, ids), EPOCH])
            stat_of = self.cache.decode.stat
            stats = [stat_of(entry, entries[-1]) for entry in entries[:-1]]
            if all(stats):
                join = self.joined
                return {i: join(i, b, s) for i, b, s in zip(ids, bodies, stats)
                        if b is not None}
            rows = await self.sql.stats_many(ids)
            if len(rows) == len(ids):
                await _fill_stats(self.cache, {}, entries[-1], {
                    post_stat_key(i): (entry, rows[i])
                    for i, entry, stat in zip(ids, entries, stats) if stat is None})
                return {i: {**b, 'stat': rows[i]} for i, b in zip(ids, bodies)
                        if b is not None}
        found = await self.sql.get_many_with_stat(ids)  # a body missing, or deleted
        for i in ids:
            if i in found:
                self.bodies.put(i, {k: v for k, v in found[i].items() if k != 'stat'})
            else:
                self.bodies.discard(i)
        return {i: found[i] for i in ids if i in found}

    async def delete(self, id: int, user_id: int) -> bool:
        """Also a new stats epoch: the likers' like counts changed with it."""
        deleted = True  # unless the database says no: an error may follow a commit
        try:
            deleted = await self.sql.delete(id, user_id)
            return deleted
        finally:
            if deleted:
                self.bodies.discard(id)
                await self.cache.put({post_stat_key(id): new_marker(), EPOCH: new_marker(),
                                      user_stat_key(user_id): new_marker()})
