"""In-memory fakes of the follow, post and like repositories (and a recording
message service), with the contracts of the real ones: pages newest first, counters
in FakeUsers.stats kept as the real transactions keep them, Duplicate on a second
follow or like, False when the target does not exist."""
import copy
import itertools
from datetime import datetime, timezone
from types import SimpleNamespace

from tests.fakes import FakeFiles, FakeUsers
from weiguan.entities.errors import Duplicate
from weiguan.services.files import FileLinks
from weiguan.services.hydration import PostHydrator, UserHydrator
from weiguan.services.posts import PostService
from weiguan.services.users import UserService

IMAGE_META = {'name': 'a.jpg', 'size': 10, 'type': 'image/jpeg', 'width': 1, 'height': 1,
              'duration': 0}
VIDEO_META = {'name': 'a.mp4', 'size': 10, 'type': 'video/mp4', 'width': 1, 'height': 1,
              'duration': 3}


def _now() -> datetime:
    return datetime.now(timezone.utc)


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


class RecordingMessages:
    """MessageService's notify methods, recording instead of publishing."""

    def __init__(self):
        self.sent: list[tuple] = []

    async def notify_followed(self, follower_id: int, following_id: int) -> None:
        self.sent.append(('followed', follower_id, following_id))

    async def notify_liked(self, liker_id: int, post: dict) -> None:
        self.sent.append(('liked', liker_id, post['id']))


def make_social() -> SimpleNamespace:
    """The user and post services wired to fakes, with the fakes exposed."""
    files = FakeFiles()
    users = FakeUsers(files)
    follows, likes = FakeFollowRepo(users), FakeLikeRepo(users)
    posts = FakePostRepo(users, follows, likes)
    messages = RecordingMessages()
    links = FileLinks('http://testserver/files')
    user_hydrator = UserHydrator(users=users, files=files, follows=follows, links=links)
    return SimpleNamespace(
        users=users, files=files, follows=follows, likes=likes, posts=posts,
        messages=messages,
        user_service=UserService(users=users, follows=follows, hydrator=user_hydrator,
                                 messages=messages),
        post_service=PostService(posts=posts, likes=likes, files=files, users=users,
                                 hydrator=PostHydrator(user_hydrator, likes, links),
                                 messages=messages))
