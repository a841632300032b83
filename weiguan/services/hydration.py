"""Assembling list pages with a constant number of queries whatever their length:
one for all users (with their stats and avatars joined), one for the posts' files,
one for the viewer's follows (and, for posts, one for the viewer's likes), all
sent at once."""
from typing import Any, Awaitable, Iterable

import cachebox

from .concurrency import concurrently
from .file_links import FileLinks
from .ports import FileRepository, FollowRepository, LikeRepository, Row, UserRepository


# Views kept per process and kind (~1 KB each, and as much for the dump kept of each:
# entities/views.py); a timeline page presents 20 posts and up to 20 users.
PRESENTED_VIEWS = 4096


class Presented:
    """Views kept by the identity of what they were made of: rows the repositories
    hand out again and again while they hold (a profile or a post joined to its stat
    row, a file: dependencies/caches.py), and the viewer's flags. A key is the ids of
    those parts, and its entry holds them, so while it lives no other object can
    have one of those ids: a key found names the very same parts, and the view made
    of them is the same object again, dumped once (entities/views.py). A changed row
    is another object, so its view is made anew. Never change a view."""

    def __init__(self, max_entries: int = PRESENTED_VIEWS):
        self._held: cachebox.LRUCache[tuple[Any, ...], tuple[Any, Row]] = \
            cachebox.LRUCache(max_entries)  # key -> (parts, view)

    def get(self, key: tuple[Any, ...]) -> Row | None:
        held = self._held.get(key)
        return None if held is None else held[1]

    def put(self, key: tuple[Any, ...], parts: tuple[Any, ...], view: Row) -> Row:
        self._held[key] = (parts, view)
        return view


class UserHydrator:
    def __init__(self, users: UserRepository, files: FileRepository,
                 follows: FollowRepository, links: FileLinks):
        self.users = users
        self.files = files
        self.follows = follows
        self.links = links
        self._views = Presented()

    def present_user(self, user: Row, viewer_id: int | None, avatar: Row | None,
                     is_following: bool) -> Row:
        """Public view of a user row: no password; contact data for the owner only."""
        key = (id(user), id(avatar), viewer_id is None, viewer_id == user['id'], is_following)
        return self._views.get(key) or self._views.put(
            key, (user, avatar), self._present_user(user, viewer_id, avatar, is_following))

    def _present_user(self, user: Row, viewer_id: int | None, avatar: Row | None,
                      is_following: bool) -> Row:
        view = dict(user)  # a copy, then one key out: a fifth of a comprehension's CPU
        view.pop('password', None)
        if viewer_id != user['id']:
            view['mobile'] = None
            view['email'] = None
        view['avatar'] = self.links.present(avatar)
        view.setdefault('stat', None)
        if viewer_id is not None:
            view['is_following'] = is_following
        return view

    async def many(self, ids: Iterable[int], viewer_id: int | None,
                   extra_file_ids: Iterable[int] = ()) -> tuple[dict[int, Row], dict[int, Row]]:
        """Users by id, fully presented (avatars come joined to the users), and the
        files `extra_file_ids` names, fetched beside them so a caller needing more
        files pays no extra round trip; which of them the viewer follows too."""
        ids = list(dict.fromkeys(i for i in ids if i is not None))
        rows, files, followed = await concurrently(*self.reads(ids, viewer_id, extra_file_ids))
        return self.presented(rows, viewer_id, followed), files or {}

    def reads(self, ids: list[int], viewer_id: int | None,
              file_ids: Iterable[int]) -> tuple[Awaitable[Any] | None, ...]:
        """The reads of `many` (distinct `ids`), not started: the users with their
        stats, the files (None: none asked for), the viewer's follows among them
        (None: no viewer, or nobody else). A caller with reads of its own runs them
        all at once (concurrently: each read beside the first costs a task)."""
        file_ids = list(file_ids)
        others = [i for i in ids if i != viewer_id]  # nobody follows themselves
        return (self.users.get_many_with_stats(ids),
                self.files.get_many(file_ids) if file_ids else None,
                self.follows.following_among(viewer_id, others)
                if viewer_id is not None and others else None)

    def presented(self, rows: dict[int, Row], viewer_id: int | None,
                  followed: set[int] | None) -> dict[int, Row]:
        followed = followed or set()
        return {uid: self.present_user(row, viewer_id, row.get('avatar'), uid in followed)
                for uid, row in rows.items()}

    async def user(self, id: int, viewer_id: int | None) -> Row | None:
        presented, _ = await self.many([id], viewer_id)
        return presented.get(id)


class PostHydrator:
    """Posts (rows with their stat joined in) with author, images, video and the
    viewer's like: the authors' users, avatars and the posts' files (the reads of
    UserHydrator.many) and the viewer's likes are read at once, in one batch."""

    def __init__(self, users: UserHydrator, likes: LikeRepository, links: FileLinks):
        self.users = users
        self.likes = likes
        self.links = links
        self._views = Presented()

    async def many(self, posts: list[Row], viewer_id: int | None) -> list[Row]:
        if not posts:
            return []
        return self._presented(posts, viewer_id, *await concurrently(
            *self._reads(posts, viewer_id)))

    async def one(self, post: Row, viewer_id: int | None) -> Row:
        return (await self.many([post], viewer_id))[0]

    async def one_read_beside(self, read: Awaitable[Row], body: Row,
                              viewer_id: int | None) -> Row:
        """The post that `read` answers (with its stat; it raises when the post is
        gone), presented, with its author's, files' and like's reads sent beside it:
        `body`, the same post as this process holds it, names them. One round trip
        where reading the post first makes two."""
        post, *reads = await concurrently(read, *self._reads([body], viewer_id))
        if any(post[k] != body[k] for k in ('user_id', 'image_ids', 'video_id')):
            return await self.one(post, viewer_id)  # not the post held: an id given again
        return self._presented([post], viewer_id, *reads)[0]

    def _reads(self, posts: list[Row], viewer_id: int | None) -> tuple[Awaitable[Any] | None, ...]:
        file_ids = {i for p in posts for i in (*p['image_ids'], p['video_id'])
                    if i is not None}
        authors = list(dict.fromkeys(p['user_id'] for p in posts))
        return (*self.users.reads(authors, viewer_id, file_ids),
                None if viewer_id is None else
                self.likes.liked_among(viewer_id, [p['id'] for p in posts]))

    def _presented(self, posts: list[Row], viewer_id: int | None, rows: dict[int, Row],
                   files: dict[int, Row] | None, followed: set[int] | None,
                   liked: set[int] | None) -> list[Row]:
        users, files = self.users.presented(rows, viewer_id, followed), files or {}
        return [self.present(p, viewer_id, users.get(p['user_id']), files,
                             liked is not None and p['id'] in liked) for p in posts]

    def present(self, post: Row, viewer_id: int | None, author: Row | None,
                files: dict[int, Row], is_liked: bool) -> Row:
        """A file that is gone is left out of `images` (and `video` is null)."""
        media = (files.get(post['video_id']), *map(files.get, post['image_ids']))
        key = (id(post), id(author), viewer_id is None, is_liked, *map(id, media))
        return self._views.get(key) or self._views.put(
            key, (post, author, media), self._present(post, viewer_id, author, media, is_liked))

    def _present(self, post: Row, viewer_id: int | None, author: Row | None,
                 media: tuple[Row | None, ...], is_liked: bool) -> Row:
        video, *images = media
        view = dict(post, user=author, video=self.links.present(video))
        view['images'] = [self.links.present(file) for file in images if file is not None]
        view.setdefault('stat', None)
        if viewer_id is not None:
            view['is_liked'] = is_liked
        return view
