import sqlalchemy as sa

from .. import tables
from . import counters
from .base import IDS, Repository


FOLLOWING_AMONG = sa.select(tables.user_follow.c.following_id).where(
    tables.user_follow.c.user_id == sa.bindparam('user_id'),
    tables.user_follow.c.following_id.in_(IDS))


class FollowRepository(Repository):
    table = tables.user_follow

    async def following_among(self, user_id: int, ids) -> set[int]:
        """Which of `ids` the user follows, in one statement."""
        ids = {i for i in ids if i is not None}
        if not ids:
            return set()
        async with self.db.connection() as conn:
            result = await conn.execute(FOLLOWING_AMONG, {'user_id': user_id,
                                                          'ids': list(ids)})
            return set(result.scalars())

    async def follow(self, user_id: int, following_id: int) -> bool:
        """Record the follow and count it. False when `following_id` names no user;
        Duplicate (from the unique index) when the follow exists already."""
        t, user = self.table, tables.user
        # INSERT ... SELECT: the row is written only if the user exists at that moment
        # (created_at/updated_at come from the column defaults).
        target = sa.select(sa.literal(user_id), user.c.id).where(user.c.id == following_id)
        async with self.db.transaction() as conn:
            inserted = (await conn.execute(t.insert().from_select(
                ['user_id', 'following_id'], target))).rowcount
            if not inserted:
                return False
            await counters.add_to_users(self.db, conn, {
                user_id: {'following_count': 1}, following_id: {'follower_count': 1}})
        return True

    async def unfollow(self, user_id: int, following_id: int) -> bool:
        """Remove the follow and uncount it; False when there was none."""
        t = self.table
        async with self.db.transaction() as conn:
            deleted = (await conn.execute(t.delete().where(
                t.c.user_id == user_id, t.c.following_id == following_id))).rowcount
            if not deleted:
                return False
            await counters.add_to_users(self.db, conn, {
                user_id: {'following_count': -1}, following_id: {'follower_count': -1}})
        return True

    async def followings(self, user_id: int, limit: int, offset: int) -> list[int]:
        """Ids of the users `user_id` follows, newest follow first."""
        t = self.table
        return await self._ids(sa.select(t.c.following_id).where(t.c.user_id == user_id)
                               .order_by(t.c.id.desc()).limit(limit).offset(offset))

    async def followers(self, user_id: int, limit: int, offset: int) -> list[int]:
        """Ids of the users following `user_id`, newest follow first."""
        t = self.table
        return await self._ids(sa.select(t.c.user_id).where(t.c.following_id == user_id)
                               .order_by(t.c.id.desc()).limit(limit).offset(offset))

    async def _ids(self, query) -> list[int]:
        async with self.db.connection() as conn:
            return list((await conn.execute(query)).scalars())
