"""In-memory fakes of the adapters the services use (the ports of
weiguan/services/ports.py), for unit tests of services: one fake per port.

They keep the contracts of the real adapters (plain dicts out, Duplicate with
`.field` on a unique clash, pages newest first, the counters in FakeUsers.stats kept
as the real transactions keep them, False when the target does not exist), and
tests/integration/test_repository_contracts.py runs one suite against each fake and its real
adapter. The key-value store and the broker need no fake: MemoryStore and
MemoryBroker are the in-process implementations already. The accounts' other ports
(the hasher, the code sender) and the clock are in fakes_accounts.py.
"""
import asyncio
import copy
import itertools
from datetime import datetime, timezone

from weiguan.entities.errors import Duplicate, Unavailable


def _now() -> datetime:
    return datetime.now(timezone.utc)


class FakeUsers:
    """UserRepository in memory: username, mobile and email are unique."""

    UNIQUE = ('username', 'mobile', 'email')

    def __init__(self, files: 'FakeFiles | None' = None):
        self.rows: dict[int, dict] = {}
        self.stats: dict[int, dict] = {}
        self.files = files  # the avatars come joined to the users, as in the database
        self._ids = itertools.count(1)

    def _check_unique(self, values: dict, own_id: int | None = None) -> None:
        for field in self.UNIQUE:
            value = values.get(field)
            if value is None:
                continue
            for row in self.rows.values():
                if row['id'] != own_id and row[field] == value:
                    error = Duplicate()
                    error.field = field
                    raise error

    async def create(self, username: str, password_hash: str, **contacts: str) -> dict:
        self._check_unique({'username': username, **contacts})
        now = _now()
        user = {'id': next(self._ids), 'username': username, 'password': password_hash,
                'mobile': None, 'email': None, 'avatar_id': None, 'intro': '',
                'disabled': False, 'created_at': now, 'updated_at': now, **contacts}
        self.rows[user['id']] = user
        self.stats[user['id']] = {'id': user['id'], 'user_id': user['id'], 'post_count': 0,
                                  'like_count': 0, 'following_count': 0,
                                  'follower_count': 0, 'created_at': now, 'updated_at': now}
        return dict(user)

    async def update(self, id: int, **values) -> dict | None:
        if id not in self.rows:
            return None
        self._check_unique(values, own_id=id)
        self.rows[id].update(values, updated_at=_now())
        return dict(self.rows[id])

    async def find_by(self, field: str, value: str) -> dict | None:
        return next((dict(r) for r in self.rows.values() if r[field] == value), None)

    async def get(self, id: int) -> dict | None:
        row = self.rows.get(id)
        return None if row is None else dict(row)

    async def get_many(self, ids) -> dict[int, dict]:
        return {i: dict(self.rows[i]) for i in set(ids) if i in self.rows}

    async def get_many_with_stats(self, ids) -> dict[int, dict]:
        avatars = self.files.rows if self.files else {}
        return {i: {**self.rows[i], 'stat': copy.deepcopy(self.stats.get(i)),
                    'avatar': copy.deepcopy(avatars.get(self.rows[i]['avatar_id']))}
                for i in set(ids) if i in self.rows}


class FakeFiles:
    """FileRepository in memory; `fail` makes an insert fail like a lost database,
    `gate` holds inserts until it is set."""

    def __init__(self):
        self.rows: dict[int, dict] = {}
        self._ids = itertools.count(1)
        self.fail = False
        self.gate: asyncio.Event | None = None

    async def create_many(self, files: list[dict]) -> list[dict]:
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise Unavailable()
        now = _now()
        rows = [{'id': next(self._ids), **values, 'meta': dict(values['meta']),
                 'created_at': now, 'updated_at': now} for values in files]
        self.rows.update((row['id'], row) for row in rows)
        return copy.deepcopy(rows)

    async def create(self, user_id: int, region: str, bucket: str, path: str,
                     meta: dict) -> dict:
        [row] = await self.create_many([{'user_id': user_id, 'region': region,
                                         'bucket': bucket, 'path': path, 'meta': meta}])
        return row

    async def get(self, id: int) -> dict | None:
        row = self.rows.get(id)
        return None if row is None else copy.deepcopy(row)

    async def get_many(self, ids) -> dict[int, dict]:
        return {i: copy.deepcopy(self.rows[i]) for i in set(ids) if i in self.rows}

    async def delete(self, id: int) -> None:
        self.rows.pop(id, None)

    async def locations(self, after_id: int = 0, limit: int = 1000) -> list[tuple]:
        ids = sorted(i for i in self.rows if i > after_id)[:limit]
        return [(i, self.rows[i]['region'], self.rows[i]['bucket'], self.rows[i]['path'])
                for i in ids]


def _count(users: FakeUsers, user_id: int, counter: str, delta: int) -> None:
    stat = users.stats.get(user_id)
    if stat is not None:
        stat[counter] += delta


class FakeFollowRepo:
    def __init__(self, users: FakeUsers):
        self.users = users
        self.rows: list[dict] = []  # in follow order
        self._ids = itertools.count(1)

    def _find(self, user_id, following_id):
        return next((r for r in self.rows if (r['user_id'], r['following_id'])
                     == (user_id, following_id)), None)

    async def follow(self, user_id: int, following_id: int) -> bool:
        if following_id not in self.users.rows:
            return False
        if self._find(user_id, following_id):
            raise Duplicate()
        self.rows.append({'id': next(self._ids), 'user_id': user_id,
                          'following_id': following_id})
        _count(self.users, user_id, 'following_count', 1)
        _count(self.users, following_id, 'follower_count', 1)
        return True

    async def unfollow(self, user_id: int, following_id: int) -> bool:
        row = self._find(user_id, following_id)
        if row is None:
            return False
        self.rows.remove(row)
        _count(self.users, user_id, 'following_count', -1)
        _count(self.users, following_id, 'follower_count', -1)
        return True

    async def followings(self, user_id: int, limit: int, offset: int) -> list[int]:
        ids = [r['following_id'] for r in reversed(self.rows) if r['user_id'] == user_id]
        return ids[offset:offset + limit]

    async def followers(self, user_id: int, limit: int, offset: int) -> list[int]:
        ids = [r['user_id'] for r in reversed(self.rows) if r['following_id'] == user_id]
        return ids[offset:offset + limit]

    async def followers_after(self, user_id: int, after_id: int, limit: int) -> list[tuple]:
        return [(r['id'], r['user_id']) for r in self.rows
                if r['following_id'] == user_id and r['id'] > after_id][:limit]

    async def following_among(self, user_id: int, ids) -> set[int]:
        return {r['following_id'] for r in self.rows
                if r['user_id'] == user_id and r['following_id'] in set(ids)}


class FakeLikeRepo:
    def __init__(self, users: FakeUsers):
        self.users = users
        self.posts: 'FakePostRepo | None' = None
        self.rows: list[dict] = []  # in like order
        self._ids = itertools.count(1)

    def _find(self, user_id, post_id):
        return next((r for r in self.rows
                     if (r['user_id'], r['post_id']) == (user_id, post_id)), None)

    async def like(self, user_id: int, post_id: int) -> bool:
        if post_id not in self.posts.rows:
            return False
        if self._find(user_id, post_id):
            raise Duplicate()
        self.rows.append({'id': next(self._ids), 'user_id': user_id, 'post_id': post_id})
        self.posts.stats[post_id]['like_count'] += 1
        _count(self.users, user_id, 'like_count', 1)
        return True

    async def unlike(self, user_id: int, post_id: int) -> bool:
        row = self._find(user_id, post_id)
        if row is None:
            return False
        self.rows.remove(row)
        self.posts.stats[post_id]['like_count'] -= 1
        _count(self.users, user_id, 'like_count', -1)
        return True

    async def liked_among(self, user_id: int, post_ids) -> set[int]:
        return {r['post_id'] for r in self.rows
                if r['user_id'] == user_id and r['post_id'] in set(post_ids)}


class FakePostRepo:
    def __init__(self, users: FakeUsers, follows: FakeFollowRepo, likes: FakeLikeRepo):
        self.users = users
        self.follows = follows
        self.likes = likes
        likes.posts = self
        self.rows: dict[int, dict] = {}
        self.stats: dict[int, dict] = {}
        self._ids = itertools.count(1)

    def _with_stat(self, post_id: int) -> dict:
        return {**copy.deepcopy(self.rows[post_id]),
                'stat': copy.deepcopy(self.stats.get(post_id))}

    async def create(self, user_id, type, text, image_ids, video_id) -> dict:
        now = _now()
        post_id = next(self._ids)
        self.rows[post_id] = {'id': post_id, 'user_id': user_id, 'type': type, 'text': text,
                              'image_ids': list(image_ids), 'video_id': video_id,
                              'created_at': now, 'updated_at': now}
        self.stats[post_id] = {'id': post_id, 'post_id': post_id, 'like_count': 0,
                               'created_at': now, 'updated_at': now}
        _count(self.users, user_id, 'post_count', 1)
        return self._with_stat(post_id)

    async def get(self, id: int) -> dict | None:
        return copy.deepcopy(self.rows.get(id))

    async def get_with_stat(self, id: int) -> dict | None:
        return self._with_stat(id) if id in self.rows else None

    def held(self, id: int) -> dict | None:
        return copy.deepcopy(self.rows.get(id))

    async def delete(self, id: int, user_id: int) -> bool:
        if self.rows.get(id, {}).get('user_id') != user_id:
            return False
        for like in [r for r in self.likes.rows if r['post_id'] == id]:
            self.likes.rows.remove(like)
            _count(self.users, like['user_id'], 'like_count', -1)
        del self.rows[id], self.stats[id]
        _count(self.users, user_id, 'post_count', -1)
        return True

    async def published(self, user_id, limit, offset) -> list[dict]:
        ids = sorted((i for i, p in self.rows.items() if p['user_id'] == user_id),
                     reverse=True)
        return [self._with_stat(i) for i in ids[offset:offset + limit]]

    async def liked(self, user_id, limit, offset) -> list[dict]:
        ids = [r['post_id'] for r in reversed(self.likes.rows) if r['user_id'] == user_id]
        return [self._with_stat(i) for i in ids[offset:offset + limit]]

    def _followed(self, follower_id) -> set[int]:
        return {r['following_id'] for r in self.follows.rows if r['user_id'] == follower_id}

    async def timeline(self, follower_id, limit, before_id=None, after_id=None) -> list[dict]:
        followed = self._followed(follower_id)
        ids = sorted(i for i, p in self.rows.items() if p['user_id'] in followed)
        if after_id is not None:
            ids = [i for i in ids if i > after_id][:limit]
        else:
            ids = [i for i in ids if before_id is None or i < before_id][-limit:]
        return [self._with_stat(i) for i in reversed(ids)]

    async def timeline_total(self, follower_id) -> int:
        return sum(self.users.stats[u]['post_count'] for u in self._followed(follower_id)
                   if u in self.users.stats)

    async def get_many_with_stat(self, ids) -> dict[int, dict]:
        return {i: self._with_stat(i) for i in set(ids) if i in self.rows}

    async def author_ids(self, user_id: int, limit: int) -> list[int]:
        return sorted((i for i, p in self.rows.items() if p['user_id'] == user_id),
                      reverse=True)[:limit]

    async def ids_of(self, user_ids, lower, upper, limit, newest_first) -> list[int]:
        ids = sorted((i for i, p in self.rows.items()
                      if p['user_id'] in set(user_ids) and lower < i < upper),
                     reverse=newest_first)
        return ids[:limit]

    async def recent_ids(self, follower_id: int, limit: int) -> tuple[list[int], int]:
        ids = await self.ids_of(self._followed(follower_id), 0, 2 ** 62, limit, True)
        return ids, await self.timeline_total(follower_id)
