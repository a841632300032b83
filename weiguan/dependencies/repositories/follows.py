import sqlalchemy as sa

from .. import tables
from . import counters
from ..database import EngineStatements, retry_conflicts
from ..prepared import Prepared
from .base import IDS, Repository, param

follow = tables.user_follow
FOLLOWING_AMONG = Prepared(sa.select(follow.c.following_id).where(
    follow.c.user_id == param('user_id'), follow.c.following_id.in_(IDS)))
FOLLOWING_IDS = Prepared(sa.select(follow.c.following_id).where(
    follow.c.user_id == param('user_id')).limit(param('limit')))
# newest follow first
FOLLOWINGS = Prepared(sa.select(follow.c.following_id.label('id'))
                      .where(follow.c.user_id == param('user_id'))
                      .order_by(follow.c.id.desc()).limit(param('limit'))
                      .offset(param('offset')))
FOLLOWERS = Prepared(sa.select(follow.c.user_id.label('id'))
                     .where(follow.c.following_id == param('user_id'))
                     .order_by(follow.c.id.desc()).limit(param('limit'))
                     .offset(param('offset')))

FOLLOWERS_AFTER = Prepared(sa.select(follow.c.id, follow.c.user_id)
                           .where(follow.c.following_id == param('user_id'),
                                  follow.c.id > param('after_id'))
                           .order_by(follow.c.id).limit(param('limit')))


class FollowRepository(Repository):
    table = tables.user_follow

    async def following_among(self, user_id: int, ids) -> set[int]:
        """Which of `ids` the user follows, in one statement."""
        ids = {i for i in ids if i is not None}
        if not ids:
            return set()
        rows = await self.db.fetch_all(FOLLOWING_AMONG, user_id=user_id, ids=list(ids))
        return {row['following_id'] for row in rows}

    async def following_ids(self, user_id: int, limit: int) -> list[int]:
        """Ids of users the user follows, at most `limit` of them, in no given order."""
        rows = await self.db.fetch_all(FOLLOWING_IDS, user_id=user_id, limit=limit)
        return [row['following_id'] for row in rows]

    @retry_conflicts
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
            await counters.add_to_users(EngineStatements(conn), {
                user_id: {'following_count': 1}, following_id: {'follower_count': 1}})
        return True

    @retry_conflicts
    async def unfollow(self, user_id: int, following_id: int) -> bool:
        """Remove the follow and uncount it; False when there was none."""
        t = self.table
        async with self.db.transaction() as conn:
            deleted = (await conn.execute(t.delete().where(
                t.c.user_id == user_id, t.c.following_id == following_id))).rowcount
            if not deleted:
                return False
            await counters.add_to_users(EngineStatements(conn), {
                user_id: {'following_count': -1}, following_id: {'follower_count': -1}})
        return True

    async def followings(self, user_id: int, limit: int, offset: int) -> list[int]:
        """Ids of the users `user_id` follows, newest follow first."""
        return await self._ids(FOLLOWINGS, user_id, limit, offset)

    async def followers(self, user_id: int, limit: int, offset: int) -> list[int]:
        """Ids of the users following `user_id`, newest follow first."""
        return await self._ids(FOLLOWERS, user_id, limit, offset)

    async def followers_after(self, user_id: int, after_id: int,
                              limit: int) -> list[tuple[int, int]]:
        """(follow id, follower id) of the follows of `user_id` after the follow
        `after_id`, oldest first: keyset batches on user_follow(following_id, id)."""
        rows = await self.db.fetch_all(FOLLOWERS_AFTER, user_id=user_id, after_id=after_id,
                                       limit=limit)
        return [(row['id'], row['user_id']) for row in rows]

    async def _ids(self, prepared: Prepared, user_id: int, limit: int,
                   offset: int) -> list[int]:
        rows = await self.db.fetch_all(prepared, user_id=user_id, limit=limit,
                                       offset=offset)
        return [row['id'] for row in rows]
