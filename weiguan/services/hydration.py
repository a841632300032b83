"""Assembling list pages with a constant number of queries whatever their length:
one for all users (with stats), one for all files, one for the viewer's follows (and,
for posts, one for the viewer's likes)."""
import asyncio
from typing import Iterable


class UserHydrator:
    def __init__(self, users, files, follows, links):
        self.users = users
        self.files = files
        self.follows = follows
        self.links = links

    def present_user(self, user: dict, viewer_id: int | None, avatar: dict | None,
                     is_following: bool) -> dict:
        """Public view of a user row: no password; contact data for the owner only."""
        view = {k: v for k, v in user.items() if k != 'password'}
        if viewer_id != user['id']:
            view['mobile'] = None
            view['email'] = None
        view['avatar'] = self.links.present(avatar)
        view.setdefault('stat', None)
        if viewer_id is not None:
            view['is_following'] = is_following
        return view

    async def many(self, ids: Iterable[int], viewer_id: int | None,
                    extra_file_ids: Iterable[int] = ()) -> tuple[dict[int, dict], dict[int, dict]]:
        """Users by id, fully presented, and the raw files fetched along the way
        (avatars plus `extra_file_ids`, so a caller needing more files pays no
        extra query)."""
        ids = list(dict.fromkeys(i for i in ids if i is not None))
        extra_file_ids = set(extra_file_ids)

        async def users_then_files():  # the avatars' ids come with the users
            rows = await self.users.get_many_with_stats(ids)
            file_ids = {u['avatar_id'] for u in rows.values()} | extra_file_ids
            return rows, await self.files.get_many(file_ids)

        async def following_among():
            if viewer_id is None:
                return set()
            return await self.follows.following_among(viewer_id, ids)

        (rows, files), following = await asyncio.gather(users_then_files(),
                                                        following_among())
        presented = {uid: self.present_user(row, viewer_id, files.get(row['avatar_id']),
                                            uid in following)
                     for uid, row in rows.items()}
        return presented, files

    async def user(self, id: int, viewer_id: int | None) -> dict | None:
        presented, _ = await self.many([id], viewer_id)
        return presented.get(id)


class PostHydrator:
    """Posts (rows with their stat joined in) with author, images, video and the
    viewer's like: the authors' users, avatars and the posts' files come from
    UserHydrator.many in one batch, the likes from one query beside it."""

    def __init__(self, users: UserHydrator, likes, links):
        self.users = users
        self.likes = likes
        self.links = links

    async def _liked(self, viewer_id: int | None, post_ids: list[int]) -> set[int]:
        if viewer_id is None:
            return set()
        return await self.likes.liked_among(viewer_id, post_ids)

    async def many(self, posts: list[dict], viewer_id: int | None) -> list[dict]:
        if not posts:
            return []
        file_ids = {i for p in posts for i in (*p['image_ids'], p['video_id'])
                    if i is not None}
        (authors, files), liked = await asyncio.gather(
            self.users.many([p['user_id'] for p in posts], viewer_id,
                            extra_file_ids=file_ids),
            self._liked(viewer_id, [p['id'] for p in posts]))
        return [self.present(p, viewer_id, authors.get(p['user_id']), files,
                             p['id'] in liked) for p in posts]

    async def one(self, post: dict, viewer_id: int | None) -> dict:
        return (await self.many([post], viewer_id))[0]

    def present(self, post: dict, viewer_id: int | None, author: dict | None,
                files: dict[int, dict], is_liked: bool) -> dict:
        """A file that is gone is left out of `images` (and `video` is null)."""
        view = dict(post, user=author, video=self.links.present(files.get(post['video_id'])))
        view['images'] = [self.links.present(files[i]) for i in post['image_ids']
                          if i in files]
        view.setdefault('stat', None)
        if viewer_id is not None:
            view['is_liked'] = is_liked
        return view
