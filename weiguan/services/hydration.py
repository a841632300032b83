"""Assembling list pages with a constant number of queries whatever their length:
one for all users (with stats), one for all files, one for the viewer's follows."""
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
        rows = await self.users.get_many_with_stats(ids)
        file_ids = {u['avatar_id'] for u in rows.values()} | set(extra_file_ids)
        files = await self.files.get_many(file_ids)
        following = (await self.follows.following_among(viewer_id, ids)
                     if viewer_id is not None else set())
        presented = {uid: self.present_user(row, viewer_id, files.get(row['avatar_id']),
                                            uid in following)
                     for uid, row in rows.items()}
        return presented, files

    async def user(self, id: int, viewer_id: int | None) -> dict | None:
        presented, _ = await self.many([id], viewer_id)
        return presented.get(id)
