import sqlalchemy as sa

from .. import tables
from .base import Repository


class FollowRepository(Repository):
    table = tables.user_follow

    async def following_among(self, user_id: int, ids) -> set[int]:
        """Which of `ids` the user follows, in one statement."""
        ids = {i for i in ids if i is not None}
        if not ids:
            return set()
        t = self.table
        async with self.db.connection() as conn:
            result = await conn.execute(sa.select(t.c.following_id).where(
                t.c.user_id == user_id, t.c.following_id.in_(ids)))
            return set(result.scalars())
